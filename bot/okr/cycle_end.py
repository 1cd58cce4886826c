"""The end of a cycle: when it ends, how long grading and the retrospective last, and the
rules a grade is checked by.

A cycle ends at its end date + 1 day, 00:00 in the workspace's zone (the same instant expected
progress reaches 1). Grading lasts `GRADING_DAYS` from the moment it starts (the end, or an
earlier `/okr cycle close`); the retrospective lasts as long unless set otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.okr.grading import to_grade
from bot.okr.progress import cycle_bounds

GRADING_DAYS = 5  # default: a working week to grade and answer the retrospective
GRADING_DAYS_MAX = 30
REMINDER_BEFORE = timedelta(days=1)  # one grading reminder, this long before the deadline
REASON_GAP = Decimal("0.30")  # a grade further than this from measured progress needs a why
REASON_MAX = 300
COMMITTED_MET = Decimal("1.00")


def cycle_ends_at(*, starts_on: date, ends_on: date, tz: ZoneInfo) -> datetime:
    """The instant a cycle ends: the day after its end date, 00:00 in `tz`, in UTC."""
    return cycle_bounds(starts_on=starts_on, ends_on=ends_on, tz=tz)[1].astimezone(UTC)


@dataclass(frozen=True)
class GradingWindow:
    started_at: datetime
    grading_ends_at: datetime
    retro_ends_at: datetime
    reminder_at: datetime


def grading_window(
    started_at: datetime, *, grading_days: int = GRADING_DAYS, retro_days: int | None = None
) -> GradingWindow:
    """Grading's deadline (start + `grading_days`), the retro's (the same unless set) and the
    reminder's instant (a day before grading's deadline, never before the start)."""
    if started_at.tzinfo is None:
        raise ValueError("grading_window needs an aware instant")
    grading_ends = started_at + timedelta(days=grading_days)
    retro_ends = started_at + timedelta(days=retro_days if retro_days is not None else grading_days)
    reminder = max(started_at, grading_ends - REMINDER_BEFORE)
    return GradingWindow(started_at, grading_ends, retro_ends, reminder)


def measured_grade(progress: float | None) -> Decimal:
    """Measured progress as a grade: clamped to 0.0-1.0, two decimals (none measured: 0)."""
    raw = 0.0 if progress is None else min(1.0, max(0.0, progress))
    return to_grade(raw)


def needs_reason(grade: Decimal, measured: Decimal) -> bool:
    """A grade more than `REASON_GAP` away from measured progress needs a short reason."""
    return abs(grade - measured) > REASON_GAP


def committed_missed(commitment: str, grade: Decimal | None) -> bool:
    """A committed objective is expected to land at 1.0: below it, its owner explains."""
    return commitment == "committed" and grade is not None and grade < COMMITTED_MET


def grader_of(
    *,
    owner: int | None,
    active: frozenset[int],
    team_lead: int | None,
    facilitators: tuple[int, ...],
) -> int | None:
    """Who grades a key result: its owner; a deactivated (or missing) owner's goes to the
    team lead, else the first facilitator (admins when there is none)."""
    for candidate in (owner, team_lead, *facilitators):
        if candidate is not None and candidate in active:
            return candidate
    return None


RATINGS = (1, 2, 3, 4, 5)  # the retrospective's rating of the cycle
ANSWER_MAX = 1000  # characters in each of a retro answer's three parts
ANONYMOUS_SHOWN_FROM = 3  # anonymous answers are shown only once this many people answered
NEXT_CYCLE_ASK = "next_cycle"  # a notice row's `ask`: facilitators, create the next cycle
