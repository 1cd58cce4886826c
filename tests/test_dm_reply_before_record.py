"""A reply in the DM while this week's check-in DM is posted but not recorded yet (the clock
died between Slack's answer and its record, or the record is still being written): the reply
waits for the record instead of being refused or read against last week's DM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import clock
from bot.jobs import crashpoints
from bot.jobs.clock import Ceremony
from bot.jobs.replies import NO_PROMPT
from bot.models import Checkin, InboxEvent
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(MONDAY_TEN)
    yield
    clock.set_offset(before)
    crashpoints.disarm()


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(
        database_url=url, over_http=False, outbox_poll_seconds=0.05, outbox_concurrency=1
    ) as running:
        yield running


async def test_a_dm_reply_waits_for_its_dm_to_be_recorded(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    owner, kr = world.teams[0].owners[0], world.teams[0].key_result_ids[0]
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    crashpoints.arm("answered", 2)  # the prompt is recorded; the DM is posted, not recorded
    with pytest.raises(crashpoints.SimulatedCrash):
        await ceremony.sender.drain()
    crashpoints.disarm()
    assert [m for m in stack.slack.dms(owner.id) if m.bot_id]  # the person sees the DM

    await stack.driver.say(owner, "#1 12")
    async with stack.app.sessions() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
        assert row.processed_at is None  # kept for the retry, not refused
        assert (await session.execute(select(Checkin))).scalars().all() == []
    assert not any(NO_PROMPT in (m.text or "") for m in stack.slack.dms(owner.id))

    set_now(MONDAY_TEN + timedelta(minutes=5))  # past the lease: a restarted clock
    restarted = Ceremony(stack.app)
    await restarted.tick()  # reconciles the DM (found by its key), then retries the inbox
    await restarted.sender.drain()
    await restarted.retry_inbox()
    async with stack.app.sessions() as session:
        rows = (await session.execute(select(Checkin))).scalars().all()
    assert [(c.key_result_id, c.period, c.value, c.source) for c in rows] == [
        (kr, "2026-W49", 12.0, "dm")
    ]
    answer = [m for m in stack.slack.dms(owner.id) if m.bot_id][-1].text or ""
    assert "Recorded for 2026-W49" in answer
