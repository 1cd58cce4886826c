"""Fixtures for tests of the weekly ceremony over the emulator: a clock frozen at a Monday
10:00 UTC (2026-W49) and the sandbox stack on the test's database. Test modules ask for them
with `pytestmark = pytest.mark.usefixtures("monday_ten")` and a `ceremony_stack` argument."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import clock
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.stack import SandboxStack
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49


@pytest.fixture
def monday_ten() -> Iterator[datetime]:
    before = clock.offset()
    clock.set_offset(MONDAY_TEN - datetime.now(UTC))
    yield MONDAY_TEN
    clock.set_offset(before)


@pytest.fixture
async def ceremony_stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False, outbox_poll_seconds=0.05) as running:
        yield running


@asynccontextmanager
async def clocked_stack(database: Database, **options: Any) -> AsyncIterator[SandboxStack]:
    """The stack on the test's database, its Slack telling time by the bot's clock (message
    times and check-in times agree when a test moves the clock), sending every 50 ms."""
    url = database.urls.sync_url.render_as_string(hide_password=False)
    slack = SlackEmulator(clock=lambda: clock.now().timestamp())
    async with SandboxStack(
        database_url=url, over_http=False, slack=slack, outbox_poll_seconds=0.05, **options
    ) as running:
        yield running
