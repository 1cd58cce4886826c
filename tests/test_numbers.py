"""The one number grammar (bot/okr/numbers.py): form fields, check-in values against each
kind of key result, and the formatter whose text reads back as the same number."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.okr.numbers import (
    HOURS,
    LIMIT,
    START,
    TARGET,
    WEIGHT,
    Bounds,
    KeyResultScale,
    NumberProblem,
    Value,
    format_number,
    read_number,
    resolve_value,
)

# (typed, field, the number read, or words of the refusal)
FORM_FIELDS: list[tuple[str, Bounds, float | str]] = [
    ("45", START, 45.0),
    ("-20", START, -20.0),  # an NPS key result may start below zero
    ("+5", START, 5.0),  # in a form a sign is just a sign
    ("12,5", START, 12.5),
    ("12,000", TARGET, 12000.0),
    ("1,234,567.5", TARGET, 1234567.5),
    ("1.2k", TARGET, 1200.0),
    ("3m", TARGET, 3_000_000.0),
    ("$12,000", TARGET, 12000.0),
    ("12 €", TARGET, 12.0),
    ("45%", TARGET, 45.0),
    (" 7 ", TARGET, 7.0),
    ("1.234,5", TARGET, "has a separator after its decimal one"),
    ("forty", TARGET, "must be a number, like 42, -20, 3.5 or 12,000"),
    ("1e400", TARGET, "must be a number"),
    ("nan", TARGET, "must be a number"),
    ("inf", TARGET, "must be a number"),
    ("--5", START, "must be a number"),
    ("$5€", START, "must be a number"),
    ("2b", TARGET, 2e9),
    ("0,125", TARGET, 0.125),  # a leading 0 is no thousands group
    ("0.000000001", TARGET, 1e-9),
    ("0.0000000001", TARGET, "more than 9 decimal places"),
    ("5$%", TARGET, "must be a number"),
    ("2000000b", TARGET, "The target must be from -1,000,000,000,000,000 to"),
    ("1", WEIGHT, 1.0),
    ("0,5", WEIGHT, 0.5),
    ("100", WEIGHT, 100.0),
    ("0", WEIGHT, "The weight must be above 0 and at most 100."),
    ("-1", WEIGHT, "The weight must be above 0 and at most 100."),
    ("12,000", WEIGHT, "The weight must be above 0 and at most 100."),
    ("1e308", WEIGHT, "must be a number"),
    ("24", HOURS, 24.0),
    ("0", HOURS, 0.0),
    ("169", HOURS, "must be from 0 to 168"),
    ("-1", HOURS, "must be from 0 to 168"),
]


@pytest.mark.parametrize(("typed", "bounds", "wanted"), FORM_FIELDS)
def test_a_form_field_reads_the_one_grammar(
    typed: str, bounds: Bounds, wanted: float | str
) -> None:
    if isinstance(wanted, float):
        assert read_number(typed, bounds) == wanted
    else:
        with pytest.raises(NumberProblem, match=re.escape(wanted)):
            read_number(typed, bounds)


NPS = KeyResultScale("KR1", "number", "points", -20.0, 40.0)
MILESTONE = KeyResultScale("KR2", "milestone", "", 0.0, 1.0)


def test_a_change_counts_from_the_current_value_without_float_noise() -> None:
    assert resolve_value(Value(0.2, relative=True), NPS, current=0.1) == 0.3
    assert resolve_value(Value(-5, relative=True), NPS, current=None) == -25.0  # from the start
    assert resolve_value(Value(45.0), NPS, current=3.0) == 45.0


def test_a_milestone_takes_done_or_zero_and_one() -> None:
    assert resolve_value(Value(0.0, done=True), MILESTONE, current=None) == 1.0
    assert resolve_value(Value(0.0), MILESTONE, current=1.0) == 0.0
    for wrong in (Value(2.0), Value(1.0, relative=True), Value(1.0, percent=True)):
        with pytest.raises(NumberProblem, match="KR2 is a milestone"):
            resolve_value(wrong, MILESTONE, current=None)


def test_a_change_may_not_leave_the_bounds() -> None:
    with pytest.raises(NumberProblem, match="beyond"):
        resolve_value(Value(float(LIMIT), relative=True), NPS, current=float(LIMIT))


@given(
    st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False).map(lambda x: round(x, 9)),
        st.integers(min_value=-(10**15), max_value=10**15).map(float),
        st.decimals(min_value=-10000, max_value=10000, places=4).map(float),
    )
)
def test_every_number_the_bot_shows_reads_back_the_same(number: float) -> None:
    shown = format_number(number)
    assert read_number(shown, START) == number
    assert "e" not in shown.lower()


@pytest.mark.parametrize(
    ("number", "shown"),
    [(1234567.0, "1,234,567"), (12.5, "12.5"), (-20.0, "-20"), (0.0, "0"), (-0.0, "0"),
     (1e15, "1,000,000,000,000,000"), (0.1, "0.1"), (1234567.891, "1,234,567.891")],
)  # fmt: skip
def test_numbers_are_shown_in_full(number: float, shown: str) -> None:
    assert format_number(number) == shown
