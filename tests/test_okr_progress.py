"""OKR rules: progress, roll-up, expected progress and status (bot/okr/progress.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.okr.progress import (
    Comparator,
    Direction,
    Kind,
    Measure,
    ObjectiveNode,
    RuleError,
    Status,
    Weighted,
    clamp,
    expected_progress,
    key_result_progress,
    linear_progress,
    objective_progress,
    rollup_progress,
    status,
)

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("measure", "values", "expected"),
    [
        (Measure(Kind.NUMBER, Direction.INCREASE, 0, 100), [], 0.0),
        (Measure(Kind.NUMBER, Direction.INCREASE, 0, 100), [40], 0.4),
        (Measure(Kind.NUMBER, Direction.INCREASE, 20, 120), [70], 0.5),
        (Measure(Kind.NUMBER, Direction.INCREASE, 0, 100), [10, 150], 1.5),  # raw overshoot
        (Measure(Kind.NUMBER, Direction.INCREASE, 50, 100), [25], -0.5),  # raw slide
        (Measure(Kind.PERCENT, Direction.DECREASE, 30, 10), [20], 0.5),
        (Measure(Kind.CURRENCY, Direction.DECREASE, 1000, 0), [250], 0.75),
        (Measure(Kind.MILESTONE, Direction.INCREASE, 0, 1), [], 0.0),
        (Measure(Kind.MILESTONE, Direction.INCREASE, 0, 1), [1], 1.0),
        (Measure(Kind.MILESTONE, Direction.INCREASE, 0, 1), [1, 0], 0.0),  # latest counts
        (Measure(Kind.NUMBER, Direction.HOLD, 0, 99.9, Comparator.AT_LEAST), [99.95, 99.8], 0.5),
        (
            Measure(Kind.NUMBER, Direction.HOLD, 0, 200, Comparator.AT_MOST),
            [150, 180, 250, 90],
            0.75,
        ),
        (Measure(Kind.NUMBER, Direction.HOLD, 0, 200, Comparator.AT_MOST), [], 0.0),
    ],
)
def test_key_result_progress(measure: Measure, values: list[float], expected: float) -> None:
    assert key_result_progress(measure, values) == pytest.approx(expected)


def test_rules_refuse_what_has_no_meaning() -> None:
    with pytest.raises(RuleError):
        linear_progress(start=5, target=5, value=7)
    with pytest.raises(RuleError):
        key_result_progress(Measure(Kind.NUMBER, Direction.HOLD, 0, 5), [3])
    with pytest.raises(RuleError):
        status(progress=0.5, expected=0.5, confidence=11)


@given(start=finite, target=finite, value=finite)
def test_decrease_mirrors_increase(start: float, target: float, value: float) -> None:
    assume(target < start - 1e-6)
    down = key_result_progress(Measure(Kind.NUMBER, Direction.DECREASE, start, target), [value])
    up = key_result_progress(Measure(Kind.NUMBER, Direction.INCREASE, -start, -target), [-value])
    assert down == pytest.approx(up, rel=1e-9, abs=1e-9)


@given(start=finite, span=st.floats(min_value=1e-3, max_value=1e6), a=finite, b=finite)
def test_progress_is_monotone_in_the_value(start: float, span: float, a: float, b: float) -> None:
    low, high = sorted((a, b))
    increase = Measure(Kind.NUMBER, Direction.INCREASE, start, start + span)
    decrease = Measure(Kind.NUMBER, Direction.DECREASE, start, start - span)
    assert key_result_progress(increase, [low]) <= key_result_progress(increase, [high])
    assert key_result_progress(decrease, [low]) >= key_result_progress(decrease, [high])


@given(start=finite, span=st.floats(min_value=1e-3, max_value=1e6), value=finite)
def test_clamped_progress_agrees_with_raw(start: float, span: float, value: float) -> None:
    raw = key_result_progress(
        Measure(Kind.NUMBER, Direction.INCREASE, start, start + span), [value]
    )
    shown = clamp(raw)
    assert 0.0 <= shown <= 1.0
    if 0.0 <= raw <= 1.0:
        assert shown == raw
    else:
        assert shown == (1.0 if raw > 1 else 0.0)


@given(st.lists(st.tuples(finite, st.floats(min_value=0.01, max_value=100)), min_size=1))
def test_objective_progress_is_a_weighted_mean_within_bounds(
    items: list[tuple[float, float]],
) -> None:
    result = objective_progress(
        Weighted(key=i, progress=p, weight=w) for i, (p, w) in enumerate(items)
    )
    assert result is not None
    shown = [clamp(p) for p, _ in items]
    assert min(shown) - 1e-9 <= result <= max(shown) + 1e-9


def test_objective_progress_weights_and_clamps() -> None:
    result = objective_progress(
        [Weighted(1, progress=2.0, weight=1), Weighted(2, progress=0.25, weight=3)]
    )
    assert result == pytest.approx((1.0 * 1 + 0.25 * 3) / 4)
    assert objective_progress([]) is None


def test_rollup_counts_a_shared_key_result_once_and_leaves_the_parent_out() -> None:
    shared = Weighted(7, progress=1.0)
    child_a = ObjectiveNode(key_results=(shared, Weighted(8, progress=0.0)))
    child_b = ObjectiveNode(key_results=(shared,))
    grandchild = ObjectiveNode(key_results=(Weighted(9, progress=0.5),))
    parent = ObjectiveNode(
        key_results=(Weighted(1, progress=0.0),),
        children=(child_a, ObjectiveNode(key_results=(), children=(child_b, grandchild))),
    )
    assert rollup_progress(parent) == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert rollup_progress(ObjectiveNode(key_results=(shared,))) is None


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 0.0),  # 00:00 Jan 1 in Berlin: the start
        (datetime(2026, 12, 1, tzinfo=UTC), 0.0),  # before
        (datetime(2027, 4, 1, 12, tzinfo=UTC), 1.0),  # after
        (datetime(2027, 3, 31, 22, 0, tzinfo=UTC), 1.0),  # Apr 1 00:00 Berlin (CEST): the end
    ],
)
def test_expected_progress_at_the_edges(at: datetime, expected: float) -> None:
    got = expected_progress(at, starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31), tz=BERLIN)
    assert got == pytest.approx(expected)


def test_expected_progress_counts_real_hours_across_a_dst_week() -> None:
    # A one-week cycle holding the spring-forward night has 167 hours.
    start, end = date(2027, 3, 22), date(2027, 3, 28)
    halfway = datetime(2027, 3, 22, tzinfo=BERLIN).astimezone(UTC) + timedelta(hours=167 / 2)
    got = expected_progress(halfway, starts_on=start, ends_on=end, tz=BERLIN)
    assert got == pytest.approx(0.5)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
)
def test_expected_progress_never_goes_back(a: datetime, b: datetime) -> None:
    early, late = sorted((a, b))
    bounds = {"starts_on": date(2027, 1, 1), "ends_on": date(2027, 3, 31), "tz": BERLIN}
    assert expected_progress(early, **bounds) <= expected_progress(late, **bounds)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("progress", "expected", "confidence", "reported", "result"),
    [
        (0.50, 0.55, None, None, Status.ON_TRACK),  # within 0.10, no confidence given
        (0.45, 0.55, 7, None, Status.ON_TRACK),  # exactly expected - 0.10
        (0.50, 0.55, 6, None, Status.AT_RISK),  # pace fine, confidence middling
        (0.40, 0.55, 9, None, Status.AT_RISK),  # behind by 0.15
        (0.30, 0.55, 9, None, Status.AT_RISK),  # behind by exactly 0.25 is not yet off
        (0.29, 0.55, 9, None, Status.OFF_TRACK),  # behind by more than 0.25
        (0.90, 0.55, 3, None, Status.OFF_TRACK),  # confidence <= 3
        (1.50, 0.90, 8, None, Status.ON_TRACK),  # overshoot clamps, still on track
        (0.00, 0.90, 1, Status.ON_TRACK, Status.ON_TRACK),  # what a person reported wins
    ],
)
def test_status(
    progress: float,
    expected: float,
    confidence: int | None,
    reported: Status | None,
    result: Status,
) -> None:
    assert (
        status(progress=progress, expected=expected, confidence=confidence, reported=reported)
        is result
    )


@given(
    progress=st.floats(min_value=-2, max_value=3),
    expected=st.floats(min_value=0, max_value=1),
    confidence=st.one_of(st.none(), st.integers(0, 10)),
)
def test_more_progress_never_worsens_status(
    progress: float, expected: float, confidence: int | None
) -> None:
    order = {Status.OFF_TRACK: 0, Status.AT_RISK: 1, Status.ON_TRACK: 2}
    worse = status(progress=progress, expected=expected, confidence=confidence)
    better = status(progress=progress + 0.2, expected=expected, confidence=confidence)
    assert order[better] >= order[worse]


def test_huge_weights_and_runaway_progress_still_make_a_mean() -> None:
    """Two weights of 1e308 once summed to infinity and made the objective's progress NaN."""
    from bot.okr.progress import Weighted, objective_progress

    assert objective_progress([Weighted(1, 0.5, 1e308), Weighted(2, 1.0, 1e308)]) == 0.75
    assert objective_progress([Weighted(1, float("inf")), Weighted(2, float("-inf"))]) == 0.5
    assert objective_progress([Weighted(1, float("nan")), Weighted(2, 1.0)]) == 0.5
    assert objective_progress([Weighted(1, 1.0, float("inf")), Weighted(2, 0.0, 0)]) is None


@pytest.mark.parametrize(
    ("computed", "shown"),
    [
        (Status.ON_TRACK, Status.AT_RISK),  # a green not touched in weeks is not green
        (Status.AT_RISK, Status.AT_RISK),
        (Status.OFF_TRACK, Status.OFF_TRACK),  # its figures say worse: that stands
    ],
)
def test_an_outdated_key_result_counts_as_at_risk_at_best(computed: Status, shown: Status) -> None:
    from bot.okr.progress import outdated_status

    assert outdated_status(computed) is shown
