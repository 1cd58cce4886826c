"""bot.clock is the only source of now, and its offset moves it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bot import clock


@pytest.fixture(autouse=True)
def restore_offset() -> Iterator[None]:
    before = clock.offset()
    yield
    clock.set_offset(before)


def test_now_is_aware_utc_and_follows_the_offset() -> None:
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), tick=False):
        assert clock.now() == datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
        clock.set_offset(timedelta(days=2))
        assert clock.now() == datetime(2027, 1, 6, 9, 0, tzinfo=UTC)
        clock.advance(timedelta(hours=1))
        assert clock.now() == datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_a_subprocess_takes_its_offset_from_the_environment() -> None:
    env = dict(os.environ, OKR_CLOCK_OFFSET_SECONDS=str(10 * 365 * 86400))
    out = subprocess.run(
        [sys.executable, "-c", "from bot import clock; print(clock.now().year)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) >= datetime.now(UTC).year + 9
