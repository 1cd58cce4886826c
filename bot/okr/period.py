"""Periods: one check-in week, labelled by the ISO week of a local date (`2026-W48`)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


def label(day: date) -> str:
    """The ISO week label of a local calendar date."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def period_of(at: datetime, tz: ZoneInfo) -> str:
    """The period an aware instant falls in, as seen in `tz` (never in UTC)."""
    if at.tzinfo is None:
        raise ValueError("period_of needs an aware datetime")
    return label(at.astimezone(tz).date())


def monday_of(period: str) -> date:
    """The Monday that starts a period label; a malformed or impossible label is an error."""
    match = _LABEL.match(period)
    if match is None:
        raise ValueError(f"not a period label: {period!r} (expected e.g. 2026-W48)")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{period} does not exist: {year} has no week {week}") from None


def next_period(period: str) -> str:
    return label(monday_of(period) + timedelta(days=7))


def prompt_instant(
    week: str, *, weekday: int, local_time: time, tz: ZoneInfo, started: datetime | None = None
) -> datetime:
    """When a team's round of `week` opens: when `/okr checkin now` started it (`started`,
    if in that week), else its weekday and local time in `tz`."""
    if started is not None and label(started.astimezone(tz).date()) == week:
        return started
    return datetime.combine(monday_of(week) + timedelta(days=weekday), local_time, tzinfo=tz)


def open_period(
    at: datetime,
    *,
    weekday: int,
    local_time: time,
    tz: ZoneInfo,
    started: datetime | None = None,
) -> str:
    """The period input with no prompt belongs to: the round that opened last at or before
    `at` (see `prompt_instant`; a round started by hand counts from when it was started)."""
    this_week = label(at.astimezone(tz).date())
    for week in (next_period(this_week), this_week):
        opens = prompt_instant(week, weekday=weekday, local_time=local_time, tz=tz, started=started)
        if opens <= at:
            return week
    return previous_period(this_week)


def previous_period(period: str) -> str:
    return label(monday_of(period) - timedelta(days=7))


ZONE_NAME_MAX = 64  # the longest IANA name is about 30 characters


def known_zone(name: object) -> ZoneInfo | None:
    """The IANA zone `name` names, or None for anything else (unknown, malformed, too long:
    a long name would otherwise reach the file system as a path and fail there)."""
    if not isinstance(name, str) or not name or len(name) > ZONE_NAME_MAX:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """The IANA zone `name`, or `fallback` when it is unset or unknown."""
    return known_zone(name) or fallback
