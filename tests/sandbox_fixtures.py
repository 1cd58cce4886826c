"""The demo company loaded into the sandbox stack on the test's database, with the emulator
on sandbox time (`bot.clock`) and the clock at the demo's first instant. Test modules ask
for `demo_company`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import clock
from bot.sandbox.demo import load_demo, read_demo
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.runner import sandbox_clock
from bot.sandbox.stack import SandboxStack
from bot.sandbox.travel import move_to
from tests.databases import Database

DEMO = read_demo()


@pytest.fixture
async def demo_company(database: Database) -> AsyncIterator[SandboxStack]:
    before = clock.offset()
    url = database.urls.sync_url.render_as_string(hide_password=False)
    slack = SlackEmulator(clock=sandbox_clock)
    try:
        async with SandboxStack(
            database_url=url,
            over_http=False,
            slack=slack,
            outbox_poll_seconds=0.05,
            outbox_messages_per_minute=6000,
            update_every_seconds=0,
        ) as stack:
            assert stack.app is not None and stack.ws is not None
            move_to(DEMO.starts_at)
            await load_demo(stack.app.sessions, slack, stack.ws, DEMO)
            yield stack
    finally:
        clock.set_offset(before)
