"""The outbox under crashes and Slack faults: in the end exactly one live message per
idempotency key, every row `sent`, and the database pointing at that message.

Crashes are simulated in process (`bot.jobs.crashpoints`): the sender "dies" at a named
boundary, every send still in flight is cancelled where it stands, and a new `Ceremony` (a
restart: no pacing memory, no cached clients) takes over once the bot's clock has passed
the leases. Faults come from the emulator's seeded fault plan (`OKR_FAULT_SEED` overrides
the seed; it is printed with each case's numbers, `pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import select, update

from bot import clock
from bot.blocks.checkin import METADATA_EVENT
from bot.jobs import crashpoints
from bot.jobs.clock import Ceremony
from bot.jobs.outbox_rows import SendStats, prepare
from bot.models import Checkin, OutboxItem, Person, Prompt, Team, Workspace
from bot.sandbox.emulator.faults import Fault, Planned
from bot.sandbox.emulator.state import DEFAULT_BOT_SCOPES
from bot.sandbox.emulator.state import Workspace as EmulatedWorkspace
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49, the teams' check-in time
LEASE = 5.0  # seconds of the bot's clock; restarts move the clock past it
PAST_LEASE = timedelta(seconds=LEASE + 1)
POST = "chat.postMessage"
HISTORY = "conversations.history"
SEED = int(os.environ.get("OKR_FAULT_SEED", "20261130"))

StackFactory = Callable[..., Awaitable[SandboxStack]]


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(MONDAY_TEN)
    yield
    crashpoints.disarm()
    clock.set_offset(before)


@pytest.fixture(autouse=True)
def nothing_fails_unexpectedly(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every Slack failure is classified: none reaches the sender's catch-all."""
    yield
    errors = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.name.startswith("bot.") and r.levelno >= logging.ERROR
    ]
    assert errors == []


@pytest.fixture
async def make_stack(database: Database) -> AsyncIterator[StackFactory]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    started: list[SandboxStack] = []

    async def make(**settings: Any) -> SandboxStack:
        defaults: dict[str, Any] = {
            "outbox_poll_seconds": 0.01,
            "outbox_lease_seconds": LEASE,
            "outbox_messages_per_minute": 6000,
        }
        stack = SandboxStack(database_url=url, over_http=False, **(defaults | settings))
        started.append(stack)
        return await stack.start()

    yield make
    for stack in started:
        await stack.stop()


# --- what Slack holds and what the database says ---------------------------------------------


@dataclass
class Ledger:
    """The bot's top-level messages in every channel and DM, by the key in their metadata."""

    live: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)  # posted, then removed as duplicates
    where: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> a live (channel, ts)

    @property
    def duplicates_deleted(self) -> int:
        return sum(self.deleted.values())


def ledger(stack: SandboxStack) -> Ledger:
    state = stack.slack.state
    bots = {ws.bot_id for ws in state.workspaces.values()}
    book = Ledger()
    for channel, messages in state.messages.items():
        for message in messages:
            metadata = message.metadata or {}
            if message.bot_id not in bots or message.thread_ts not in (None, message.ts):
                continue
            if metadata.get("event_type") != METADATA_EVENT:
                continue
            key = str(metadata["event_payload"]["key"])
            if message.deleted:
                book.deleted[key] += 1
            else:
                book.live[key] += 1
                book.where[key] = (channel, message.ts)
    return book


