"""What `bot.jobs.due` reads and returns: the snapshot of schedules, people and key results,
and the outbox items it owes (plain frozen dataclasses, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.models import outbox_keys
from bot.okr.period import label, monday_of
from bot.okr.schedule import DEFAULT_DIGEST_DELAY, DEFAULT_REMINDER_DELAY

if TYPE_CHECKING:
    from bot.jobs.due_cycle_end import CycleEndDue


@dataclass(frozen=True)
class Schedule:
    weekday: int  # 0 = Monday
    at: time
    tz: ZoneInfo

    def instant(self, week: str, tz: ZoneInfo | None = None) -> datetime:
        """This schedule's weekday and time in week `week`, read in `tz` (default: its own)."""
        day = monday_of(week) + timedelta(days=self.weekday)
        return datetime.combine(day, self.at, tzinfo=tz or self.tz)


@dataclass(frozen=True)
class Round:
    """Whose week a key result follows: a team's, or the workspace default (team_id None)."""

    team_id: int | None
    schedule: Schedule
    digest_delay: timedelta = DEFAULT_DIGEST_DELAY
    reminder_delay: timedelta = DEFAULT_REMINDER_DELAY
    channel_id: str | None = None
    paused: bool = False
    skipped: frozenset[str] = frozenset()

    def takes_place(self, week: str) -> bool:
        return not self.paused and week not in self.skipped


@dataclass(frozen=True)
class KeyResultDue:
    id: int
    workspace_id: int
    owner_id: int | None
    team_id: int | None  # the round it follows; None = the workspace default schedule
    cycle_start: date
    cycle_end: date

    def in_cycle(self, day: date) -> bool:
        return self.cycle_start <= day <= self.cycle_end


@dataclass(frozen=True)
class PersonDue:
    id: int
    workspace_id: int
    tz: ZoneInfo
    away: tuple[tuple[date, date], ...] = ()
    active: bool = True

    def away_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.away)


@dataclass(frozen=True)
class WorkspaceDue:
    id: int
    default: Round  # team_id None
    acting: bool = True  # installed and not paused
    company_channel: str | None = None  # `/okr settings`; None: the company digest goes by DM
    open_cycle: bool = True
    # The company digest's weekday and time (`/okr settings`); None: as the weekly report.
    company_weekday: int | None = None
    company_time: time | None = None


@dataclass(frozen=True)
class FacilitatorDue:
    id: int
    workspace_id: int
    role: str  # facilitator | admin
    active: bool = True


@dataclass(frozen=True)
class Snapshot:
    workspaces: Mapping[int, WorkspaceDue]
    teams: Mapping[int, Round]
    people: Mapping[int, PersonDue]
    key_results: tuple[KeyResultDue, ...]
    checked_in: frozenset[tuple[int, str]] = frozenset()  # (key result, period) with a value
    queued: frozenset[str] = frozenset()  # idempotency keys already in the outbox
    # `/okr checkin now`: team id -> the instant its round of that week was started by hand.
    started: Mapping[int, datetime] = field(default_factory=dict)
    # Digest rows near now: every key (cancelled ones too: a cancelled part ends its chain)
    # and the keys of those sent; and the (key result, period) lines of sent check-in DMs the
    # DM sweep has not read yet.
    digests: frozenset[str] = frozenset()
    digests_sent: frozenset[str] = frozenset()
    unswept: frozenset[tuple[int, str]] = frozenset()
    # The digest chart: (workspace, team, period) -> (channel, ts) of each sent scheduled
    # digest's part 1 near now (the thread the chart goes in), and the chart keys queued in
    # any state (a cancelled chart stays cancelled).
    digest_threads: Mapping[tuple[int, int, str], tuple[str, str]] = field(default_factory=dict)
    charts: frozenset[str] = frozenset()
    # The weekly report DM: facilitators and admins, and the report keys already queued.
    facilitators: tuple[FacilitatorDue, ...] = ()
    reports: frozenset[str] = frozenset()
    company_digests: frozenset[str] = frozenset()  # company digest keys queued, any state
    cycle_ends: tuple[CycleEndDue, ...] = ()  # cycles in grading or just closed
    # Metric pulls (`bot.jobs.due_pulls`): key results with a source, and pull keys queued.
    sourced: frozenset[int] = frozenset()
    pulls: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OutboxDue:
    workspace_id: int
    kind: str
    key: str
    target: str
    period: str
    send_at: datetime
    deadline: datetime
    lines: tuple[tuple[int, str], ...]  # (key result id, period), in display order
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def priority(self) -> int:
        return outbox_keys.priority(self.kind)

    def payload(self) -> dict[str, Any]:
        return {
            "lines": [list(line) for line in self.lines],
            "deadline": self.deadline.isoformat(),
            "send_at": self.send_at.isoformat(),
            **self.extra,
        }


def weeks_around(now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """Last week's and this week's labels in `tz`: the only rounds that can still be owed."""
    today = now.astimezone(tz).date()
    return label(today - timedelta(days=7)), label(today)
