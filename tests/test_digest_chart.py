"""The team digest's chart: one PNG a team round, uploaded unshared and posted in the digest's
thread as an image block by its own outbox row (`chart:<ws>:<team>:<period>`), so a crash or a
timeout between the upload and the post still ends with one chart message and one live file;
none for a digest posted by hand or a team with no objectives; the migration that allows the
kind, both ways, on both databases."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import IntegrityError

from bot import clock, migrate
from bot.db import make_sync_engine
from bot.jobs import chart_send, crashpoints
from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, Objective, OutboxItem, Workspace
from bot.models.outbox_keys import OUTBOX_KINDS
from bot.sandbox.emulator.faults import Fault
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, WorldTeam, build_world
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49, P of the world's teams
D = MONDAY_TEN + timedelta(days=2)  # the default digest delay
CYCLE = (date(2026, 11, 2), date(2026, 12, 27))  # 2026-W45 .. 2026-W52
LEASE = 5.0
PAST_LEASE = timedelta(seconds=LEASE + 1)
POST = "chat.postMessage"


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(MONDAY_TEN)
    yield
    crashpoints.disarm()
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    settings: dict[str, Any] = {
        "outbox_poll_seconds": 0.01,
        "outbox_lease_seconds": LEASE,
        "outbox_concurrency": 1,
        "outbox_messages_per_minute": 6000,
    }
    async with SandboxStack(database_url=url, over_http=False, **settings) as running:
        yield running


async def a_round(stack: SandboxStack) -> tuple[World, WorldTeam, Ceremony]:
    """A team with check-ins in three earlier weeks, its round's prompt and DMs sent."""
    assert stack.app is not None and stack.ws is not None
    sessions = stack.app.sessions
    world = await build_world(sessions, stack.slack, stack.ws, owners_per_team=2, cycle=CYCLE)
    team = world.teams[0]
    async with sessions.begin() as session:
        await session.execute(
            update(KeyResult).values(created_at=datetime(2026, 10, 20, tzinfo=UTC))
        )
        for n, (index, period, value) in enumerate(
            [(0, "2026-W46", 10), (0, "2026-W47", 30), (1, "2026-W47", 40), (0, "2026-W48", 50)]
        ):
            session.add(
                Checkin(workspace_id=world.workspace_id, key_result_id=team.key_result_ids[index],
                        period=period, value=value, confidence=7,
                        recorded_at=MONDAY_TEN - timedelta(days=20, hours=-n),
                        source="modal", source_ref=f"V{n}")
            )  # fmt: skip
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    return world, team, ceremony


async def until_digest(stack: SandboxStack, ceremony: Ceremony, team: WorldTeam) -> Message:
    """Ticks at D until the digest's part 1 is in the channel (the chart not queued yet)."""
    set_now(D)
    for _ in range(6):
        await ceremony.tick()
        await ceremony.sender.drain()
        digests = keyed(stack.slack.channel_messages(team.channel.id), "digest:")
        if digests:
            return digests[0]
    raise AssertionError("no digest")


async def settle(ceremony: Ceremony, rounds: int = 4) -> None:
    for _ in range(rounds):
        clock.advance(PAST_LEASE)
        await ceremony.tick()
        await ceremony.sender.drain()


def keyed(messages: list[Message], prefix: str) -> list[Message]:
    return [
        m
        for m in messages
        if str((m.metadata or {}).get("event_payload", {}).get("key", "")).startswith(prefix)
    ]


def charts_in(stack: SandboxStack, team: WorldTeam) -> list[Message]:
    """Chart messages anywhere in the channel: in the digest's thread, or not."""
    state = stack.slack.state
    return keyed([m for m in state.messages.get(team.channel.id, []) if not m.deleted], "chart:")


async def rows(stack: SandboxStack, kind: str) -> list[OutboxItem]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = await session.execute(
            select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)
        )
        return list(found.scalars())


def assert_one_chart(stack: SandboxStack, team: WorldTeam, digest: Message) -> Message:
    """Exactly one chart message, in the digest's thread, showing the one live file."""
    [chart] = charts_in(stack, team)
    assert chart.thread_ts == digest.ts and chart in stack.slack.thread(team.channel.id, digest.ts)
    [image] = [b for b in chart.blocks if b["type"] == "image"]
    [live] = stack.slack.uploaded_files(deleted=False)
    assert image["slack_file"] == {"id": live.id} and image["alt_text"].startswith("Progress of")
    assert stack.slack.files_shown(chart) == [live] and live.shared_in == []
    assert live.content is not None
    with Image.open(io.BytesIO(live.content)) as png:
        assert (png.format, png.size) == ("PNG", (800, 400))
    return chart


