"""Key results that update themselves, as people see it: a lead gives a key result a source;
the clock pulls it ahead of the round; the weekly prompt and the owner's DM arrive with the
value already filled; the owner's reply adds only a confidence; a value typed the same week
wins over a later pull; a failing source keeps the last good value and says why; a secret is
never shown back, and refused with a clear line when no encryption key is set."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, MetricSourceState
from bot.repository.checkins import current_values
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from tests.ceremony_fixtures import MONDAY_TEN
from tests.databases import Database
from tests.metric_server import MetricServer, metric_server

SECRET = "Bearer pull-s3cret-42"
pytestmark = pytest.mark.usefixtures("monday_ten")


@pytest.fixture
async def keyed_stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(
        database_url=url,
        over_http=False,
        outbox_poll_seconds=0.05,
        token_encryption_key=Fernet.generate_key().decode(),
        metric_source_allow="127.0.0.1",
    ) as running:
        yield running


@pytest.fixture
async def server() -> AsyncIterator[MetricServer]:
    async with metric_server("127.0.0.1") as running:
        yield running


def everything_slack_shows(stack: SandboxStack) -> str:
    state = stack.slack.state
    messages = [m for c in state.channels for m in stack.slack.channel_messages(c)]
    texts = [f"{m.text} {m.blocks}" for m in messages]
    texts += [f"{e.message.text} {e.message.blocks}" for e in state.ephemerals]
    return "\n".join(texts)


async def kr_state(stack: SandboxStack, world: World) -> tuple[KeyResult, float, int | None, str]:
    assert stack.app is not None
    kr_id = world.teams[0].key_result_ids[0]
    async with stack.app.sessions() as session:
        kr = await session.get(KeyResult, kr_id)
        assert kr is not None
        value = (
            await current_values(session, workspace_id=kr.workspace_id, key_result_ids=[kr_id])
        )[kr_id]
    return kr, value.value, value.confidence, str(value.source)


async def test_the_prompt_arrives_filled_and_the_owner_adds_confidence(
    keyed_stack: SandboxStack, server: MetricServer
) -> None:
    stack = keyed_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    team = world.teams[0]
    owner, lead, d = team.owners[0], team.lead, stack.driver
    ref = f"KR{1}"
    clock.set_offset(MONDAY_TEN - timedelta(minutes=13) - clock.now() + clock.offset())

    answer = await d.command(
        lead,
        f"source {ref} {server.url}/metric path=data.total header=Authorization secret={SECRET}",
    )
    said = str((answer.json or {}).get("text"))
    assert f"Saved: *{ref}* is pulled from `{server.url}/metric`, field `data.total`" in said
    assert "Header `Authorization` with a secret (hidden)" in said
    ceremony = Ceremony(stack.app)
    await ceremony.tick()  # 09:47: the pull is owed (P − 15 min), the prompt is not
    assert await ceremony.pulls.drain() == 1
    assert stack.slack.channel_messages(team.channel.id) == []

    clock.set_offset(MONDAY_TEN - clock.now() + clock.offset())
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [m for m in stack.slack.channel_messages(team.channel.id) if not m.thread_ts]
    assert f"*{ref}*" in str(prompt.blocks)
    # Pulled at 09:47 (12 minutes, or 11 on a machine so slow a minute passed meanwhile).
    assert re.search(r"1,240 ← from source, 1[12] min ago \(of 100\)", str(prompt.blocks))
    assert ":white_check_mark: checked in" not in str(prompt.blocks)  # filled, not checked in
    [dm] = [m for m in stack.slack.dms(owner.id) if m.bot_id]
    assert re.search(r"1,240 ← from source, 1[12] min ago", str(dm.blocks))

    # The owner answers with a confidence only: the pulled value stands, now checked in.
    channel = stack.slack.state.channels[prompt.channel]
    await d.say(owner, "#1 conf 8", channel=channel, thread_ts=prompt.ts)
    _kr, value, confidence, source = await kr_state(stack, world)
    assert (value, confidence, source) == (1240.0, 8, "thread")

    # A value typed the same week wins over a later pull, whatever their order.
    await d.say(owner, "#1 1300", channel=channel, thread_ts=prompt.ts)
    server.value = 1250.0
    clock.set_offset(clock.offset() + timedelta(minutes=5))
    answer = await d.command(owner, f"refresh {ref}")
    assert f"Pulling {ref} now" in str((answer.json or {}).get("text"))
    assert await ceremony.pulls.drain() == 1
    _kr, value, confidence, source = await kr_state(stack, world)
    assert (value, confidence, source) == (1300.0, 8, "thread")
    # The refresh did pull (a second refresh in the period is not swallowed either).
    answer = await d.command(owner, f"refresh {ref}")
    assert await ceremony.pulls.drain() == 1
    async with stack.app.sessions() as session:
        pulled = (
            await session.execute(select(Checkin.value).where(Checkin.source == "pull"))
        ).scalars()
        assert sorted(pulled) == [1240.0, 1250.0, 1250.0]
    assert [r.split()[0] for r in server.requests] == [f"127.0.0.1:{server.port}"] * 3

    # A failing source: the error is recorded and shown; the last good value stays.
    server.value = float("nan")  # aiohttp sends NaN, which is not JSON for a number
    await d.command(owner, f"refresh {ref}")
    await ceremony.pulls.drain()
    answer = await d.command(owner, f"source {ref}")
    shown = str((answer.json or {}).get("text"))
    assert "Last value: 1,250 ← from source" in shown
    assert ":warning: The last pull failed just now:" in shown
    assert "The last good value stays." in shown
    async with stack.app.sessions() as session:
        state = await session.get(MetricSourceState, team.key_result_ids[0])
        assert state is not None and state.last_value == 1250.0 and state.last_error
        assert SECRET not in str(state.secret) and "s3cret" not in state.last_error
    assert "s3cret" not in everything_slack_shows(stack)


async def test_a_secret_needs_the_encryption_key(
    ceremony_stack: SandboxStack, server: MetricServer
) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    lead = world.teams[0].lead
    answer = await stack.driver.command(
        lead, f"source KR1 {server.url}/metric path=data.total header=X-Key secret=abc123xyz"
    )
    said = str((answer.json or {}).get("text"))
    assert "this bot has no TOKEN_ENCRYPTION_KEY" in said and "abc123xyz" not in said
    # Without a secret, a source needs no key.
    answer = await stack.driver.command(lead, f"source KR1 {server.url}/metric path=data.total")
    assert "Saved: *KR1*" in str((answer.json or {}).get("text"))


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("source KR1", "KR1 has no source. Give it one with"),
        ("source KR1 https://metrics.example/x", "Give the URL and the field path"),
        ("source KR1 ftp://metrics.example/x path=a", "starts with http:// or https://"),
        ("source KR1 https://metrics.example/x path=a..b", "I could not read that field path"),
        ("source KR1 https://metrics.example/x path=a header=bad:name", "A header name is"),
        ("source KR1 clear", "KR1 has no source."),
        ("source KR99 https://metrics.example/x path=a", "There is no KR99 here"),
        ("refresh KR1", "KR1 has no source: set one with"),
        ("refresh", "Name one key result"),
    ],
)
async def test_bad_source_commands_say_what_to_type(
    ceremony_stack: SandboxStack, typed: str, says: str
) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    answer = await stack.driver.command(world.teams[0].lead, typed)
    assert says in str((answer.json or {}).get("text"))


async def test_only_editors_set_a_source(ceremony_stack: SandboxStack) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    outsider = stack.slack.add_user(stack.ws, "outsider")
    answer = await stack.driver.command(outsider, "source KR1 https://m.example/x path=a")
    assert "Only KR1's owner, its team's lead" in str((answer.json or {}).get("text"))
    async with stack.app.sessions() as session:
        kr = await session.get(KeyResult, world.teams[0].key_result_ids[0])
        assert kr is not None and kr.metric_source is None


async def test_a_failing_source_is_shown_to_the_owner_and_in_the_report(
    keyed_stack: SandboxStack, server: MetricServer
) -> None:
    stack = keyed_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    team, d = world.teams[0], stack.driver
    owner = team.owners[0]
    clock.set_offset(MONDAY_TEN - timedelta(minutes=13) - clock.now() + clock.offset())
    await d.command(team.lead, f"source KR1 {server.url}/nowhere path=data.total")
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    assert await ceremony.pulls.drain() == 1
    clock.set_offset(MONDAY_TEN - clock.now() + clock.offset())
    await ceremony.tick()
    await ceremony.sender.drain()
    [dm] = [m for m in stack.slack.dms(owner.id) if m.bot_id]
    assert ":warning: source failed: The source answered HTTP 404." in str(dm.blocks)
    assert "no value yet" in str(dm.blocks)
    facilitator = stack.slack.add_user(stack.ws, "fac", admin=True)
    answer = await d.command(facilitator, "report")
    assert "× `pull` failed: `The source answered HTTP 404.`" in str(answer.json)
