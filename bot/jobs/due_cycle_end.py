"""What a cycle's end owes, pure like `bot.jobs.due`: from the moment a cycle is in grading
until its grading deadline, one grading DM to each person with key results to grade and one
retrospective poll in each team channel with objectives in the cycle; one grading reminder a
day before the deadline to those with grades missing; once the deadline has passed (and the
clock has finished the grading), one summary per team and one for the company.

The state change itself (active → grading, grading → closed) is made by
`services.cycle_end` before the snapshot is read; the keys make every item once only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.jobs.due_data import OutboxDue
from bot.models.outbox_keys import (
    Kind,
    cycle_period,
    notice_key,
    person_cycle_key,
    team_cycle_key,
)
from bot.okr.cycle_end import NEXT_CYCLE_ASK

SUMMARY_WINDOW = timedelta(days=2)  # a summary not sent this long after the deadline is dropped


@dataclass(frozen=True)
class CycleEndDue:
    """A cycle in grading (or just closed) and whom its end concerns."""

    id: int
    workspace_id: int
    name: str
    state: str  # grading | closed
    acting: bool  # the workspace is installed and not paused
    started_at: datetime
    grading_ends_at: datetime
    retro_ends_at: datetime
    # Person id -> the key results they grade (their own; a deactivated owner's go to the
    # team lead, else a facilitator), and of those the ones not graded yet.
    graders: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    ungraded: frozenset[int] = frozenset()
    teams: Mapping[int, str] = field(default_factory=dict)  # team id -> channel
    company_channel: str | None = None
    queued: frozenset[str] = frozenset()  # this cycle's cycle-end keys, any state
    # Carry-over, once closed: people with offers not decided yet, whether the next cycle
    # exists, and the facilitators asked to create it when it does not.
    offered: frozenset[int] = frozenset()
    next_cycle: bool = False
    facilitators: tuple[int, ...] = ()


def _reminder_at(cycle: CycleEndDue) -> datetime:
    return max(cycle.started_at, cycle.grading_ends_at - timedelta(days=1))


def _grading(now: datetime, cycle: CycleEndDue) -> Iterable[OutboxDue]:
    if cycle.state != "grading" or not now < cycle.grading_ends_at:
        return
    reminder_at, period = _reminder_at(cycle), cycle_period(cycle.id)
    for person_id, key_results in sorted(cycle.graders.items()):
        extra = {"person_id": person_id, "cycle_id": cycle.id}
        key = person_cycle_key(Kind.GRADING, cycle.workspace_id, person_id, cycle.id)
        if key not in cycle.queued:
            yield OutboxDue(
                cycle.workspace_id, Kind.GRADING, key, str(person_id), period, now,
                cycle.grading_ends_at, (), extra,
            )  # fmt: skip
            continue
        missing = [kr for kr in key_results if kr in cycle.ungraded]
        remind = person_cycle_key(Kind.GRADING_REMINDER, cycle.workspace_id, person_id, cycle.id)
        if missing and remind not in cycle.queued and reminder_at <= now:
            yield OutboxDue(
                cycle.workspace_id, Kind.GRADING_REMINDER, remind, str(person_id), period,
                reminder_at, cycle.grading_ends_at, (), extra,
            )  # fmt: skip


def _retros(now: datetime, cycle: CycleEndDue) -> Iterable[OutboxDue]:
    if cycle.state != "grading" or not now < cycle.retro_ends_at:
        return
    period = cycle_period(cycle.id)
    for team_id, channel in sorted(cycle.teams.items()):
        key = team_cycle_key(Kind.RETRO, cycle.workspace_id, team_id, cycle.id)
        if key not in cycle.queued:
            yield OutboxDue(
                cycle.workspace_id, Kind.RETRO, key, str(team_id), period, now,
                cycle.retro_ends_at, (), {"team_id": team_id, "channel": channel,
                                          "cycle_id": cycle.id},
            )  # fmt: skip


def _summaries(now: datetime, cycle: CycleEndDue) -> Iterable[OutboxDue]:
    """Once grading is finished (the cycle closed), until `SUMMARY_WINDOW` after it."""
    deadline = max(cycle.grading_ends_at, cycle.retro_ends_at)
    if cycle.state != "closed" or not deadline <= now < deadline + SUMMARY_WINDOW:
        return
    period = cycle_period(cycle.id)
    targets: list[tuple[str, str, dict[str, object]]] = [
        (str(team_id), channel, {"team_id": team_id}) for team_id, channel in cycle.teams.items()
    ]
    if cycle.company_channel:
        targets.append(("company", cycle.company_channel, {}))
    for scope, channel, extra in sorted(targets, key=lambda t: t[0]):
        key = team_cycle_key(Kind.SUMMARY, cycle.workspace_id, scope, cycle.id)
        if key not in cycle.queued:
            yield OutboxDue(
                cycle.workspace_id, Kind.SUMMARY, key, scope, period, now,
                deadline + SUMMARY_WINDOW, (),
                {**extra, "channel": channel, "cycle_id": cycle.id, "scope": scope},
            )  # fmt: skip


def _carry_overs(now: datetime, cycle: CycleEndDue) -> Iterable[OutboxDue]:
    """Each person with offers gets one carry-over DM once the next cycle exists; until
    then each facilitator is asked once to create it."""
    if cycle.state != "closed" or not cycle.offered:
        return
    period = cycle_period(cycle.id)
    later = now + timedelta(days=30)  # an offer stays useful while the next cycle is planned
    if cycle.next_cycle:
        for person_id in sorted(cycle.offered):
            key = person_cycle_key(Kind.CARRY_OVER, cycle.workspace_id, person_id, cycle.id)
            if key not in cycle.queued:
                yield OutboxDue(
                    cycle.workspace_id, Kind.CARRY_OVER, key, str(person_id), period, now,
                    later, (), {"person_id": person_id, "cycle_id": cycle.id},
                )  # fmt: skip
        return
    day = cycle.grading_ends_at.date()
    for person_id in cycle.facilitators:
        key = notice_key(cycle.workspace_id, f"cycle{cycle.id}", NEXT_CYCLE_ASK, day, person_id)
        if key not in cycle.queued:
            yield OutboxDue(
                cycle.workspace_id, Kind.NOTICE, key, str(person_id), period, now, later, (),
                {"person_id": person_id, "cycle_id": cycle.id, "ask": NEXT_CYCLE_ASK},
            )  # fmt: skip


def cycle_end_items(now: datetime, cycles: Iterable[CycleEndDue]) -> list[OutboxDue]:
    """Every grading DM, reminder, retro poll and summary owed at `now`."""
    owed: list[OutboxDue] = []
    for cycle in cycles:
        if not cycle.acting:
            continue
        owed.extend(_grading(now, cycle))
        owed.extend(_retros(now, cycle))
        owed.extend(_summaries(now, cycle))
        owed.extend(_carry_overs(now, cycle))
    return owed