async def die() -> None:
    """What SIGKILL does to the rest of the process: every send in flight stops there."""
    me = asyncio.current_task()
    in_flight = [
        task
        for task in asyncio.all_tasks()
        if task is not me
        and getattr(task.get_coro(), "__qualname__", "") == "OutboxSender._guarded"
    ]
    for task in in_flight:
        task.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)


async def test_the_chart_comes_once_in_the_digest_thread(stack: SandboxStack) -> None:
    world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    assert charts_in(stack, team) == [] and stack.slack.uploaded_files() == []
    await settle(ceremony)
    chart = assert_one_chart(stack, team, digest)
    ws = world.workspace_id
    assert chart.metadata is not None
    assert chart.metadata["event_payload"]["key"] == f"chart:{ws}:{team.id}:2026-W49"
    [row] = await rows(stack, "chart")
    assert (row.state, row.slack_channel, row.slack_ts) == ("sent", team.channel.id, chart.ts)
    assert row.payload["thread_ts"] == digest.ts
    assert row.payload["file_id"] == stack.slack.uploaded_files()[0].id
    # The cycle's weeks up to the digest's, in the image's alt text.
    [image] = [b for b in chart.blocks if b["type"] == "image"]
    assert "per week, 2026-W45 to 2026-W49" in image["alt_text"]
    # Later ticks add nothing.
    await settle(ceremony, rounds=2)
    assert len(charts_in(stack, team)) == 1 and len(stack.slack.uploaded_files()) == 1


async def test_a_file_still_processing_is_shown_once_ready_without_a_second_upload(
    stack: SandboxStack,
) -> None:
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    stack.slack.state.file_processing_seconds = 3600.0  # Slack has not processed it yet
    await ceremony.tick()
    await ceremony.sender.drain()
    assert charts_in(stack, team) == []
    [row] = await rows(stack, "chart")
    assert (row.state, row.error) == ("pending", "file not ready")
    for file in stack.slack.uploaded_files():
        file.ready_at = stack.slack.state.clock()  # now it is
    await settle(ceremony)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 1


async def test_a_file_gone_before_it_was_shown_is_uploaded_again(stack: SandboxStack) -> None:
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    stack.slack.state.file_processing_seconds = 3600.0
    await ceremony.tick()
    await ceremony.sender.drain()
    [first] = stack.slack.uploaded_files()
    first.deleted = True  # gone (someone deleted it) before any message showed it
    stack.slack.state.file_processing_seconds = 0.0
    clock.advance(chart_send.FILE_GONE_AFTER)
    await settle(ceremony)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 2


async def test_a_crash_between_upload_and_post_reuses_the_file(stack: SandboxStack) -> None:
    assert stack.app is not None
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    await ceremony.tick()
    crashpoints.arm("uploaded", 1)
    with pytest.raises(crashpoints.SimulatedCrash):
        await ceremony.sender.drain()
    await die()
    crashpoints.disarm()
    [row] = await rows(stack, "chart")
    assert row.state == "sending" and row.payload["file_id"] == stack.slack.uploaded_files()[0].id
    assert charts_in(stack, team) == []
    restarted = Ceremony(stack.app)
    await settle(restarted)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 1  # the kept file, not a second upload


async def test_an_upload_whose_end_is_unknown_is_replaced_and_deleted(stack: SandboxStack) -> None:
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    # Slack completes the upload, the answer is lost: the row knows the file id only.
    stack.slack.faults.fail("files.completeUploadExternal", Fault.ACCEPT_THEN_DROP)
    await ceremony.tick()
    await settle(ceremony)
    assert_one_chart(stack, team, digest)
    first, second = stack.slack.uploaded_files()
    assert first.deleted and not second.deleted
    # The row kept the first file's id: it was deleted before the second upload began
    # (whether the retry comes within the same drain depends on the machine's pace).
    steps = [
        (c.method, c.args.get("file"))
        for c in stack.slack.calls
        if c.method in ("files.getUploadURLExternal", "files.delete")
    ]
    assert steps == [
        ("files.getUploadURLExternal", None),
        ("files.delete", first.id),
        ("files.getUploadURLExternal", None),
    ]