async def outbox(stack: SandboxStack) -> list[OutboxItem]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        return list((await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


async def assert_exactly_once(stack: SandboxStack, *, rows: int) -> Ledger:
    """Every row sent, one live message per key, and the rows and prompts point at it."""
    assert stack.app is not None
    items = await outbox(stack)
    assert len(items) == rows
    assert [(r.idempotency_key, r.state, r.error) for r in items if r.state != "sent"] == []
    assert [(r.idempotency_key, r.error) for r in items if r.error is not None] == []
    book = ledger(stack)
    keys = {r.idempotency_key for r in items}
    assert {k: n for k, n in book.live.items() if n != 1} == {}
    assert set(book.live) == keys
    for item in items:
        assert (item.slack_channel, item.slack_ts) == book.where[item.idempotency_key]
    async with stack.app.sessions() as session:
        prompts = (await session.execute(select(Prompt))).scalars().all()
    live = set(book.where.values())
    assert [
        (p.channel_id, p.message_ts) for p in prompts if (p.channel_id, p.message_ts) not in live
    ] == []
    by_row = Counter(p.outbox_id for p in prompts)
    message_rows = [r.id for r in items if r.kind in ("prompt", "dm")]
    assert {i: by_row[i] for i in message_rows if by_row[i] != 1} == {}
    return book


def report(name: str, stats: SendStats, book: Ledger, **extra: object) -> None:
    details = " ".join(f"{k}={v}" for k, v in extra.items())
    print(
        f"\n[{name}] sent={stats.sent} reconciled={stats.reconciled} "
        f"retried={stats.retried} rate_limited={stats.rate_limited} "
        f"duplicates_deleted={stats.duplicates_deleted} "
        f"transient_duplicates={book.duplicates_deleted} {details}"
    )


# --- 1. crashes at each boundary, then a restart --------------------------------------------


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


CRASHES = [
    # (crashes before the final run, how many rows the final run finds already posted)
    pytest.param([("claimed", 1)], 0, id="claimed"),
    pytest.param([("answered", 1)], 1, id="answered-first"),
    pytest.param([("answered", 4)], 1, id="answered-fourth"),
    pytest.param([("answered", 1), ("reconciling", 1)], 1, id="reconciling-found"),
    pytest.param([("answered", 1), ("reconciling", 2)], 0, id="reconciling-not-found"),
]


@pytest.mark.parametrize(("crashes", "found"), CRASHES)
async def test_a_crash_then_a_restart_leaves_one_message_per_key(
    make_stack: StackFactory, crashes: list[tuple[str, int]], found: int
) -> None:
    # One send at a time: which rows are done, in doubt or untouched at the crash is fixed.
    stack = await make_stack(outbox_concurrency=1)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=2)
    for boundary, nth in crashes:
        ceremony = Ceremony(stack.app)  # a (re)start
        await ceremony.tick()
        crashpoints.arm(boundary, nth)
        with pytest.raises(crashpoints.SimulatedCrash):
            await ceremony.sender.drain()
        await die()
        crashpoints.disarm()
        assert "sending" in {r.state for r in await outbox(stack)}
        clock.advance(PAST_LEASE)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    stats = await ceremony.sender.drain()
    book = await assert_exactly_once(stack, rows=2 + 4)
    assert stats.reconciled == found
    assert book.duplicates_deleted == 0  # no timeouts: nothing was ever posted twice
    assert len(stack.slack.recorded(POST, ok=True)) == 2 + 4
    # Later rounds change nothing.
    clock.advance(PAST_LEASE)
    await ceremony.tick()
    await ceremony.sender.drain()
    assert len(stack.slack.recorded(POST, ok=True)) == 2 + 4
    report("+".join(f"{b}:{n}" for b, n in crashes), stats, book)


# --- 2. Slack failing a fifth of the calls ----------------------------------------------------

TOTAL_FRACTION = 0.2
SLOW_DELAY = 0.6  # the answer comes after the client (0.3 s) has given up
FAULT_CASES = [
    pytest.param([(Fault.RATELIMITED, POST)], id="429"),
    pytest.param([(Fault.HTTP_500, POST), (Fault.HTTP_503, POST)], id="5xx"),
    pytest.param([(Fault.FATAL_ERROR, POST)], id="fatal_error"),
    pytest.param([(Fault.ACCEPT_THEN_DROP, POST)], id="accept_then_drop"),
    pytest.param([(Fault.SLOW, POST)], id="timeouts"),
    pytest.param(
        [
            (Fault.ACCEPT_THEN_DROP, POST),
            (Fault.SLOW, POST),
            (Fault.HTTP_503, HISTORY),
            (Fault.SLOW, HISTORY),
        ],
        id="history-unreadable",
    ),
    pytest.param(
        [
            (f, POST)
            for f in (
                Fault.RATELIMITED,
                Fault.HTTP_500,
                Fault.FATAL_ERROR,
                Fault.DROP,
                Fault.ACCEPT_THEN_DROP,
                Fault.SLOW,
            )
        ]
        + [(f, HISTORY) for f in (Fault.HTTP_503, Fault.FATAL_ERROR, Fault.SLOW)],
        id="everything",
    ),
]


async def settle(stack: SandboxStack, ceremony: Ceremony, *, rounds: int = 40) -> int:
    """Drain, then move the clock past backoffs, holds and leases, until every row is sent
    and checked; a bug fails here instead of hanging."""
    for n in range(1, rounds + 1):
        await ceremony.sender.drain()
        items = await outbox(stack)
        if all(r.state == "sent" and r.error is None for r in items):
            return n
        clock.advance(PAST_LEASE)
    left = [(r.idempotency_key, r.state, r.error) for r in await outbox(stack) if r.error]
    pytest.fail(f"rows not settled after {rounds} rounds: {left}")


@pytest.mark.parametrize("faults", FAULT_CASES)
async def test_every_prompt_and_dm_ends_with_one_message_whatever_slack_does(
    make_stack: StackFactory, faults: list[tuple[Fault, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = any(fault is Fault.SLOW for fault, _ in faults)
    stack = await make_stack(slack_http_timeout_seconds=0.3 if slow else 3.0)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=3, owners_per_team=3)
    plan = stack.slack.faults
    methods = Counter(method for _, method in faults)
    for i, (fault, method) in enumerate(faults):
        delay = SLOW_DELAY if fault is Fault.SLOW else 0.0
        plan.randomly(
            fault,
            fraction=TOTAL_FRACTION / methods[method],
            seed=SEED + i,
            methods={method},
            delay=delay,
        )
    for fault, method in faults:  # and each case meets each of its faults at least once
        plan.fail(method, fault, delay=SLOW_DELAY if fault is Fault.SLOW else 0.0)
    injected: Counter[str] = Counter()
    choose = plan.next_fault

    def counted(name: str) -> Planned | None:
        chosen = choose(name)
        if chosen is not None:
            injected[f"{name}:{chosen.fault}"] += 1
        return chosen

    monkeypatch.setattr(plan, "next_fault", counted)

    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    rounds = await settle(stack, ceremony)
    book = await assert_exactly_once(stack, rows=3 + 9)
    assert injected
    history_faults = any(method == HISTORY for _, method in faults)
    if not slow and not history_faults:
        assert book.duplicates_deleted == 0  # every outcome in doubt was found by its key
    # Whatever is deleted is exactly what the sender says it deleted.
    assert book.duplicates_deleted == ceremony.sender.stats.duplicates_deleted
    report(
        "faults " + "+".join(f"{f}@{m}" for f, m in faults),
        ceremony.sender.stats,
        book,
        seed=SEED,
        rounds=rounds,
        injected=dict(injected),
    )


@pytest.mark.parametrize(
    ("fault", "posts"),
    [(Fault.ACCEPT_THEN_DROP, 1), (Fault.SLOW, 1), (Fault.DROP, 2), (Fault.HTTP_503, 2)],
)
async def test_an_outcome_in_doubt_is_looked_up_before_any_second_post(
    make_stack: StackFactory, fault: Fault, posts: int
) -> None:
    """R-F3: Slack did it (accept then drop, a late answer): found by its key, not posted
    again; Slack never got it (a cut connection, a 503): posted once more."""
    timeout = 0.3 if fault is Fault.SLOW else 3.0
    stack = await make_stack(
        outbox_concurrency=1, outbox_poll_seconds=1.0, slack_http_timeout_seconds=timeout
    )
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    stack.slack.faults.fail(POST, fault, delay=SLOW_DELAY if fault is Fault.SLOW else 0.0)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [doubt] = [r for r in await outbox(stack) if r.state != "sent"]
    assert doubt.state == "uncertain" and doubt.slack_ts is None
    clock.advance(PAST_LEASE)
    stats = await ceremony.sender.drain()
    book = await assert_exactly_once(stack, rows=2)
    assert stats.reconciled == (1 if posts == 1 else 0)
    keys = [c.args["metadata"]["event_payload"]["key"] for c in stack.slack.recorded(POST)]
    assert keys.count(doubt.idempotency_key) == posts and book.duplicates_deleted == 0


async def test_a_duplicate_sweep_that_cannot_read_history_tries_again_later(
    make_stack: StackFactory,
) -> None:
    """An uncertain post whose history read times out is posted again (a duplicate); the
    sweep that removes the duplicate meets a 503 too: it keeps the recorded message and
    tries again, and the row and its prompt keep pointing at the message that stays."""
    stack = await make_stack(outbox_concurrency=1, slack_http_timeout_seconds=0.3)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    faults = stack.slack.faults
    faults.fail(POST, Fault.ACCEPT_THEN_DROP)  # the prompt is posted, the answer lost
    faults.fail(HISTORY, Fault.SLOW, delay=SLOW_DELAY)  # reconciling cannot tell: post again
    faults.fail(HISTORY, Fault.HTTP_503)  # and the first sweep cannot read history either
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    rounds = await settle(stack, ceremony)
    book = await assert_exactly_once(stack, rows=2)
    assert book.duplicates_deleted == 1 == ceremony.sender.stats.duplicates_deleted
    assert stack.slack.recorded(HISTORY)[-1].ok
    report("sweep retried", ceremony.sender.stats, book, rounds=rounds)


# --- 3. errors that a retry cannot fix --------------------------------------------------------


@pytest.mark.parametrize("how", ["token_revoked", "invalid_auth"])
async def test_a_dead_token_pauses_the_workspace_and_loses_nothing(
    make_stack: StackFactory, how: str
) -> None:
    stack = await make_stack()
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=2)
    tokens = stack.slack.state.tokens
    token = tokens[stack.ws.bot_token]
    if how == "token_revoked":
        stack.slack.revoke_tokens(stack.ws)
    else:
        del tokens[token.value]
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    items = await outbox(stack)
    assert len(items) == 2 + 4
    assert {(r.state, r.error, r.attempts) for r in items} == {("pending", how, 0)}
    async with stack.app.sessions() as session:
        workspace = await session.get(Workspace, world.workspace_id)
        assert workspace is not None
        assert (workspace.state, workspace.pause_reason) == ("paused", how)
    assert ledger(stack).live == Counter()
    # Paused: nothing more is tried, however often the sender looks.
    calls = len(stack.slack.recorded(POST))
    clock.advance(PAST_LEASE)
    await ceremony.sender.drain()
    assert len(stack.slack.recorded(POST)) == calls
    # The app is installed again (a working token is saved): the workspace resumes and every
    # row goes out once.
    token.revoked = False
    tokens[token.value] = token
    bot = await stack.app.store.async_find_bot(enterprise_id=None, team_id=stack.ws.id)
    assert bot is not None
    await stack.app.store.async_save_bot(bot)
    await ceremony.sender.drain()
    book = await assert_exactly_once(stack, rows=2 + 4)
    assert book.duplicates_deleted == 0


@pytest.mark.parametrize(
    ("breakage", "error"), [("bot removed", "not_in_channel"), ("archived", "is_archived")]
)
async def test_a_channel_that_cannot_take_the_prompt_fails_it_and_tells_the_lead(
    make_stack: StackFactory, breakage: str, error: str
) -> None:
    stack = await make_stack()
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=2)
    broken = world.teams[0]
    facilitator = world.teams[1].lead  # also told about every team's delivery problems
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(Person).where(Person.id == world.person(facilitator)).values(role="facilitator")
        )
    if breakage == "bot removed":
        broken.channel.members.discard(stack.ws.bot_user_id)
    else:
        broken.channel.is_archived = True
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    # Again later: the failure stays recorded once, and the lead is told once.
    clock.advance(PAST_LEASE)
    await ceremony.tick()
    await ceremony.sender.drain()

    items = await outbox(stack)
    [failed] = [r for r in items if r.state != "sent"]
    assert (failed.kind, failed.payload["team_id"]) == ("prompt", broken.id)
    assert (failed.state, failed.error, failed.slack_ts) == ("failed", error, None)
    notices = [r for r in items if r.kind == "notice"]
    assert sorted(n.payload["person_id"] for n in notices) == sorted(
        [world.person(broken.lead), world.person(facilitator)]
    )
    assert {n.state for n in notices} == {"sent"}
    assert len(items) == 2 + 4 + 2
    async with stack.app.sessions() as session:
        teams = {t.id: t.needs_attention for t in (await session.execute(select(Team))).scalars()}
    attention = teams[broken.id]
    assert attention is not None and "not delivered" in attention
    assert teams[world.teams[1].id] is None
    for person in (broken.lead, facilitator):
        [told] = stack.slack.dms(person.id)
        assert "could not deliver" in told.text and broken.channel.id in told.text
    assert stack.slack.channel_messages(broken.channel.id) == []
    book = ledger(stack)
    assert book.live == Counter({r.idempotency_key: 1 for r in items if r.state == "sent"})
    for owner in broken.owners:  # the owners' DMs are not affected
        assert len(stack.slack.dms(owner.id)) == 1


