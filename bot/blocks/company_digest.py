"""The company digest as Block Kit: one message for the company channel (or a facilitator's DM).

Each company objective with its own progress and, beside it, the roll-up of the objectives
aligned to it (DESIGN: shown beside, not mixed in); the at-risk and off-track key results
under it; participation by team for the latest finished week. Lists are cut with "…and N
more" so the message stays within Slack's limits (50 blocks, 3000 characters a section,
about 13,000 in all); everything a person typed is escaped, people are mentioned by their
stored Slack ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.digest import COMMITTED_MARK, STATUS_LABEL, pace
from bot.blocks.okrs import outdated_mark, progress_bar
from bot.blocks.text import context, escape, header, section

MAX_OBJECTIVES = 12  # each takes up to three blocks
MAX_BLOCKS = 48
TOTAL_CHARS = 11_500  # of the blocks as JSON, below Slack's ~13k
SECTION_CHARS = 2800
TITLE_MAX = 120
LISTED_TITLE_MAX = 60
MAX_ATTENTION = 8  # key results listed under one objective


@dataclass(frozen=True)
class AttentionKeyResult:
    ref: str
    title: str  # as typed
    status: str  # at_risk | off_track
    progress: float  # clamped
    owner_slack_id: str | None
    via: str | None = None  # the aligned objective's ref, None: the company objective's own
    outdated: bool = False  # no check-in for a while: at risk at best, whatever was reported


@dataclass(frozen=True)
class CompanyObjective:
    ref: str
    title: str  # as typed
    progress: float | None  # its own key results
    rollup: float | None  # everything aligned below it, shown beside
    aligned: int  # team objectives aligned to it
    attention: tuple[AttentionKeyResult, ...]
    committed: bool = False  # expected to land at 1.0 (else aspirational)


@dataclass(frozen=True)
class TeamWeek:
    name: str  # as typed
    week: str
    checked: int
    due: int


@dataclass(frozen=True)
class CompanyDigest:
    cycle: str  # as typed
    day: str  # the workspace's local date
    expected: float
    objectives: tuple[CompanyObjective, ...]
    participation: tuple[TeamWeek, ...]
    everyone: TeamWeek | None = None  # each person once over the weeks shown


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


def attention_line(kr: AttentionKeyResult) -> str:
    owner = f" · <@{kr.owner_slack_id}>" if kr.owner_slack_id else ""
    via = f" (via *{escape(kr.via)}*)" if kr.via else ""
    label = STATUS_LABEL.get(kr.status, escape(kr.status))
    return (
        f"• {label} *{escape(kr.ref)}* {_cut(kr.title, LISTED_TITLE_MAX)}{via} · "
        f"{_percent(kr.progress)}{owner}{outdated_mark(kr.outdated)}"
    )


def objective_text(objective: CompanyObjective, expected: float) -> str:
    aligned = (
        f"aligned ({objective.aligned} team objective{'s' if objective.aligned != 1 else ''}): "
        f"{_percent(objective.rollup)}"
        if objective.aligned or objective.rollup is not None
        else "nothing aligned yet"
    )
    return (
        f"*{escape(objective.ref)}* {_cut(objective.title, TITLE_MAX)}\n"
        f"{progress_bar(objective.progress)} · {pace(objective.progress, expected)}"
        f"{COMMITTED_MARK if objective.committed else ''}\n"
        f"Beside it, {aligned}"
    )


def _lines_section(lines: Sequence[str], *, noun: str, keep: int) -> dict[str, Any]:
    """Up to `keep` lines within a section's characters, then "…and N more"."""
    kept: list[str] = []
    used = 0
    for line in lines[:keep]:
        if used + len(line) + 1 > SECTION_CHARS - 60:
            break
        kept.append(line)
        used += len(line) + 1
    if len(kept) < len(lines):
        kept.append(f"_…and {len(lines) - len(kept)} more {noun}_")
    return section("\n".join(kept))


def participation_line(team: TeamWeek) -> str:
    share = f" ({round(team.checked * 100 / team.due)} %)" if team.due else ""
    return f"{_cut(team.name, 40)} · {team.week}: {team.checked}/{team.due} checked in{share}"


def _chars(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def build_company_digest(data: CompanyDigest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        header(f"Company digest · {data.cycle}"),
        context(f"{data.day} · {_percent(data.expected)} of the cycle gone"),
    ]
    tail: list[dict[str, Any]] = [{"type": "divider"}, section("*Participation by team*")]
    if data.participation:
        lines = [participation_line(t) for t in data.participation]
        tail.append(_lines_section(lines, noun="teams", keep=len(lines)))
        if data.everyone is not None:
            tail.append(section(f"*{participation_line(data.everyone)}*"))
    else:
        tail.append(context("No team has finished a week of this cycle yet."))
    if not data.objectives:
        blocks.append(section("No company objectives in this cycle yet."))
    shown = 0
    for objective in data.objectives[:MAX_OBJECTIVES]:
        part = [section(objective_text(objective, data.expected))]
        if objective.attention:
            lines = [attention_line(kr) for kr in objective.attention]
            part.append(_lines_section(lines, noun="key results", keep=MAX_ATTENTION))
        if (
            len(blocks) + len(part) + len(tail) + 1 > MAX_BLOCKS
            or _chars(blocks + part + tail) > TOTAL_CHARS
        ):
            break
        blocks.extend(part)
        shown += 1
    if shown < len(data.objectives):
        blocks.append(context(f"…and {len(data.objectives) - shown} more company objectives"))
    return blocks + tail


def company_digest_text(data: CompanyDigest) -> str:
    """The fallback text (notifications, screen readers): escaped like the blocks."""
    return f"Company digest · {_cut(data.cycle, 40)} · {data.day}"