@pytest.mark.parametrize("fault", [Fault.ACCEPT_THEN_DROP, Fault.HTTP_503])
async def test_a_post_whose_outcome_is_unknown_is_looked_up_in_the_thread(
    stack: SandboxStack, fault: Fault
) -> None:
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    stack.slack.faults.fail(POST, fault)  # the next post is the chart (part 2 composes to none)
    await ceremony.tick()
    await settle(ceremony)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 1
    replies = stack.slack.recorded("conversations.replies")
    assert replies and all(c.args["ts"] == digest.ts for c in replies)
    # The post whose outcome was unknown was looked up in the thread before any other post
    # (whether the retry comes within the same drain depends on the machine's pace).
    thread_calls = [
        c.method
        for c in stack.slack.calls
        if c.method == "conversations.replies" or (c.method == POST and "thread_ts" in c.args)
    ]
    assert thread_calls[:2] == [POST, "conversations.replies"]
    posts = [c for c in stack.slack.recorded(POST) if "thread_ts" in c.args]
    assert len(posts) == (1 if fault is Fault.ACCEPT_THEN_DROP else 2)
    [row] = await rows(stack, "chart")
    assert row.state == "sent" and row.attempts == 2


async def workspace_state(stack: SandboxStack) -> tuple[str, str | None]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = (await session.execute(select(Workspace.state, Workspace.pause_reason))).one()
        return found[0], found[1]


async def resume(stack: SandboxStack, scopes: list[str]) -> None:
    assert stack.app is not None and stack.ws is not None
    scopes.append("channels:history")  # the scope is granted again, the workspace resumed
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Workspace).values(state="active", pause_reason=None))


async def test_a_missing_scope_while_reconciling_pauses_the_workspace_and_posts_nothing(
    stack: SandboxStack,
) -> None:
    """The chart's post timed out; reading the thread to reconcile it then meets
    missing_scope (channels:history taken away): workspace-fatal, as the errors table says:
    the workspace is paused, nothing is posted, and once it resumes the thread is read again
    and the chart comes once."""
    assert stack.ws is not None
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    stack.slack.faults.fail(POST, Fault.HTTP_503)  # the chart's post: outcome unknown
    scopes = stack.slack.state.tokens[stack.ws.bot_token].scopes
    scopes.remove("channels:history")  # posting and uploading need other scopes
    await ceremony.tick()
    await settle(ceremony)
    refused = stack.slack.recorded("conversations.replies", ok=False)
    assert refused and refused[0].response["error"] == "missing_scope"
    assert await workspace_state(stack) == ("paused", "missing_scope")
    [row] = await rows(stack, "chart")
    assert (row.state, row.slack_ts) == ("uncertain", None)
    assert charts_in(stack, team) == []
    await resume(stack, scopes)
    await settle(ceremony)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 1  # the first attempt's file, shown at last
    [row] = await rows(stack, "chart")
    assert (row.state, row.error) == ("sent", None)


async def test_a_missing_scope_in_the_duplicate_check_keeps_the_row_sent(
    stack: SandboxStack,
) -> None:
    """A chart posted while the thread was unreadable is checked for copies later; that
    check meeting missing_scope pauses the workspace and leaves the row sent, to be checked
    once the workspace resumes (never posted again)."""
    assert stack.ws is not None
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    stack.slack.faults.fail(POST, Fault.HTTP_503)  # the chart's post: outcome unknown
    stack.slack.faults.fail("conversations.replies", Fault.HTTP_500)  # unreadable: posted
    await ceremony.tick()
    for _ in range(4):  # the retry comes within a drain or the next, by the machine's pace
        await ceremony.sender.drain()
        [row] = await rows(stack, "chart")
        if row.state == "sent":
            break
        clock.advance(timedelta(seconds=1))
    assert (row.state, row.error) == ("sent", chart_send.VERIFY)
    scopes = stack.slack.state.tokens[stack.ws.bot_token].scopes
    scopes.remove("channels:history")
    await settle(ceremony)
    assert await workspace_state(stack) == ("paused", "missing_scope")
    [row] = await rows(stack, "chart")
    assert (row.state, row.error) == ("sent", chart_send.VERIFY)
    await resume(stack, scopes)
    await settle(ceremony)
    [row] = await rows(stack, "chart")
    assert (row.state, row.error) == ("sent", None)
    assert_one_chart(stack, team, digest)


