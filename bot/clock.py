"""The only source of "now" in the bot.

The offset lets the sandbox (and tests that drive a subprocess) move the bot's time without
touching the system clock: `OKR_CLOCK_OFFSET_SECONDS` sets it at start-up, `set_offset` later.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_offset = timedelta(seconds=float(os.environ.get("OKR_CLOCK_OFFSET_SECONDS", "0") or 0))


def now() -> datetime:
    """The current instant, timezone-aware in UTC, shifted by the configured offset."""
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    return _offset


def set_offset(value: timedelta) -> None:
    """Move the bot's notion of now by `value` relative to the system clock."""
    global _offset
    _offset = value


def advance(by: timedelta) -> None:
    """Move the bot's notion of now forward by `by`."""
    set_offset(_offset + by)
