"""Participation counted by hand (pure): a person due in two teams counts once in everyone's
line, checked in only when checked in for every team they were due in; away is not due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.report import Cell
from bot.services.participation import OwnedKeyResult, Owner, RoundRules, count, everyone

UTC_ZONE = ZoneInfo("UTC")
MONDAY = RoundRules(0, time(10), UTC_ZONE, timedelta(days=2))
TUESDAY = RoundRules(1, time(10), UTC_ZONE, timedelta(days=2))
CREATED = datetime(2026, 11, 2, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # W46 and W47 over for both teams
WEEKS = ("2026-W46", "2026-W47")


def test_a_person_in_two_teams_counts_once() -> None:
    # Ana owns key results in teams 1 and 2; Ben in team 1; Cy in team 2 (away on W47's
    # Tuesday). Ana checks in for team 1 both weeks but for team 2 only in W46.
    key_results = [
        OwnedKeyResult(1, 1, 10, CREATED),  # Ana, team 1
        OwnedKeyResult(2, 2, 10, CREATED),  # Ana, team 2
        OwnedKeyResult(3, 1, 11, CREATED),  # Ben, team 1
        OwnedKeyResult(4, 2, 12, CREATED),  # Cy, team 2
    ]
    owners = {
        10: Owner("UANA"),
        11: Owner("UBEN"),
        12: Owner("UCY", away=((date(2026, 11, 17), date(2026, 11, 17)),)),
    }
    values = {(1, "2026-W46"), (2, "2026-W46"), (3, "2026-W46"), (4, "2026-W46"),
              (1, "2026-W47"), (3, "2026-W47")}  # fmt: skip
    counted = count(periods=WEEKS, rounds={1: MONDAY, 2: TUESDAY}, key_results=key_results,
                    owners=owners, values=values, now=NOW)  # fmt: skip
    assert counted.cells == {1: (Cell(2, 2), Cell(2, 2)), 2: (Cell(2, 2), Cell(0, 1))}
    # Rows summed would say 4/4 and 2/3; each person once: 3/3, then Ana (missing in team 2)
    # and Ben: 1/2 (Cy is away, not due).
    assert counted.total == (Cell(3, 3), Cell(1, 2))
    # Over different weeks per team (as the company digest shows them): team 1's W47 and
    # team 2's W46: Ana checked in for both, Ben and Cy too.
    assert everyone(counted.states, {1: "2026-W47", 2: "2026-W46"}) == Cell(3, 3)
    assert everyone(counted.states, {1: "2026-W46", 2: "2026-W47"}) == Cell(1, 2)
    assert everyone(counted.states, {}) == Cell(0, 0)
