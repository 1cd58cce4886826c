"""Progress per period for the digest chart (bot/okr/series.py), against numbers worked out
by hand, plus properties over random cycles and check-ins."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.okr.period import label
from bot.okr.progress import Comparator, Direction, Kind, Measure, RuleError
from bot.okr.series import (
    CycleDates,
    KeyResultHistory,
    ObjectiveHistory,
    cycle_periods,
    ideal_line,
    progress_series,
)

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
# Twelve whole weeks, Monday 2026-01-05 to Sunday 2026-03-29: periods 2026-W02..W13.
TWELVE_WEEKS = CycleDates(date(2026, 1, 5), date(2026, 3, 29), UTC)
FIVE = ("2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06")


def increase(start: float, target: float) -> Measure:
    return Measure(Kind.NUMBER, Direction.INCREASE, start, target)


def test_periods_of_a_cycle() -> None:
    assert cycle_periods(TWELVE_WEEKS, through="2026-W04") == ("2026-W02", "2026-W03", "2026-W04")
    assert len(cycle_periods(TWELVE_WEEKS, through="2026-W40")) == 12  # never past its end
    assert cycle_periods(TWELVE_WEEKS, through="2025-W50") == ()
    # A cycle starting on a Thursday starts in that Thursday's ISO week.
    quarter = CycleDates(date(2026, 1, 1), date(2026, 3, 31), UTC)
    periods = cycle_periods(quarter, through="2026-W14")
    assert (periods[0], periods[-1], len(periods)) == ("2026-W01", "2026-W14", 14)
    across_years = CycleDates(date(2026, 12, 14), date(2027, 1, 10), UTC)
    assert cycle_periods(across_years, through="2027-W01") == (
        "2026-W51",
        "2026-W52",
        "2026-W53",
        "2027-W01",
    )


def test_the_ideal_line_is_expected_progress_at_the_end_of_each_period() -> None:
    ideal = ideal_line(TWELVE_WEEKS, cycle_periods(TWELVE_WEEKS, through="2026-W13"))
    assert [p.progress for p in ideal] == pytest.approx([k / 12 for k in range(1, 13)])
    # Thursday 1 January to 31 March (90 days): W01 ends on Monday 5 January, 4 days in;
    # W14 ends after the cycle: 1.
    quarter = CycleDates(date(2026, 1, 1), date(2026, 3, 31), UTC)
    first, *_, last = ideal_line(quarter, cycle_periods(quarter, through="2026-W14"))
    assert (first.period, first.progress, last.progress) == ("2026-W01", pytest.approx(4 / 90), 1)
    # In Berlin the cycle is an hour short (summer time from 29 March): 96 of 2,159 hours.
    berlin = CycleDates(date(2026, 1, 1), date(2026, 3, 31), BERLIN)
    (w01,) = ideal_line(berlin, ["2026-W01"])
    assert w01.progress == pytest.approx(96 / 2159)


def test_progress_carries_the_last_value_forward_and_weights_key_results() -> None:
    objectives = [
        ObjectiveHistory(
            "O1",
            (
                KeyResultHistory(increase(0, 100), (None, 20, None, 50, None)),
                # decrease 200 -> 100, weight 3: 0.2, carried, carried, 1.1 (shown 1), 0.5
                KeyResultHistory(
                    Measure(Kind.NUMBER, Direction.DECREASE, 200, 100),
                    (180, None, None, 90, 150),
                    weight=3,
                ),
            ),
        ),
        ObjectiveHistory(
            "O2",
            (
                # hold: share of the check-ins so far at least 99.9 (a carried value is no
                # check-in): 1/1, 1/1, 1/2, 1/2, 2/3
                KeyResultHistory(
                    Measure(Kind.NUMBER, Direction.HOLD, 0, 99.9, Comparator.AT_LEAST),
                    (99.95, None, 99.8, None, 100),
                ),
                KeyResultHistory(
                    Measure(Kind.MILESTONE, Direction.INCREASE, 0, 1), (None, None, None, 1, None)
                ),
            ),
        ),
        ObjectiveHistory("O3", ()),  # nothing to draw: left out
        ObjectiveHistory("O4", (KeyResultHistory(increase(0, 10), (1, 2, 3, 4, 5), weight=0),)),
        ObjectiveHistory("O5", (KeyResultHistory(increase(0, 10), (20, None, -5, 5, None)),)),
    ]
    series = progress_series(TWELVE_WEEKS, periods=FIVE, objectives=objectives)
    assert series.periods == FIVE
    assert [line.ref for line in series.objectives] == ["O1", "O2", "O5"]
    got = {line.ref: [p.progress for p in line.points] for line in series.objectives}
    assert got["O1"] == pytest.approx([0.15, 0.2, 0.2, 0.875, 0.5])
    assert got["O2"] == pytest.approx([0.5, 0.5, 0.25, 0.75, 5 / 6])
    assert got["O5"] == pytest.approx([1.0, 1.0, 0.0, 0.5, 0.5])  # clamped both ways
    assert all([p.period for p in line.points] == list(FIVE) for line in series.objectives), (
        "one point per period, in order"
    )
    assert [p.progress for p in series.ideal] == pytest.approx([k / 12 for k in range(1, 6)])


def test_before_any_check_in_progress_is_zero() -> None:
    series = progress_series(
        TWELVE_WEEKS,
        periods=FIVE[:2],
        objectives=[ObjectiveHistory("O1", (KeyResultHistory(increase(50, 100), (None, None)),))],
    )
    assert [p.progress for p in series.objectives[0].points] == [0.0, 0.0]


def test_inputs_that_cannot_be_drawn_are_refused() -> None:
    with pytest.raises(RuleError, match="O1: 1 values for 2 periods"):
        progress_series(
            TWELVE_WEEKS,
            periods=FIVE[:2],
            objectives=[ObjectiveHistory("O1", (KeyResultHistory(increase(0, 1), (1,)),))],
        )
    with pytest.raises(RuleError, match="out of order"):
        progress_series(TWELVE_WEEKS, periods=["2026-W03", "2026-W02"], objectives=[])
    empty = progress_series(TWELVE_WEEKS, periods=[], objectives=[])
    assert (empty.periods, empty.objectives, empty.ideal) == ((), (), ())


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def measures(draw: st.DrawFn) -> Measure:
    kind = draw(st.sampled_from(list(Kind)))
    direction = draw(st.sampled_from(list(Direction)))
    start = draw(finite)
    target = draw(finite.filter(lambda t: t != start))
    comparator = draw(st.sampled_from(list(Comparator))) if direction is Direction.HOLD else None
    return Measure(kind, direction, start, target, comparator)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CycleDates, tuple[str, ...], list[ObjectiveHistory]]:
    starts_on = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
    ends_on = starts_on + timedelta(days=draw(st.integers(0, 200)))
    tz = draw(st.sampled_from([UTC, BERLIN, ZoneInfo("America/St_Johns")]))
    cycle = CycleDates(starts_on, ends_on, tz)
    through = starts_on + timedelta(days=draw(st.integers(-14, 230)))
    periods = cycle_periods(cycle, through=label(through))
    values = st.one_of(st.none(), finite)
    key_result = st.builds(
        KeyResultHistory,
        measure=measures(),
        values=st.tuples(*[values] * len(periods)),
        weight=st.floats(min_value=0, max_value=100),
    )
    objectives = draw(
        st.lists(
            st.builds(
                ObjectiveHistory,
                ref=st.from_regex(r"O[1-9][0-9]{0,3}", fullmatch=True),
                key_results=st.lists(key_result, max_size=4).map(tuple),
            ),
            max_size=5,
        )
    )
    return cycle, periods, objectives


@given(scenarios())
def test_every_line_has_one_clamped_point_per_period_and_the_ideal_never_falls(
    scenario: tuple[CycleDates, tuple[str, ...], list[ObjectiveHistory]],
) -> None:
    cycle, periods, objectives = scenario
    series = progress_series(cycle, periods=periods, objectives=objectives)
    drawable = [o for o in objectives if any(kr.weight > 0 for kr in o.key_results)]
    assert [line.ref for line in series.objectives] == [o.ref for o in drawable]
    for line in series.objectives:
        assert [p.period for p in line.points] == list(periods)
        assert all(0.0 <= p.progress <= 1.0 for p in line.points)
    assert [p.period for p in series.ideal] == list(periods)
    ideal = [p.progress for p in series.ideal]
    assert all(0.0 <= x <= 1.0 for x in ideal)
    assert all(a <= b for a, b in zip(ideal, ideal[1:], strict=False))