async def test_a_crash_after_the_post_is_found_in_the_thread(stack: SandboxStack) -> None:
    assert stack.app is not None
    _world, team, ceremony = await a_round(stack)
    digest = await until_digest(stack, ceremony, team)
    await ceremony.tick()
    # The digest's second part composes to nothing and posts nothing: the chart answers first.
    crashpoints.arm("answered", 1)
    with pytest.raises(crashpoints.SimulatedCrash):
        await ceremony.sender.drain()
    await die()
    crashpoints.disarm()
    assert len(charts_in(stack, team)) == 1
    restarted = Ceremony(stack.app)
    await settle(restarted)
    assert_one_chart(stack, team, digest)
    assert len(stack.slack.uploaded_files()) == 1
    assert len([c for c in stack.slack.recorded(POST) if "thread_ts" in c.args]) == 1


async def test_no_chart_when_the_team_has_no_objectives_left(stack: SandboxStack) -> None:
    assert stack.app is not None
    _world, team, ceremony = await a_round(stack)
    await until_digest(stack, ceremony, team)
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Objective).values(state="archived"))
    await settle(ceremony)
    assert charts_in(stack, team) == [] and stack.slack.uploaded_files() == []
    [row] = await rows(stack, "chart")
    assert (row.state, row.error) == ("cancelled", "no longer owed")


async def test_no_chart_for_a_digest_posted_by_hand(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.driver is not None
    _world, team, ceremony = await a_round(stack)
    set_now(MONDAY_TEN + timedelta(hours=1))
    answer = await stack.driver.command(team.lead, "digest post", channel=team.channel)
    assert answer.status == 200
    await settle(ceremony)
    [digest] = keyed(stack.slack.channel_messages(team.channel.id), "digest:")
    assert ":manual-" in str(digest.metadata)
    assert await rows(stack, "chart") == [] and stack.slack.uploaded_files() == []
    assert charts_in(stack, team) == []


REFUSED = "ck_outbox_kind_allowed"


def _insert_chart_row(connection: Connection, *, workspace: bool = True) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    if workspace:
        connection.execute(
            text(
                "INSERT INTO workspace (id, slack_team_id, name, timezone, settings, state,"
                " created_at, updated_at)"
                " VALUES (1, 'T1', 'Acme', 'UTC', '{}', 'active', :now, :now)"
            ),
            {"now": now},
        )
    connection.execute(
        text(
            "INSERT INTO outbox (workspace_id, kind, idempotency_key, target, period, priority,"
            " state, step, payload, attempts, next_attempt_at, created_at, updated_at)"
            " VALUES (1, 'chart', 'chart:1:1:2026-W49', '1', '2026-W49', 70, 'pending', 0,"
            " '{}', 0, :now, :now, :now)"
        ),
        {"now": now},
    )


def test_the_migration_allows_chart_rows_and_takes_them_back(empty_database: Database) -> None:
    engine = make_sync_engine(empty_database.urls)
    try:
        with engine.connect() as connection:
            migrate.run_on(connection, revision="0002")
            with pytest.raises(IntegrityError, match=REFUSED), connection.begin():
                _insert_chart_row(connection)
        with engine.connect() as connection:
            migrate.run_on(connection, revision="head")
            with connection.begin():
                _insert_chart_row(connection)
        with engine.connect() as connection:
            migrate.run_on(connection, revision="0002", downgrade=True)
            with connection.begin():
                assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
            with pytest.raises(IntegrityError, match=REFUSED), connection.begin():
                _insert_chart_row(connection, workspace=False)
    finally:
        engine.dispose()


def test_every_kind_of_the_model_is_allowed_at_head(database: Database) -> None:
    """Alembic's drift check does not compare CHECK constraints: this does, for the kinds."""
    engine = make_sync_engine(database.urls)
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    try:
        with engine.connect() as connection, connection.begin():
            _insert_chart_row(connection)
            for n, kind in enumerate(OUTBOX_KINDS):
                connection.execute(
                    text(
                        "INSERT INTO outbox (workspace_id, kind, idempotency_key, target,"
                        " priority, state, step, payload, attempts, next_attempt_at,"
                        " created_at, updated_at) VALUES (1, :kind, :key, '1', 1, 'pending',"
                        " 0, '{}', 0, :now, :now, :now)"
                    ),
                    {"kind": kind, "key": f"{kind}:{n}", "now": now},
                )
    finally:
        engine.dispose()
