"""The weekly ceremony end to end over the emulator: tick → outbox → prompt and DMs posted
→ threaded replies and DM replies recorded and confirmed → the prompt shows who checked in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Checkin, InboxEvent, OutboxItem, Person, Prompt, PromptLine
from bot.sandbox.conversation import Conversation
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, WorldTeam, build_world
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


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(
        database_url=url, over_http=False, outbox_poll_seconds=0.05, update_every_seconds=30
    ) as running:
        yield running


async def start_round(stack: SandboxStack, **world: object) -> tuple[World, Ceremony]:
    assert stack.app is not None and stack.ws is not None
    made = await build_world(stack.app.sessions, stack.slack, stack.ws, **world)  # type: ignore[arg-type]
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    return made, ceremony


async def team_round(
    stack: SandboxStack, **world: object
) -> tuple[World, Ceremony, SlackDriver, WorldTeam, Message]:
    """One team's round sent: the world, the clock's parts, the driver, the team, its prompt."""
    made, ceremony = await start_round(stack, **world)
    assert stack.driver is not None
    team = made.teams[0]
    [prompt] = bot_messages(stack, team.channel.id)
    return made, ceremony, stack.driver, team, prompt


def bot_messages(stack: SandboxStack, channel: str) -> list[Message]:
    assert stack.ws is not None
    return [
        m
        for m in stack.slack.channel_messages(channel)
        if m.bot_id == stack.ws.bot_id and not m.thread_ts
    ]


async def checkins(stack: SandboxStack) -> list[tuple[int, str, float | None, str, bool]]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = await session.execute(select(Checkin).order_by(Checkin.id))
        return [
            (c.key_result_id, c.period, c.value, c.source, c.retraction) for c in rows.scalars()
        ]


async def test_prompt_and_dms_go_out_once_with_numbered_lines(stack: SandboxStack) -> None:
    world, ceremony = await start_round(stack, teams=2, owners_per_team=2)
    assert stack.app is not None
    for team in world.teams:
        [prompt] = bot_messages(stack, team.channel.id)
        text = str(prompt.blocks)
        assert "Weekly check-in" in text and "2026-W49" in text and "*1.*" in text
        assert prompt.metadata and prompt.metadata["event_payload"]["key"].startswith("prompt:")
        for owner in team.owners:
            [dm] = [m for m in stack.slack.dms(owner.id) if m.bot_id]
            assert "Your weekly check-in" in str(dm.blocks)
    # Again: nothing new, whatever the ticks.
    await ceremony.tick()
    await ceremony.tick(MONDAY_TEN + timedelta(hours=5))
    await ceremony.sender.drain()
    assert all(len(bot_messages(stack, t.channel.id)) == 1 for t in world.teams)
    async with stack.app.sessions() as session:
        prompts = (await session.execute(select(Prompt))).scalars().all()
        lines = (await session.execute(select(PromptLine))).scalars().all()
        people = (await session.execute(select(Person))).scalars().all()
    assert len(prompts) == 2 + 4 and len(lines) == 4 + 4
    assert all(p.im_channel_id for p in people if p.name.startswith("owner"))
    assert {p.period for p in prompts} == {"2026-W49"}


async def test_threaded_reply_records_confirms_and_updates_the_prompt(
    stack: SandboxStack,
) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    ana, ben = team.owners
    reply = await d.say(
        ana, "#1 45 conf 7 — good week\nKR2 40\nKR999 3", channel=team.channel, thread_ts=prompt.ts
    )
    rows = await checkins(stack)
    assert rows == [(team.key_result_ids[0], "2026-W49", 45.0, "thread", False)]
    thread = stack.slack.thread(team.channel.id, prompt.ts)
    answer = thread[-1].text
    assert "Recorded for 2026-W49: *KR1* 45 · 45% · confidence 7/10" in answer
    assert "Only KR2's owner" in answer and "There is no KR999" in answer
    assert "white_check_mark" in reply.reactions
    # Ben answers by ref; then the prompt shows both as checked in (one coalesced edit).
    await d.say(ben, "KR2 40 on track", channel=team.channel, thread_ts=prompt.ts)
    set_now(MONDAY_TEN + timedelta(seconds=40))
    await ceremony.sender.drain()
    edits = stack.slack.recorded("chat.update", ok=True)
    assert len(edits) == 1
    assert "Checked in:" in str(prompt.blocks) and ana.id in str(prompt.blocks)


async def test_edits_revise_and_deletes_retract(stack: SandboxStack) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    owner = team.owners[0]
    kr = team.key_result_ids[0]
    reply = await d.say(owner, "#1 45", channel=team.channel, thread_ts=prompt.ts)
    await d.edit(owner, reply, "#1 50")
    await d.delete(owner, reply)
    rows = await checkins(stack)
    assert [(r[2], r[4]) for r in rows] == [(45.0, False), (50.0, False), (None, True)]
    assert all(r[0] == kr and r[1] == "2026-W49" for r in rows)


async def test_retries_and_mentions_count_once(stack: SandboxStack) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts, retries=3)
    assert len(await checkins(stack)) == 1
    async with stack.app.sessions() as session:
        assert len((await session.execute(select(InboxEvent))).scalars().all()) == 1


async def test_dm_reply_answers_the_latest_dm_prompt(stack: SandboxStack) -> None:
    world, _ = await start_round(stack, teams=1, owners_per_team=1)
    d = stack.driver
    assert d is not None
    owner = world.teams[0].owners[0]
    await d.say(owner, "#1 12 at risk — waiting on legal")
    assert await checkins(stack) == [
        (world.teams[0].key_result_ids[0], "2026-W49", 12.0, "dm", False)
    ]
    answer = [m for m in stack.slack.dms(owner.id) if m.bot_id][-1].text
    assert "Recorded for 2026-W49" in answer and "at risk" in answer
    await d.say(owner, "hello there")
    assert (
        "could not find a key result" in [m for m in stack.slack.dms(owner.id) if m.bot_id][-1].text
    )


async def test_threads_the_bot_did_not_start_are_ignored(stack: SandboxStack) -> None:
    world, ceremony = await start_round(stack, teams=1, owners_per_team=1)
    d = stack.driver
    assert d is not None and stack.app is not None
    team = world.teams[0]
    chatter = await d.say(team.owners[0], "lunch?", channel=team.channel)
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=chatter.ts)
    for minutes in (2, 4, 6):  # kept a while in case its prompt is not recorded yet...
        set_now(MONDAY_TEN + timedelta(minutes=minutes))
        await ceremony.retry_inbox()
    assert await checkins(stack) == []  # ...then let go: nothing recorded, nothing said
    assert stack.slack.thread(team.channel.id, chatter.ts)[-1].bot_id is None
    async with stack.app.sessions() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
        assert row.processed_at is not None and row.payload == {}  # its text is not kept
    other = stack.slack.add_channel(stack.ws, "random", members=team.owners)  # type: ignore[arg-type]
    elsewhere = await d.say(team.owners[0], "lunch?", channel=other)
    await d.say(team.owners[0], "#1 45", channel=other, thread_ts=elsewhere.ts)
    async with stack.app.sessions() as session:  # not a team channel: not even stored
        assert len((await session.execute(select(InboxEvent))).scalars().all()) == 1


async def test_a_reply_after_midnight_counts_for_the_rounds_period(stack: SandboxStack) -> None:
    world, _ = await start_round(stack, teams=1, owners_per_team=1, team_tz="Asia/Kolkata",
                                 owner_tz="Asia/Kolkata")  # fmt: skip
    d = stack.driver
    assert d is not None
    team = world.teams[0]
    # 10:00 Kolkata on Monday was 04:30 UTC: the tick at 10:00 UTC caught it up.
    [prompt] = bot_messages(stack, team.channel.id)
    set_now(datetime(2026, 12, 6, 19, 0, tzinfo=UTC))  # Monday 00:30 in Kolkata: week W50
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    assert [r[1] for r in await checkins(stack)] == ["2026-W49"]


async def test_a_reply_under_an_old_rounds_prompt_is_explained(stack: SandboxStack) -> None:
    world, ceremony = await start_round(stack, teams=1, owners_per_team=1)
    d = stack.driver
    assert d is not None
    team = world.teams[0]
    [old] = bot_messages(stack, team.channel.id)
    set_now(MONDAY_TEN + timedelta(days=7))
    await ceremony.tick()
    await ceremony.sender.drain()
    assert len(bot_messages(stack, team.channel.id)) == 2
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=old.ts)
    assert await checkins(stack) == []
    assert "replaced by 2026-W50" in stack.slack.thread(team.channel.id, old.ts)[-1].text


async def test_outbox_rows_end_sent(stack: SandboxStack) -> None:
    await start_round(stack, teams=1, owners_per_team=2)
    assert stack.app is not None
    async with stack.app.sessions() as session:
        states = (await session.execute(select(OutboxItem.kind, OutboxItem.state))).all()
    assert sorted(states) == [("dm", "sent"), ("dm", "sent"), ("prompt", "sent")]


async def test_checkin_now_runs_the_round_once_and_only_for_a_lead(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    set_now(MONDAY_TEN - timedelta(days=2))  # Saturday: the round is not due until Monday
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1)
    ceremony = Ceremony(stack.app)
    team = world.teams[0]
    talk = Conversation(stack.driver)
    refused = await talk.command(team.owners[0], "checkin now", channel=team.channel)
    assert "Only the lead of Team 0" in refused.text
    started = await talk.command(team.lead, "checkin now", channel=team.channel)
    assert "Started Team 0's 2026-W48 check-in" in started.text
    await ceremony.sender.drain()
    assert len(bot_messages(stack, team.channel.id)) == 1
    assert all(len([m for m in stack.slack.dms(o.id) if m.bot_id]) == 1 for o in team.owners)
    again = await talk.command(team.lead, "checkin now Team 0", channel=team.channel)
    assert "has already gone to" in again.text
    await ceremony.tick()
    await ceremony.sender.drain()
    assert len(bot_messages(stack, team.channel.id)) == 1


async def test_the_check_in_button_records_to_the_prompts_period(stack: SandboxStack) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    owner = team.owners[1]
    set_now(MONDAY_TEN + timedelta(days=8))  # a week later: the open period is W50 by now
    await d.click(owner, action_id="checkin_from_prompt", message=prompt)
    modal = await d.modal(owner)
    shown = str(modal.view["blocks"])
    assert "For 2026-W49" in shown and "KR2" in shown and "KR1" not in shown
    values = {"value:KR2": {"value": {"type": "plain_text_input", "value": "44"}}}
    await d.submit(owner, modal, values)
    assert await checkins(stack) == [(team.key_result_ids[1], "2026-W49", 44.0, "modal", False)]


async def test_the_button_of_a_replaced_round_explains_like_a_reply_would(
    stack: SandboxStack,
) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    set_now(MONDAY_TEN + timedelta(days=7))  # the next round goes out
    await ceremony.tick()
    await ceremony.sender.drain()
    assert len(bot_messages(stack, team.channel.id)) == 2
    await d.click(team.owners[0], action_id="checkin_from_prompt", message=prompt)
    shown = str((await d.modal(team.owners[0])).view["blocks"])
    assert "replaced by 2026-W50" in shown and "value:" not in shown
    assert await checkins(stack) == []


async def test_before_the_digest_the_dm_sweep_records_a_reply_slack_never_delivered(
    stack: SandboxStack,
) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    ana, ben = team.owners
    assert stack.ws is not None
    await d.say(ben, "#1 41")  # delivered as usual
    im = stack.slack.state.im_with(stack.ws, ana)
    lost = Message(im.id, stack.slack.state.new_ts(), "#1 45 conf 6", user=ana.id)
    stack.slack.state.messages.setdefault(im.id, []).append(lost)  # Slack gave up on it
    assert await checkins(stack) == [(team.key_result_ids[1], "2026-W49", 41.0, "dm", False)]
    set_now(MONDAY_TEN + timedelta(days=1))  # too early: the digest is Wednesday 10:00
    await ceremony.tick()
    assert len(await checkins(stack)) == 1
    set_now(MONDAY_TEN + timedelta(days=2) - timedelta(minutes=20))
    await ceremony.tick()
    rows = await checkins(stack)
    assert (team.key_result_ids[0], "2026-W49", 45.0, "dm", False) in rows and len(rows) == 2
    assert "Recorded for 2026-W49" in [m for m in stack.slack.dms(ana.id) if m.bot_id][-1].text
    await ceremony.tick()  # swept once
    set_now(MONDAY_TEN + timedelta(days=2) - timedelta(minutes=5))
    await ceremony.tick()
    assert len(await checkins(stack)) == 2


async def test_a_reminder_lists_only_what_is_missing_a_day_later(stack: SandboxStack) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    ana, ben = team.owners
    await d.say(ana, "#1 45", channel=team.channel, thread_ts=prompt.ts)
    set_now(MONDAY_TEN + timedelta(hours=23, minutes=59))
    await ceremony.tick()
    await ceremony.sender.drain()
    assert [m for m in stack.slack.dms(ben.id) if m.bot_id and "Reminder" in str(m.blocks)] == []
    set_now(MONDAY_TEN + timedelta(days=1))
    await ceremony.tick()
    await ceremony.sender.drain()
    [reminder] = [m for m in stack.slack.dms(ben.id) if m.bot_id and "Reminder" in str(m.blocks)]
    assert "*KR2*" in str(reminder.blocks) and "*KR1*" not in str(reminder.blocks)
    assert not [m for m in stack.slack.dms(ana.id) if m.bot_id and "Reminder" in str(m.blocks)]
    # A reply to the reminder counts: its line 1 is KR2.
    await d.say(ben, "#1 41 conf 8")
    assert (team.key_result_ids[1], "2026-W49", 41.0, "dm", False) in await checkins(stack)


def inbox_store_gone(monkeypatch: pytest.MonkeyPatch) -> object:
    """The inbox cannot be written (the database is away); returns the real writer."""
    from bot.services import inbox

    real = inbox.store

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(inbox, "store", broken)
    return real


async def test_an_inbox_that_cannot_store_spools_and_the_reply_counts_once(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database cannot take the event: it is acknowledged from the spool, stored when
    the database is back, and Slack's retry of it changes nothing."""
    from bot.services import inbox

    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    real_store = inbox_store_gone(monkeypatch)
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    assert d.last_answers[0].status == 200 and stack.app.spool.pending() == 1
    assert await checkins(stack) == []
    sessions = stack.app.sessions

    async def keep(record: dict[str, object]) -> None:
        await inbox.keep_spooled(sessions, record)

    assert await stack.app.spool.drain(keep) == 0  # still away: it stays in the spool
    assert stack.app.spool.pending() == 1
    monkeypatch.setattr(inbox, "store", real_store)
    assert await stack.app.spool.drain(keep) == 1 and stack.app.spool.pending() == 0
    assert (await d.retry_last_event(1)).status == 200  # Slack delivers it again anyway
    set_now(MONDAY_TEN + timedelta(minutes=2))
    await ceremony.retry_inbox()
    assert await checkins(stack) == [(team.key_result_ids[0], "2026-W49", 45.0, "thread", False)]


