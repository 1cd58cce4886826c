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


def open_period(at: datetime, *, weekday: int, local_time: time, tz: ZoneInfo) -> str:
    """The period input with no prompt belongs to: the latest check-in instant P at or before
    `at` (P = the team's weekday and local time), labelled by P's local date."""
    local = at.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    prompt = datetime.combine(monday + timedelta(days=weekday), local_time, tzinfo=tz)
    if prompt > local:
        prompt = datetime.combine(monday + timedelta(days=weekday - 7), local_time, tzinfo=tz)
    return label(prompt.date())


def zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """The IANA zone `name`, or `fallback` when it is unset or unknown."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
