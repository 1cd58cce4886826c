"""Progress, pace and status of key results and objectives.

Progress is *raw* (it may exceed 1 or fall below 0, which tells of an overshoot or a slide);
what is shown and graded is clamped to [0, 1] with `clamp`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.okr.period import monday_of

ON_TRACK_MARGIN = 0.10  # on track while progress >= expected - this
OFF_TRACK_MARGIN = 0.25  # off track once progress < expected - this
ON_TRACK_MIN_CONFIDENCE = 7  # on track needs confidence >= this (or no confidence given)
OFF_TRACK_MAX_CONFIDENCE = 3  # confidence <= this is off track whatever the progress
_EPSILON = 1e-9  # 0.55 - 0.25 is 0.30000000000000004 in floats: margins are inclusive
CONFIDENCE_MIN = 0
CONFIDENCE_MAX = 10


class Kind(StrEnum):
    NUMBER = "number"
    PERCENT = "percent"
    CURRENCY = "currency"
    MILESTONE = "milestone"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    HOLD = "hold"


class Comparator(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"


class RuleError(ValueError):
    """Inputs that no rule can give a meaning to (e.g. target equal to start)."""


@dataclass(frozen=True)
class Measure:
    """What a key result measures: enough to compute its progress from values."""

    kind: Kind
    direction: Direction
    start: float
    target: float
    comparator: Comparator | None = None


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def linear_progress(*, start: float, target: float, value: float) -> float:
    """Raw progress from start towards target; decrease mirrors increase by construction."""
    if target == start:
        raise RuleError("target equals start: progress has no meaning")
    return (value - start) / (target - start)


def meets(*, comparator: Comparator, target: float, value: float) -> bool:
    if comparator is Comparator.AT_LEAST:
        return value >= target
    return value <= target


def hold_progress(*, comparator: Comparator, target: float, values: Sequence[float]) -> float:
    """Share of the cycle's check-ins that met the comparator (0 with no check-in yet)."""
    if not values:
        return 0.0
    met = sum(1 for v in values if meets(comparator=comparator, target=target, value=v))
    return met / len(values)


def key_result_progress(measure: Measure, values: Sequence[float]) -> float:
    """Raw progress of a key result given its period values in time order (current last).

    With no check-in yet the key result stands at its start: progress 0.
    """
    if measure.kind is Kind.MILESTONE:
        return 1.0 if values and values[-1] >= measure.target else 0.0
    if measure.direction is Direction.HOLD:
        if measure.comparator is None:
            raise RuleError("a hold key result needs a comparator (at_least or at_most)")
        return hold_progress(comparator=measure.comparator, target=measure.target, values=values)
    if not values:
        return 0.0
    return linear_progress(start=measure.start, target=measure.target, value=values[-1])


@dataclass(frozen=True)
class Weighted:
    """A key result's progress (raw) with its weight inside its objective."""

    key: int
    progress: float
    weight: float = 1.0


def weighted_mean(items: Iterable[Weighted]) -> float | None:
    """Weighted mean of clamped progress; None when there is nothing (or no weight) to average.

    Weights are scaled by the largest first, so no sum can overflow to infinity (two weights of
    1e308 stay a mean, not NaN); a weight that is not a positive finite number counts for none.
    """
    usable = [i for i in items if math.isfinite(i.weight) and i.weight > 0]
    if not usable:
        return None
    largest = max(i.weight for i in usable)
    total = weights = 0.0
    for item in usable:
        share = item.weight / largest
        progress = 0.0 if math.isnan(item.progress) else item.progress  # ±inf clamps
        total += clamp(progress) * share
        weights += share
    return total / weights


def objective_progress(key_results: Iterable[Weighted]) -> float | None:
    """An objective's own progress: the weighted mean of its key results, each clamped."""
    return weighted_mean(key_results)


@dataclass(frozen=True)
class ObjectiveNode:
    """An objective in the alignment tree, for roll-up."""

    key_results: tuple[Weighted, ...]
    children: tuple[ObjectiveNode, ...] = field(default=())


def rollup_progress(node: ObjectiveNode) -> float | None:
    """Progress of everything aligned below `node` (not `node` itself), shown beside it.

    A key result reached through more than one path (a shared OKR) counts once.
    """
    seen: dict[int, Weighted] = {}
    stack = list(node.children)
    while stack:
        child = stack.pop()
        for kr in child.key_results:
            seen.setdefault(kr.key, kr)
        stack.extend(child.children)
    return weighted_mean(seen.values())


def cycle_bounds(*, starts_on: date, ends_on: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a cycle covers: start 00:00 to the day after its end, 00:00, in `tz`."""
    if ends_on < starts_on:
        raise RuleError("a cycle cannot end before it starts")
    begin = datetime.combine(starts_on, time(0), tzinfo=tz)
    end = datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=tz)
    return begin, end


def expected_progress(at: datetime, *, starts_on: date, ends_on: date, tz: ZoneInfo) -> float:
    """Share of the cycle elapsed at instant `at` (aware), clamped to [0, 1]."""
    if at.tzinfo is None:
        raise RuleError("expected_progress needs an aware datetime")
    begin, end = (
        edge.astimezone(UTC) for edge in cycle_bounds(starts_on=starts_on, ends_on=ends_on, tz=tz)
    )
    # In UTC: subtracting two datetimes of one zone would count wall-clock hours, not real ones.
    span = (end - begin).total_seconds()
    return clamp((at.astimezone(UTC) - begin).total_seconds() / span)


def status(
    *,
    progress: float,
    expected: float,
    confidence: int | None = None,
    reported: Status | None = None,
) -> Status:
    """The status a person reported wins; otherwise computed from pace and confidence."""
    if reported is not None:
        return reported
    if confidence is not None and not CONFIDENCE_MIN <= confidence <= CONFIDENCE_MAX:
        raise RuleError("confidence goes from 0 to 10")
    shown = clamp(progress)
    if shown < expected - OFF_TRACK_MARGIN - _EPSILON or (
        confidence is not None and confidence <= OFF_TRACK_MAX_CONFIDENCE
    ):
        return Status.OFF_TRACK
    if shown >= expected - ON_TRACK_MARGIN - _EPSILON and (
        confidence is None or confidence >= ON_TRACK_MIN_CONFIDENCE
    ):
        return Status.ON_TRACK
    return Status.AT_RISK


OUTDATED_AFTER_PERIODS = 2  # periods in a row with no check-in before a status is stale


def is_outdated(
    *, last_checkin_period: str | None, current_period: str, created_period: str
) -> bool:
    """Whether a key result has gone `OUTDATED_AFTER_PERIODS` or more of its team's periods
    without a check-in (then its last reported status no longer tells how it is doing).

    Periods are labels like `2026-W49` (`okr.period`). `current_period` is the round open now
    (`okr.period.open_period`), `created_period` the first period the key result could take
    a check-in (its creation, or its cycle's first period if later): a key result is counted
    from there, so one created this period is never outdated. Periods after the last check-in
    up to and including the current one count as missed: checked in 2026-W47, it is outdated
    from 2026-W49 on.
    """
    since = created_period
    if last_checkin_period is not None and last_checkin_period > since:
        since = last_checkin_period
    missed = (monday_of(current_period) - monday_of(since)).days // 7
    return missed >= OUTDATED_AFTER_PERIODS


def outdated_status(computed: Status) -> Status:
    """The status of an outdated key result (`is_outdated`): whatever its owner last reported
    no longer holds, so it counts as at risk, or off track when its figures say so (a green
    that has not been touched in weeks is not green)."""
    return Status.OFF_TRACK if computed is Status.OFF_TRACK else Status.AT_RISK