async def test_when_the_spool_fails_too_the_answer_is_503_and_the_retry_counts_once(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import inbox
    from bot.spool import SpoolUnavailable

    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    real_store = inbox_store_gone(monkeypatch)

    def full(*_args: object, **_kwargs: object) -> None:
        raise SpoolUnavailable("disk full")

    monkeypatch.setattr(stack.app.spool, "append", full)
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    assert d.last_answers[0].status == 503
    assert await checkins(stack) == []
    monkeypatch.setattr(inbox, "store", real_store)
    assert (await d.retry_last_event(1)).status == 200  # Slack delivers it again
    assert (await d.retry_last_event(2)).status == 200
    assert await checkins(stack) == [(team.key_result_ids[0], "2026-W49", 45.0, "thread", False)]


async def test_a_reply_whose_processing_failed_is_retried_by_the_clock(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import intake

    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    real = intake.record_checkin

    async def flaky(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(intake, "record_checkin", flaky)
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    assert await checkins(stack) == []
    async with stack.app.sessions() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
        assert row.processed_at is None and "lost the connection" in (row.error or "")
    monkeypatch.setattr(intake, "record_checkin", real)
    assert await ceremony.retry_inbox() == 0  # not old enough yet
    set_now(MONDAY_TEN + timedelta(minutes=2))
    assert await ceremony.retry_inbox() == 1
    assert await ceremony.retry_inbox() == 0
    assert len(await checkins(stack)) == 1
    assert "Recorded for 2026-W49" in stack.slack.thread(team.channel.id, prompt.ts)[-1].text


async def test_a_reply_that_mentions_the_bot_counts_once(stack: SandboxStack) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None and stack.ws is not None
    await d.mention(team.owners[0], team.channel, "#1 45", thread_ts=prompt.ts)
    assert await checkins(stack) == [(team.key_result_ids[0], "2026-W49", 45.0, "thread", False)]
    confirmations = [m for m in stack.slack.thread(team.channel.id, prompt.ts) if m.bot_id]
    assert [m.text for m in confirmations] == ["Recorded for 2026-W49: *KR1* 45 · 45%."]
    async with stack.app.sessions() as session:
        assert len((await session.execute(select(InboxEvent))).scalars().all()) == 1


async def test_the_inbox_forgets_events_after_thirty_days(stack: SandboxStack) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    set_now(MONDAY_TEN + timedelta(days=29))
    await ceremony.tick()
    async with stack.app.sessions() as session:
        assert len((await session.execute(select(InboxEvent))).scalars().all()) == 1
    set_now(MONDAY_TEN + timedelta(days=30, minutes=1))
    await ceremony.tick()
    async with stack.app.sessions() as session:
        assert (await session.execute(select(InboxEvent))).first() is None
    assert len(await checkins(stack)) == 1  # the check-in itself stays


async def test_a_dm_answer_updates_the_channel_prompt_too(stack: SandboxStack) -> None:
    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    await d.say(team.owners[0], "#1 45")  # in the DM, not the thread
    set_now(MONDAY_TEN + timedelta(seconds=5))
    await ceremony.sender.drain()
    assert len(stack.slack.recorded("chat.update", ok=True)) == 1
    assert f"Checked in: <@{team.owners[0].id}>" in str(prompt.blocks)


async def test_an_edited_prompt_keeps_its_line_numbers(stack: SandboxStack) -> None:
    from bot.models import KeyResult

    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=2)
    assert stack.app is not None
    async with stack.app.sessions.begin() as session:
        first = await session.get(KeyResult, team.key_result_ids[0])
        assert first is not None
        first.state = "archived"
    await d.say(team.owners[1], "#2 41", channel=team.channel, thread_ts=prompt.ts)
    set_now(MONDAY_TEN + timedelta(seconds=5))
    await ceremony.sender.drain()
    shown = str(prompt.blocks)
    assert "*2.* *KR2*" in shown and "*1.*" not in shown and "*KR1*" not in shown
    await d.say(team.owners[1], "#2 42", channel=team.channel, thread_ts=prompt.ts)
    assert [r[2] for r in await checkins(stack)] == [41.0, 42.0]


async def test_an_absurd_key_result_number_is_explained_and_the_rest_counts(
    stack: SandboxStack,
) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    text = "KR99999999999999999999 3\n#1 45"
    await d.say(team.owners[0], text, channel=team.channel, thread_ts=prompt.ts)
    assert [r[2] for r in await checkins(stack)] == [45.0]
    assert "far too big" in stack.slack.thread(team.channel.id, prompt.ts)[-1].text


async def test_editing_a_reply_into_chatter_withdraws_it(stack: SandboxStack) -> None:
    world, _, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    reply = await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    await d.edit(team.owners[0], reply, "oops, wrong thread")
    assert [(r[2], r[4]) for r in await checkins(stack)] == [(45.0, False), (None, True)]


async def test_editing_an_old_dm_reply_keeps_its_own_week(stack: SandboxStack) -> None:
    world, ceremony = await start_round(stack, teams=1, owners_per_team=1)
    d = stack.driver
    assert d is not None
    owner = world.teams[0].owners[0]
    reply = await d.say(owner, "#1 45")
    set_now(MONDAY_TEN + timedelta(days=7))
    await ceremony.tick()
    await ceremony.sender.drain()  # the W50 DM is out now
    await d.edit(owner, reply, "#1 46 — typo")
    rows = await checkins(stack)
    assert [(r[1], r[2], r[4]) for r in rows] == [
        ("2026-W49", 45.0, False),
        ("2026-W49", 46.0, False),
    ]


async def test_a_late_processed_post_does_not_beat_its_edit(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.repository.checkins import current_values
    from bot.services import intake

    world, ceremony, d, team, prompt = await team_round(stack, teams=1, owners_per_team=1)
    assert stack.app is not None
    real = intake.record_checkin
    calls = {"n": 0}

    async def first_fails(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("lost the connection")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intake, "record_checkin", first_fails)
    reply = await d.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    await d.edit(team.owners[0], reply, "#1 50")
    set_now(MONDAY_TEN + timedelta(minutes=2))
    assert await ceremony.retry_inbox() == 1  # the post, processed after its edit
    async with stack.app.sessions() as session:
        now = await current_values(
            session, workspace_id=world.workspace_id, key_result_ids=team.key_result_ids
        )
    assert now[team.key_result_ids[0]].value == 50.0


# One reply per row, in order, in one round: what each must record (key result by its line
# in the prompt, value, status, confidence, note) and what the bot must say about the rest.
# Lines 1-2 are the world's number key results, 3 percent, 4 milestone, 5 currency.
Recorded = tuple[int, float, str | None, int | None, str | None]
REPLY_TABLE: list[tuple[str, list[Recorded], list[str]]] = [
    ("#1 45", [(1, 45.0, None, None, None)], []),
    ("KR1: 46 conf 7 — good week", [(1, 46.0, None, 7, "good week")], []),
    ("2) 1.2k", [(2, 1200.0, None, None, None)], []),
    ("#2 12,5", [(2, 12.5, None, None, None)], []),
    ("#2 12,000 on track", [(2, 12000.0, "on_track", None, None)], []),
    ("#3 45%", [(3, 45.0, None, None, None)], []),
    ("#1 45%", [], ["not in %"]),
    ("#4 done: launched", [(4, 1.0, None, None, "launched")], []),
    ("#1 done", [], ["`done` is for milestones"]),
    ("#5 $12,000", [(5, 12000.0, None, None, None)], []),
    ("#1 +4", [(1, 50.0, None, None, None)], []),
    ("#1 -2 🔴", [(1, 48.0, "off_track", None, None)], []),
    ("#1 :large_yellow_circle: 6/10", [(1, 48.0, "at_risk", 6, None)], []),
    ("#1 49 conf 11", [], ["conf"]),
    ("#9 45", [], ["there is no line 9"]),
    ("#1 50\n#2 forty", [(1, 50.0, None, None, None)], ["could not read “forty” after #2"]),
    ("Hi!\n• #1 51 - shipped\nand docs", [(1, 51.0, None, None, "shipped\nand docs")], []),
    ("<@UBOT> #1 52", [(1, 52.0, None, None, None)], []),
    ("#1 53\n#1 54", [(1, 53.0, None, None, None)], []),  # the first of one key result wins
]  # fmt: skip


async def test_the_reply_table(stack: SandboxStack) -> None:
    from bot.models import KeyResult, Objective

    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1)
    team = world.teams[0]
    async with stack.app.sessions.begin() as session:
        first = await session.get(KeyResult, team.key_result_ids[0])
        assert first is not None
        objective = await session.get(Objective, first.objective_id)
        assert objective is not None
        for number, (kind, unit, start, target) in enumerate(
            [
                ("percent", "%", 10.0, 90.0),
                ("milestone", "", 0.0, 1.0),
                ("currency", "$", 0.0, 5e4),
            ],
            start=3,
        ):
            session.add(
                KeyResult(
                    workspace_id=world.workspace_id, ref_number=number, objective_id=objective.id,
                    owner_person_id=world.person(team.lead), title=f"{kind} key result",
                    kind=kind, unit=unit, start_value=start, target_value=target,
                )
            )  # fmt: skip
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = bot_messages(stack, team.channel.id)
    async with stack.app.sessions() as session:
        by_line = {
            line.line_no: line.key_result_id
            for line in (
                await session.execute(
                    select(PromptLine)
                    .join(Prompt, Prompt.id == PromptLine.prompt_id)
                    .where(Prompt.kind == "round")
                )
            ).scalars()
        }
    assert len(by_line) == 5
    seen = 0
    for number, (text, expected, said) in enumerate(REPLY_TABLE, start=1):
        reply = await stack.driver.say(
            team.lead, text.replace("UBOT", stack.ws.bot_user_id), channel=team.channel,
            thread_ts=prompt.ts, raw="<@" in text,
        )  # fmt: skip
        async with stack.app.sessions() as session:
            rows = (await session.execute(select(Checkin).order_by(Checkin.id))).scalars().all()
        added, seen = rows[seen:], len(rows)
        new = [(r.key_result_id, r.value, r.status, r.confidence, r.note) for r in added]
        want = [(by_line[line], v, s, c, n) for line, v, s, c, n in expected]
        assert new == want, f"row {number}: {text!r}"
        assert all(r.source_ref == f"{team.channel.id}:{reply.ts}" for r in added)
        answer = stack.slack.thread(team.channel.id, prompt.ts)[-1]
        for words in said:
            assert answer.bot_id and words in answer.text, f"row {number}: {answer.text!r}"
        if not said:
            assert ":warning:" not in answer.text, f"row {number}: {answer.text!r}"


async def test_dms_follow_the_time_zone_slack_knows_for_each_person(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1)
    team = world.teams[0]
    ravi = team.owners[0]
    ravi.tz = "Asia/Kolkata"  # Slack's profile; the bot has not heard of it yet
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Person).values(timezone=None))
    set_now(datetime(2026, 11, 30, 4, 30, tzinfo=UTC))  # Monday 10:00 in Kolkata
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    assert [m for m in stack.slack.dms(ravi.id) if m.bot_id]  # his 10:00, learnt from Slack
    assert not [m for m in stack.slack.dms(team.owners[1].id) if m.bot_id]  # UTC: 10:00 later
    assert bot_messages(stack, team.channel.id) == []
    async with stack.app.sessions() as session:
        zones = {
            p.slack_user_id: p.timezone for p in (await session.execute(select(Person))).scalars()
        }
    assert zones[ravi.id] == "Asia/Kolkata" and zones[team.owners[1].id] == "UTC"
    await stack.driver.change_user(ravi, tz="America/Los_Angeles")  # he moved
    async with stack.app.sessions() as session:
        moved = (
            await session.execute(select(Person).where(Person.slack_user_id == ravi.id))
        ).scalar_one()
    assert moved.timezone == "America/Los_Angeles"
