"""`/okr digest`: anyone sees a team's digest so far; its lead (or a facilitator) posts it in
the channel through the outbox, once per request; others are refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Objective, OutboxItem
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49
CYCLE = (date(2026, 11, 2), date(2026, 12, 27))


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(MONDAY_TEN + timedelta(hours=1))
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False, outbox_poll_seconds=0.05) as running:
        yield running


def digests_in(stack: SandboxStack, channel: str) -> list[str]:
    return [
        str(m.blocks)
        for m in stack.slack.channel_messages(channel)
        if str((m.metadata or {}).get("event_payload", {}).get("key", "")).startswith("digest:")
    ]


async def test_anyone_sees_the_digest_only_the_lead_posts_it(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, cycle=CYCLE)
    team, other = world.teams
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(Objective)
            .where(Objective.team_id == team.id)
            .values(title="Ship <!channel> fast")
        )
    d = stack.driver
    outsider = other.owners[0]
    # Anyone: shown to them only, nothing posted.
    answer = await d.command(outsider, f"digest <#{team.channel.id}|team-0>", channel=other.channel)
    assert answer.status == 200
    shown = str(json.loads(answer.body))
    assert "Team 0 · 2026-W49" in shown and "Ship &lt;!channel&gt; fast" in shown
    assert "*KR1*" in shown and "*KR2*" in shown and "(1 week in a row)" in shown
    assert digests_in(stack, team.channel.id) == []
    # A member who is not the lead may not post it.
    answer = await d.command(outsider, "digest post Team 0", channel=other.channel)
    assert "Only the lead of Team 0" in json.loads(answer.body)["text"]
    # The lead posts it from the team's channel; it goes out through the outbox.
    answer = await d.command(team.lead, "digest post", channel=team.channel)
    assert "Posting Team 0's digest for 2026-W49" in json.loads(answer.body)["text"]
    ceremony = Ceremony(stack.app)
    await ceremony.sender.drain()
    [posted] = digests_in(stack, team.channel.id)
    assert "KR1" in posted and "<!channel>" not in posted
    async with stack.app.sessions() as session:
        keys = list(
            (
                await session.execute(
                    select(OutboxItem.idempotency_key).where(OutboxItem.kind == "digest")
                )
            ).scalars()
        )
    assert len(keys) == 1
    assert keys[0].startswith(f"digest:{world.workspace_id}:{team.id}:2026-W49:manual-")
    # A second post a minute later is refused as a double submit.
    set_now(MONDAY_TEN + timedelta(hours=1, minutes=1))
    answer = await d.command(team.lead, "digest post", channel=team.channel)
    assert "was posted a few minutes ago" in json.loads(answer.body)["text"]
    await ceremony.sender.drain()
    assert len(digests_in(stack, team.channel.id)) == 1


async def test_unknown_team_is_named_back_escaped(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, cycle=CYCLE)
    answer = await stack.driver.command(
        world.teams[0].owners[0], "digest <b>nobody</b>", channel=world.teams[0].channel
    )
    assert "No team for &lt;b&gt;nobody&lt;/b&gt;" in json.loads(answer.body)["text"]
