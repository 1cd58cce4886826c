"""Grades and periods (bot/okr/grading.py, bot/okr/period.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.okr.grading import Band, band, in_sweet_spot, objective_grade, to_grade
from bot.okr.period import label, monday_of, next_period, period_of


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("0.70", Band.GREEN),
        ("1.00", Band.GREEN),
        ("0.69", Band.YELLOW),
        ("0.40", Band.YELLOW),
        ("0.39", Band.RED),
        ("0.00", Band.RED),
    ],
)
def test_bands(grade: str, expected: Band) -> None:
    assert band(Decimal(grade)) is expected


def test_sweet_spot_is_inclusive() -> None:
    assert in_sweet_spot(Decimal("0.60")) and in_sweet_spot(Decimal("0.70"))
    assert not in_sweet_spot(Decimal("0.59")) and not in_sweet_spot(Decimal("0.71"))


def test_objective_grade_rounds_half_up_before_banding() -> None:
    # (0.69 + 0.70) / 2 = 0.695 -> 0.70 (half-up) -> green, not yellow.
    grade = objective_grade([(Decimal("0.69"), 1.0), (Decimal("0.70"), 1.0)])
    assert grade == Decimal("0.70")
    assert band(grade) is Band.GREEN
    assert objective_grade([(Decimal("1.0"), 3.0), (Decimal("0.0"), 1.0)]) == Decimal("0.75")
    assert objective_grade([]) is None


def test_to_grade_stores_two_decimals_and_refuses_out_of_range() -> None:
    assert to_grade(0.675) == Decimal("0.68")
    assert to_grade("0.125") == Decimal("0.13")
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError):
            to_grade(bad)


@given(st.lists(st.tuples(st.integers(0, 100), st.floats(0.1, 10)), min_size=1))
def test_objective_grade_lies_between_its_key_results(items: list[tuple[int, float]]) -> None:
    grades = [(Decimal(g) / 100, w) for g, w in items]
    result = objective_grade(grades)
    assert result is not None
    assert min(g for g, _ in grades) <= result <= max(g for g, _ in grades)
    assert result == result.quantize(Decimal("0.01"))


zones = st.sampled_from(
    [
        ZoneInfo(z)
        for z in (
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
        )
    ]
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(at=instants, tz=zones)
def test_period_is_the_iso_week_of_the_local_date(at: datetime, tz: ZoneInfo) -> None:
    local = at.astimezone(tz).date()
    iso = local.isocalendar()
    assert period_of(at, tz) == f"{iso.year}-W{iso.week:02d}"
    assert monday_of(period_of(at, tz)) <= local < monday_of(period_of(at, tz)) + timedelta(days=7)


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_one_week_one_label_and_neighbours_differ(day: date) -> None:
    monday = day - timedelta(days=day.weekday())
    week = {label(monday + timedelta(days=i)) for i in range(7)}
    assert week == {label(day)}
    assert label(monday - timedelta(days=1)) != label(day) != label(monday + timedelta(days=7))
    assert next_period(label(day)) == label(monday + timedelta(days=7))


def test_iso_week_53_and_the_turn_of_the_year() -> None:
    assert label(date(2026, 12, 31)) == "2026-W53"  # 2026 has 53 ISO weeks
    assert label(date(2027, 1, 3)) == "2026-W53"
    assert label(date(2027, 1, 4)) == "2027-W01"
    assert label(date(2024, 12, 30)) == "2025-W01"
    assert next_period("2026-W53") == "2027-W01"
    with pytest.raises(ValueError, match="no week 53"):
        monday_of("2027-W53")
    with pytest.raises(ValueError, match="not a period label"):
        monday_of("2027-53")


def test_period_follows_the_local_date_not_utc() -> None:
    # Sunday 23:30 in New York is already Monday in UTC: still last week for that team.
    at = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
    assert period_of(at, ZoneInfo("America/New_York")) == "2026-W48"
    assert period_of(at, ZoneInfo("UTC")) == "2026-W49"


def test_period_across_dst_changes() -> None:
    ny = ZoneInfo("America/New_York")
    # 2025-03-09 (spring forward) and 2025-11-02 (fall back) are Sundays: end of their weeks.
    assert period_of(datetime(2025, 3, 9, 7, 30, tzinfo=UTC), ny) == "2025-W10"
    assert period_of(datetime(2025, 11, 2, 6, 30, tzinfo=UTC), ny) == "2025-W44"
    assert period_of(datetime(2025, 11, 3, 5, 30, tzinfo=UTC), ny) == "2025-W45"


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 23, 8, 59, tzinfo=UTC), "2026-W47"),  # Monday before 10:00 Berlin
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "2026-W48"),  # 10:00 Berlin: this week's round
        (datetime(2026, 11, 29, 22, 0, tzinfo=UTC), "2026-W48"),  # Sunday night
        (datetime(2027, 1, 4, 8, 0, tzinfo=UTC), "2026-W53"),  # before the first round of 2027
    ],
)
def test_open_period_runs_from_one_prompt_to_the_next(at: datetime, expected: str) -> None:
    from datetime import time

    from bot.okr.period import open_period

    got = open_period(at, weekday=0, local_time=time(10, 0), tz=ZoneInfo("Europe/Berlin"))
    assert got == expected


@given(at=instants, tz=zones, weekday=st.integers(0, 6), hour=st.integers(0, 23))
def test_open_period_is_this_or_last_week(
    at: datetime, tz: ZoneInfo, weekday: int, hour: int
) -> None:
    from datetime import time

    from bot.okr.period import open_period

    got = open_period(at, weekday=weekday, local_time=time(hour), tz=tz)
    here = period_of(at, tz)
    assert got in (here, label(monday_of(here) - timedelta(days=7)))


@pytest.mark.parametrize(
    ("at", "started", "expected"),
    [
        # A Friday team: on Tuesday of W49 the open round is still W48's (last Friday's) ...
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), None, "2026-W48"),
        # ... unless the lead started W49's round by hand on Tuesday morning.
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
         "2026-W49"),
        # Before the hand-started round, the old one is still open.
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
         "2026-W48"),
        # A start in another week says nothing about this one.
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
         "2026-W48"),
    ],
)  # fmt: skip
def test_a_round_started_by_hand_opens_its_period(
    at: datetime, started: datetime | None, expected: str
) -> None:
    from datetime import time

    from bot.okr.period import open_period, prompt_instant

    friday = {"weekday": 4, "local_time": time(10, 0), "tz": ZoneInfo("UTC")}
    assert open_period(at, started=started, **friday) == expected  # type: ignore[arg-type]
    opens = prompt_instant("2026-W49", started=started, **friday)  # type: ignore[arg-type]
    hand = started is not None and label(started.date()) == "2026-W49"
    assert opens == (started if hand else datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    late = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # started by hand after Friday's time
    assert prompt_instant("2026-W49", started=late, **friday) == late  # type: ignore[arg-type]
