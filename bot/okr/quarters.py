"""Calendar quarters: the default cycle, named like `2027-Q1`."""

from __future__ import annotations

import re
from datetime import date, timedelta

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_of(day: date) -> tuple[str, date, date]:
    """(name, first day, last day) of the calendar quarter holding `day`."""
    quarter = (day.month - 1) // 3 + 1
    first = date(day.year, 3 * quarter - 2, 1)
    next_first = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
    return f"{day.year}-Q{quarter}", first, next_first - timedelta(days=1)


def quarter_named(name: str) -> tuple[date, date] | None:
    """The dates of a quarter name like `2027-Q1`, or None if it is not one."""
    match = _QUARTER.match(name.strip().upper())
    if match is None:
        return None
    _, first, last = quarter_of(date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1))
    return first, last