# --- 4. a 429 holds one workspace only --------------------------------------------------------

RETRY_AFTER = 4  # seconds of the bot's clock: the test moves it rather than wait


async def install_second_workspace(stack: SandboxStack) -> EmulatedWorkspace:
    """Workspace "Beta", installed through the installation store (tokens encrypted)."""
    assert stack.app is not None
    ws = stack.slack.add_workspace("Beta")
    await stack.app.store.async_save_bot(
        Bot(
            app_id=ws.app_id, team_id=ws.id, team_name=ws.name, bot_token=ws.bot_token,
            bot_id=ws.bot_id, bot_user_id=ws.bot_user_id, bot_scopes=DEFAULT_BOT_SCOPES,
            installed_at=time.time(),
        )
    )  # fmt: skip
    return ws


async def test_a_429_in_one_workspace_does_not_hold_up_another(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two sends at a time, workspace A's nine rows queued ahead of B's three: were A's held
    # rows to wait for Retry-After in the sender's slots, B would wait with them.
    stack = await make_stack(
        outbox_concurrency=2, token_encryption_key=Fernet.generate_key().decode()
    )
    assert stack.app is not None and stack.ws is not None
    slack, ws_a = stack.slack, stack.ws
    await build_world(stack.app.sessions, slack, ws_a, teams=3, owners_per_team=2)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    ws_b = await install_second_workspace(stack)
    world_b = await build_world(stack.app.sessions, slack, ws_b, teams=1, owners_per_team=2)
    await ceremony.tick()
    items = await outbox(stack)
    a_ids = [r.id for r in items if r.workspace_id != world_b.workspace_id]
    b_ids = [r.id for r in items if r.workspace_id == world_b.workspace_id]
    assert (len(a_ids), len(b_ids)) == (3 + 6, 1 + 2) and max(a_ids) < min(b_ids)

    # Slack limits chat.postMessage in A for RETRY_AFTER seconds from A's first post.
    limited_until: list[datetime] = []
    refused: list[datetime] = []
    check = slack.limits.check

    def limited(*, team_id: str, method: str, tier: int | None, channel: str | None) -> int:
        now = clock.now()
        if team_id == ws_a.id and method == POST:
            if not limited_until:
                limited_until.append(now + timedelta(seconds=RETRY_AFTER))
            if now < limited_until[0]:
                refused.append(now)
                return RETRY_AFTER
        return check(team_id=team_id, method=method, tier=tier, channel=channel)

    monkeypatch.setattr(slack.limits, "check", limited)

    def posts_in(ws_id: str) -> int:
        return len([c for c in slack.recorded(POST) if c.team_id == ws_id])

    started = time.monotonic()
    await ceremony.sender.drain()
    elapsed = time.monotonic() - started
    items = await outbox(stack)
    assert [r.state for r in items if r.id in b_ids] == ["sent"] * 3
    assert elapsed < RETRY_AFTER / 2, "B waited for A's Retry-After"
    a_rows = [r for r in items if r.id in a_ids]
    assert {(r.state, r.attempts) for r in a_rows} == {("pending", 0)}  # a 429 is no attempt
    assert 1 <= len(refused) <= 2  # only the posts already on their way when the 429 came
    calls_a = posts_in(ws_a.id)
    assert calls_a == len(refused)

    clock.advance(timedelta(seconds=RETRY_AFTER / 2))
    await ceremony.sender.drain()
    assert posts_in(ws_a.id) == calls_a  # still held: A is not asked again

    clock.advance(timedelta(seconds=RETRY_AFTER / 2 + 0.1))
    stats = await ceremony.sender.drain()
    book = await assert_exactly_once(stack, rows=9 + 3)
    assert book.duplicates_deleted == 0
    assert {r.attempts for r in await outbox(stack)} == {1}
    assert posts_in(ws_a.id) == calls_a + 9 and posts_in(ws_b.id) == 3
    report("429 in A", stats, book, refused=len(refused), b_elapsed=f"{elapsed:.2f}s")


# --- 5. limits of retrying and of leases ------------------------------------------------------


async def test_a_row_that_keeps_failing_uncertainly_is_given_up(make_stack: StackFactory) -> None:
    stack = await make_stack(outbox_concurrency=1)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    async with stack.app.sessions.begin() as session:
        await session.execute(update(OutboxItem).values(attempts=11))  # one try left
    stack.slack.faults.fail(POST, "http_500", times=10)
    await ceremony.sender.run_once()
    items = await outbox(stack)
    assert len(items) == 2
    assert {(r.state, r.attempts, r.error) for r in items} == {("failed", 12, "gave up: http_500")}


async def test_a_send_too_close_to_its_lease_end_goes_back_unposted(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(outbox_concurrency=1, slack_http_timeout_seconds=1.0)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    sender = ceremony.sender
    claims = await sender.claim(clock.now())
    async with sender.readers() as session:
        prepared = await prepare(session, claims, clock.now())
    clock.advance(timedelta(seconds=LEASE - 1.5))  # within timeout + 1 s of the lease's end
    for claim in claims:
        await sender._guarded(claim, prepared[claim.id])
    assert stack.slack.recorded(POST) == []
    assert {(r.state, r.attempts) for r in await outbox(stack)} == {("pending", 0)}
    await sender.drain()
    await assert_exactly_once(stack, rows=len(claims))


async def test_an_uncertain_post_that_is_no_longer_owed_is_kept_if_slack_has_it(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(outbox_concurrency=1, slack_http_timeout_seconds=0.3)
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    stack.slack.faults.fail(POST, "accept_then_drop", times=1)  # the prompt goes first
    await ceremony.sender.run_once()
    async with stack.app.sessions.begin() as session:  # then the team pauses
        await session.execute(update(Team).values(paused=True))
    clock.advance(PAST_LEASE)
    await ceremony.sender.drain()
    items = {r.kind: r for r in await outbox(stack)}
    assert items["prompt"].state == "sent"  # found in the channel, recorded, not cancelled
    assert len(stack.slack.channel_messages(world.teams[0].channel.id)) == 1
    async with stack.app.sessions() as session:
        assert len((await session.execute(select(Prompt))).scalars().all()) >= 1


async def test_a_reply_to_a_prompt_not_yet_recorded_counts_once_it_is(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(outbox_concurrency=1)
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=1)
    team = world.teams[0]
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    crashpoints.arm("answered", 1)  # the prompt is in Slack; its record is not
    with pytest.raises(crashpoints.SimulatedCrash):
        await ceremony.sender.run_once()
    [prompt] = stack.slack.channel_messages(team.channel.id)
    await stack.driver.say(team.owners[0], "#1 45", channel=team.channel, thread_ts=prompt.ts)
    async with stack.app.sessions() as session:
        assert (await session.execute(select(Checkin))).first() is None
    clock.advance(PAST_LEASE)
    restarted = Ceremony(stack.app)
    await restarted.sender.drain()  # reconciliation finds the prompt and records it
    clock.advance(timedelta(seconds=61))
    assert await restarted.retry_inbox() == 1
    async with stack.app.sessions() as session:
        rows = (await session.execute(select(Checkin))).scalars().all()
    assert [(r.key_result_id, r.period, r.value) for r in rows] == [
        (team.key_result_ids[0], "2026-W49", 45.0)
    ]


async def test_workspaces_take_turns_so_a_big_queue_does_not_starve_another(
    make_stack: StackFactory,
) -> None:
    # A's nine rows are queued first; B's three come after. B must not wait behind all of A.
    stack = await make_stack(
        outbox_concurrency=2,
        outbox_messages_per_minute=600,
        token_encryption_key=Fernet.generate_key().decode(),
    )
    assert stack.app is not None and stack.ws is not None
    slack, ws_a = stack.slack, stack.ws
    await build_world(stack.app.sessions, slack, ws_a, teams=3, owners_per_team=2)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    ws_b = await install_second_workspace(stack)
    await build_world(stack.app.sessions, slack, ws_b, teams=1, owners_per_team=2)
    await ceremony.tick()
    await ceremony.sender.drain()
    order = [c.team_id for c in slack.recorded(POST) if c.ok]
    assert len(order) == 12 and order.count(ws_b.id) == 3
    assert max(i for i, team in enumerate(order) if team == ws_b.id) < 7  # B's came in turn
    await assert_exactly_once(stack, rows=12)


async def test_several_senders_at_once_send_each_message_once(make_stack: StackFactory) -> None:
    # Several workers draining one outbox (any number are allowed on PostgreSQL, where
    # claims skip rows another holds; on SQLite the claims take turns). Once caught a claim
    # on PostgreSQL that took a row another sender had claimed a moment before.
    stack = await make_stack(outbox_concurrency=4)
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, teams=8, owners_per_team=3)
    await Ceremony(stack.app).tick()
    senders = [Ceremony(stack.app).sender for _ in range(6)]
    for sender in senders:
        sender.batch = 2  # small batches: the senders' claims keep meeting
    await asyncio.gather(*(sender.drain() for sender in senders))
    book = await assert_exactly_once(stack, rows=8 + 24)
    assert book.duplicates_deleted == 0
    assert sum(s.stats.sent for s in senders) == 32
    assert sum(1 for s in senders if s.stats.sent) >= 2  # the work was shared
    assert len([c for c in stack.slack.recorded(POST) if c.ok]) == 32
