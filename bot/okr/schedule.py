"""The weekly round's defaults: when a team (or, with no team, the workspace) checks in, and
how long after the prompt the reminder and the digest follow. One place for every layer: the
tables' column defaults, the clock, the settings and team forms all read these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any, Final

DEFAULT_CHECKIN_WEEKDAY: Final = 0  # Monday (date.weekday())
DEFAULT_CHECKIN_TIME: Final = time(10, 0)
# The weekly report DM, and the company digest unless `/okr settings` gives it a time.
COMPANY_AT: Final = time(10, 0)
DEFAULT_DIGEST_DELAY: Final = timedelta(days=2)  # D = P + this
DEFAULT_REMINDER_DELAY: Final = timedelta(days=1)  # after the DM, within 08:00-19:00 local


def whole_minutes(delay: timedelta) -> int:
    """A delay as the whole minutes the team table stores."""
    return round(delay / timedelta(minutes=1))


def hours(delay: timedelta) -> float:
    """A delay as the hours the team form shows."""
    return delay / timedelta(hours=1)


def company_weekday(saved: Mapping[str, Any]) -> int | None:
    """The company digest's weekday as saved (None: the day after the default check-in)."""
    found = saved.get("company_weekday")
    return int(found) if isinstance(found, int) and 0 <= found <= 6 else None


def company_time(saved: Mapping[str, Any]) -> time | None:
    """The company digest's time as saved (None: `COMPANY_AT`)."""
    try:
        return time.fromisoformat(str(saved["company_time"])) if saved.get("company_time") else None
    except ValueError:
        return None
