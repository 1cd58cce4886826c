"""Progress over a cycle, period by period: what the digest chart draws.

Each objective gets one point per period: its progress as it stood once that period's
check-ins were in, clamped to [0, 1]. A key result with no check-in in a period keeps its
last known value (carried forward); before its first check-in it stands at its start
(progress 0). A hold key result is the share of its check-ins up to that period that met
the comparator (carried values are not check-ins and do not count twice).

The ideal line is the expected progress at the **end of each period** (the Monday after it,
00:00 in the cycle's time zone): "where the objective should be once this week is over".
One instant per period whatever each team's digest day, so every team's chart of a cycle
shares the same ideal line, and it never decreases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.okr.period import label, monday_of, next_period
from bot.okr.progress import (
    Measure,
    RuleError,
    Weighted,
    clamp,
    expected_progress,
    key_result_progress,
    objective_progress,
)


@dataclass(frozen=True)
class CycleDates:
    """A cycle's first and last day, in the workspace's time zone."""

    starts_on: date
    ends_on: date
    tz: ZoneInfo


@dataclass(frozen=True)
class KeyResultHistory:
    """A key result and its value in each period (None: no check-in that period)."""

    measure: Measure
    values: tuple[float | None, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class ObjectiveHistory:
    """An objective by its ref (`O3`), with the history of each of its key results."""

    ref: str
    key_results: tuple[KeyResultHistory, ...]


@dataclass(frozen=True)
class Point:
    period: str
    progress: float  # clamped to [0, 1]


@dataclass(frozen=True)
class ObjectiveLine:
    ref: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class ProgressSeries:
    """One line per objective and the ideal line, all with one point per period."""

    periods: tuple[str, ...]
    objectives: tuple[ObjectiveLine, ...]
    ideal: tuple[Point, ...]


def cycle_periods(cycle: CycleDates, *, through: str) -> tuple[str, ...]:
    """The periods from the cycle's first to `through` (the digest's), never past the
    cycle's last; empty when `through` comes before the cycle."""
    last = min(monday_of(through), monday_of(label(cycle.ends_on)))
    periods: list[str] = []
    current = label(cycle.starts_on)
    while monday_of(current) <= last:
        periods.append(current)
        current = next_period(current)
    return tuple(periods)


def period_end(period: str, tz: ZoneInfo) -> datetime:
    """The instant a period is over: the next Monday, 00:00 in `tz`."""
    return datetime.combine(monday_of(period) + timedelta(days=7), time(0), tzinfo=tz)


def ideal_line(cycle: CycleDates, periods: Sequence[str]) -> tuple[Point, ...]:
    """Expected progress at the end of each period (see the module docstring)."""
    return tuple(
        Point(
            period,
            expected_progress(
                period_end(period, cycle.tz),
                starts_on=cycle.starts_on,
                ends_on=cycle.ends_on,
                tz=cycle.tz,
            ),
        )
        for period in periods
    )


def _key_result_progress(history: KeyResultHistory, upto: int) -> float:
    """Raw progress with the check-ins of periods 0..upto (the last one carried forward)."""
    known = [v for v in history.values[: upto + 1] if v is not None]
    return key_result_progress(history.measure, known)


def objective_line(objective: ObjectiveHistory, periods: Sequence[str]) -> ObjectiveLine | None:
    """An objective's points, or None when it has no key result with a weight to draw."""
    for history in objective.key_results:
        if len(history.values) != len(periods):
            raise RuleError(
                f"{objective.ref}: {len(history.values)} values for {len(periods)} periods"
            )
    weights = [Weighted(j, 0.0, h.weight) for j, h in enumerate(objective.key_results)]
    if objective_progress(weights) is None:
        return None
    points = []
    for i, period in enumerate(periods):
        progress = objective_progress(
            Weighted(key=j, progress=_key_result_progress(history, i), weight=history.weight)
            for j, history in enumerate(objective.key_results)
        )
        points.append(Point(period, clamp(progress or 0.0)))
    return ObjectiveLine(objective.ref, tuple(points))


def progress_series(
    cycle: CycleDates, *, periods: Sequence[str], objectives: Sequence[ObjectiveHistory]
) -> ProgressSeries:
    """Each objective's progress per period, and the ideal line (module docstring).

    `periods` must be in order, each after the one before (skipped weeks may be left out);
    every key result has one value per period. An objective with no key result that has a
    weight is left out: there is nothing to draw."""
    for before, after in pairwise(periods):
        if monday_of(after) <= monday_of(before):
            raise RuleError(f"periods out of order: {before} then {after}")
    lines = (objective_line(objective, periods) for objective in objectives)
    return ProgressSeries(
        periods=tuple(periods),
        objectives=tuple(line for line in lines if line is not None),
        ideal=ideal_line(cycle, periods),
    )
