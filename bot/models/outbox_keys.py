"""Outbox kinds, their idempotency keys and their send order: the one place for each.

The keys are DESIGN.md's outbox table (`ws` = the workspace's primary key); a key names one
message for good, so two ticks, a retried insert or a second sender can never send it twice.
Jobs and services both build rows from here; nothing here imports either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final


class Kind:
    """The outbox's kinds (the `kind` column's allowed values)."""

    PROMPT: Final = "prompt"
    DM: Final = "dm"
    REMINDER: Final = "reminder"
    PULL: Final = "pull"
    DIGEST: Final = "digest"
    COMPANY_DIGEST: Final = "company_digest"
    REPORT: Final = "report"
    UPDATE: Final = "update"
    GRADING: Final = "grading"
    GRADING_REMINDER: Final = "grading_reminder"
    CARRY_OVER: Final = "carry_over"
    RETRO: Final = "retro"
    SUMMARY: Final = "summary"
    NOTICE: Final = "notice"
    CHART: Final = "chart"


OUTBOX_KINDS: Final = (
    Kind.PROMPT,
    Kind.DM,
    Kind.REMINDER,
    Kind.PULL,
    Kind.DIGEST,
    Kind.COMPANY_DIGEST,
    Kind.REPORT,
    Kind.UPDATE,
    Kind.GRADING,
    Kind.GRADING_REMINDER,
    Kind.CARRY_OVER,
    Kind.RETRO,
    Kind.SUMMARY,
    Kind.NOTICE,
    Kind.CHART,
)
# The weekly ceremony's messages: the clock owes them, they list key results to check in on.
CEREMONY_KINDS: Final = (Kind.PROMPT, Kind.DM, Kind.REMINDER)
PERSON_CYCLE_KINDS: Final = (Kind.GRADING, Kind.GRADING_REMINDER, Kind.CARRY_OVER)
TEAM_CYCLE_KINDS: Final = (Kind.RETRO, Kind.SUMMARY)

# Lower goes first. Prompts, then DMs and reminders; a notice about a failed delivery after
# them; a prompt's coalescing edit (`update`) below prompts and DMs; a team's digest after
# all of those (it can wait a minute, a check-in DM cannot); its chart after the digest (it is
# posted in the digest's thread).
PRIORITY: Final[Mapping[str, int]] = {
    Kind.PROMPT: 10,
    Kind.DM: 20,
    Kind.REMINDER: 30,
    Kind.NOTICE: 40,
    Kind.UPDATE: 50,
    Kind.DIGEST: 60,
    Kind.CHART: 70,
}
DEFAULT_PRIORITY: Final = 100  # a kind without its own place in the order


def priority(kind: str) -> int:
    return PRIORITY.get(kind, DEFAULT_PRIORITY)


def prompt_key(workspace_id: int, team_id: int, period: str) -> str:
    """A team's round message in its channel, at P."""
    return f"{Kind.PROMPT}:{workspace_id}:{team_id}:{period}"


def dm_key(workspace_id: int, person_id: int, week: str) -> str:
    """A person's one check-in DM a week (`week`: ISO week of the send instant in their tz)."""
    return f"{Kind.DM}:{workspace_id}:{person_id}:{week}"


def reminder_key(workspace_id: int, person_id: int, week: str) -> str:
    return f"{Kind.REMINDER}:{workspace_id}:{person_id}:{week}"


def pull_key(workspace_id: int, key_result_id: int, period_or_request: str) -> str:
    """A metric fetch ahead of P (or on demand, named by its request id)."""
    return f"{Kind.PULL}:{workspace_id}:{key_result_id}:{period_or_request}"


def digest_key(workspace_id: int, team_id: int, period: str, part: int | str) -> str:
    """A team's digest at D, one key a part (`part` 1..n; `manual-<request>` for a post by
    hand, whose later parts are `manual-<request>-<n>`)."""
    return f"{Kind.DIGEST}:{workspace_id}:{team_id}:{period}:{part}"


def chart_key(workspace_id: int, team_id: int, period: str) -> str:
    """A team digest's chart, posted in the thread of the digest's part 1."""
    return f"{Kind.CHART}:{workspace_id}:{team_id}:{period}"


def company_digest_key(workspace_id: int, day: date, person_id: int | None = None) -> str:
    """The company digest of `day`: one in the company channel, or, with none set, one for
    each facilitator by DM (then the person ends the key)."""
    key = f"{Kind.COMPANY_DIGEST}:{workspace_id}:{day.isoformat()}"
    return key if person_id is None else f"{key}:{person_id}"


def report_key(workspace_id: int, person_id: int, day: date) -> str:
    return f"{Kind.REPORT}:{workspace_id}:{person_id}:{day.isoformat()}"


def update_key(workspace_id: int, channel: str, ts: str) -> str:
    """The coalescing `chat.update` of one posted message."""
    return f"{Kind.UPDATE}:{workspace_id}:{channel}:{ts}"


def person_cycle_key(kind: str, workspace_id: int, person_id: int, cycle_id: int) -> str:
    """Cycle end, one a person: grading, grading_reminder, carry_over."""
    if kind not in PERSON_CYCLE_KINDS:
        raise ValueError(f"{kind} is not a person's cycle-end kind")
    return f"{kind}:{workspace_id}:{person_id}:{cycle_id}"


def team_cycle_key(kind: str, workspace_id: int, team: int | str, cycle_id: int) -> str:
    """Cycle end, one a team (or `company`): retro, summary."""
    if kind not in TEAM_CYCLE_KINDS:
        raise ValueError(f"{kind} is not a team's cycle-end kind")
    return f"{kind}:{workspace_id}:{team}:{cycle_id}"


def cycle_period(cycle_id: int) -> str:
    """A cycle-end row's `period` (the column holds 8 characters, a cycle name up to 40)."""
    return f"C{cycle_id}"


def notice_key(workspace_id: int, target: str, error: str, day: date, person_id: int) -> str:
    """A delivery problem told to one person: one a day per failed target and error."""
    return f"{Kind.NOTICE}:{workspace_id}:{target}:{error}:{day.isoformat()}:{person_id}"
