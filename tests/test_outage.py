"""Database outages across processes: `python -m bot serve` talks to PostgreSQL through a TCP
proxy that the test cuts while people reply, type commands and click, and Slack redelivers
what was not acknowledged (on a scaled schedule). Afterwards every reply is recorded exactly
once, every request got a recorded outcome or a 503, and nothing answered 200 went
unrecorded. A server killed while its spool holds events drains it when it starts again."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.jobs.clock import Ceremony
from bot.listeners.unavailable import TRY_AGAIN
from bot.models import Checkin, InboxEvent, KeyResult
from bot.sandbox import payloads
from bot.sandbox.emulator.state import Message, User
from bot.sandbox.stack import SandboxStack, free_port
from bot.sandbox.world import World, build_world
from bot.spool import Spool
from tests.cli_env import clean_env
from tests.databases import Database
from tests.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("backend", ["postgresql"]),  # the `database` fixture's leg
    pytest.mark.usefixtures("monday_ten"),
]

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # as tests/ceremony_fixtures.py
# Slack redelivers an unacknowledged event at about 1 and 5 minutes; here, 1 s and 3 s.
REDELIVERY_DELAYS = (1.0, 3.0)
ACK_DEADLINE = 3.0  # Slack stops waiting for an answer after 3 s (and redelivers an event)
SEND_EVERY = 0.12  # seconds between two people's actions while the proxy is cut
SERVER_START_TIMEOUT = 30.0
SETTLE_TIMEOUT = 40.0


# --- the world ---------------------------------------------------------------------------------


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    """The emulator, and the app in this process on the database directly (not through the
    proxy): it seeds the world, runs the ceremony and the clock's inbox retry."""
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(
        database_url=url, over_http=False, outbox_poll_seconds=0.05, inbox_retry_seconds=0.05
    ) as running:
        yield running


@pytest.fixture
async def proxy(database: Database) -> AsyncIterator[TcpProxy]:
    url = make_url(database.urls.sync_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


@dataclass
class Owner:
    user: User
    ref: str  # the key result their weekly DM lists
    key_result_id: int
    dm: Message  # that DM


async def weekly_dms_sent(stack: SandboxStack) -> tuple[World, list[Owner]]:
    """Two teams of three owners, this week's round ticked and sent: each owner has a DM."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=3)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    async with stack.app.sessions() as session:
        rows = await session.execute(select(KeyResult.id, KeyResult.ref_number))
        refs: dict[int, int] = dict(rows.all())
    owners = []
    for team in world.teams:
        for user, kr_id in zip(team.owners, team.key_result_ids, strict=True):
            dms = [m for m in stack.slack.dms(user.id) if m.bot_id]
            assert len(dms) == 1, f"{user.name} should have this week's DM, has {dms}"
            owners.append(Owner(user, f"KR{refs[kr_id]}", kr_id, dms[0]))
    return world, owners


# --- the server process ------------------------------------------------------------------------


class Server:
    """`python -m bot serve`, its database behind the proxy; its output goes to a file (a pipe
    nobody reads would fill up and stall it)."""

    def __init__(self, stack: SandboxStack, proxy: TcpProxy, database: Database, workdir: Path):
        assert stack.ws is not None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        self.workdir = workdir
        self.spool_path = workdir / "spool" / "slack-events.jsonl"
        self.spool = Spool(self.spool_path)
        self.log_path = workdir / "server.log"
        through_proxy = make_url(database.urls.sync_url).set(host="127.0.0.1", port=proxy.port)
        self.env = clean_env(
            SLACK_BOT_TOKEN=stack.ws.bot_token,
            SLACK_SIGNING_SECRET=stack.signing_secret,
            SLACK_API_URL=stack.slack.api_url,
            DATABASE_URL=through_proxy.render_as_string(hide_password=False),
            PORT=str(self.port),
            SPOOL_PATH=str(self.spool_path),
            SPOOL_DRAIN_SECONDS="0.2",
            SLACK_HTTP_TIMEOUT_SECONDS="5",
            OKR_CLOCK_OFFSET_SECONDS=str((MONDAY_TEN - datetime.now(UTC)).total_seconds()),
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts} =====\n".encode())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"the server exited with {self.process.returncode} while starting:\n"
                        f"{self.output()}"
                    )
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/healthz")).is_success:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not answer /healthz in time:\n{self.output()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self._wait(10.0)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await self._wait(20.0)
        except AssertionError:
            self.process.kill()
            await self._wait(5.0)

    async def _wait(self, timeout: float) -> None:
        """Wait for the process to end without blocking the event loop (the proxy and the
        emulator it talks to run on it)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not stop within {timeout} s")
            await asyncio.sleep(0.05)

    def output(self, last: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(lines[-last:])


@pytest.fixture
async def server(
    stack: SandboxStack, proxy: TcpProxy, database: Database, tmp_path: Path
) -> AsyncIterator[Server]:
    running = Server(stack, proxy, database, tmp_path)
    try:
        yield running
    finally:
        await running.stop()


# --- Slack's side: signed requests, redelivered as Slack would ---------------------------------


@dataclass
class Sent:
    """One thing a person did, as Slack delivered it, and what the app answered each time."""

    kind: str  # reply | update | mine | click
    owner: Owner
    body: str
    content_type: str
    at: float  # seconds since the traffic started
    value: float | None = None
    source_ref: str = ""  # what the check-in row will carry
    answers: list[tuple[int | str, str]] = field(default_factory=list)  # (status, body)

    @property
    def acknowledged(self) -> bool:
        return any(status == 200 for status, _ in self.answers)

    def describe(self) -> str:
        shown = [(s, b[:80]) for s, b in self.answers]
        return f"{self.kind} by {self.owner.user.name} at {self.at:.2f}s {self.source_ref}: {shown}"


class SlackSide:
    def __init__(self, stack: SandboxStack, server: Server) -> None:
        assert stack.ws is not None
        self.stack = stack
        self.ws = stack.ws
        self.server = server
        self.verifier = SignatureVerifier(stack.signing_secret)
        self.client = httpx.AsyncClient(timeout=ACK_DEADLINE)
        self.sent: list[Sent] = []
        self.deliveries: set[asyncio.Task[None]] = set()
        self.started = time.monotonic()
        self.most_spooled = 0
        self._event_ids = itertools.count(1)
        self._values = itertools.count(1)

    async def close(self) -> None:
        await self.client.aclose()

    # What people do.

    def reply(self, owner: Owner) -> Sent:
        """The owner answers their weekly DM: `KR<n> <value>`."""
        state = self.stack.slack.state
        im = state.im_with(self.ws, owner.user)
        value = float(next(self._values))
        text = f"{owner.ref} {value:g}"
        message = Message(im.id, state.new_ts(), text, user=owner.user.id)
        state.messages.setdefault(im.id, []).append(message)
        event = payloads.message_event(user=owner.user.id, channel=im, text=text, ts=message.ts)
        body = payloads.event_envelope(
            self.ws,
            event,
            event_id=f"EvOut{next(self._event_ids):06d}",
            event_time=int(time.time()),
        )
        return self._send(
            Sent(
                "reply",
                owner,
                body,
                "application/json",
                self._now(),
                value,
                f"{im.id}:{message.ts}",
            )
        )

    def command(self, owner: Owner, text: str) -> Sent:
        state = self.stack.slack.state
        im = state.im_with(self.ws, owner.user)
        trigger = state.new_trigger(team_id=self.ws.id, user_id=owner.user.id)
        body = payloads.slash_command(
            self.ws, owner.user, im, command="/okr", text=text, trigger_id=trigger,
            response_url=self.stack.slack.response_url(
                team_id=self.ws.id, channel_id=im.id, user_id=owner.user.id
            ),
        )  # fmt: skip
        kind = text.split()[0]
        sent = Sent(kind, owner, body, "application/x-www-form-urlencoded", self._now())
        sent.source_ref = trigger
        return self._send(sent)

    def update(self, owner: Owner) -> Sent:
        """`/okr update KR<n> <value>`: recorded with the command's trigger id as its ref."""
        value = float(next(self._values))
        sent = self.command(owner, f"update {owner.ref} {value:g}")
        sent.value = value
        return sent

    def click(self, owner: Owner) -> Sent:
        """The owner clicks "Check in" on their weekly DM."""
        state = self.stack.slack.state
        trigger = state.new_trigger(team_id=self.ws.id, user_id=owner.user.id)
        payload = payloads.base_interaction("block_actions", self.ws, owner.user, trigger)
        dm = owner.dm
        block, action = next(
            (b, e) for b in dm.blocks for e in b.get("elements", []) if e.get("action_id")
        )
        payload["actions"] = [
            {
                "action_id": action["action_id"],
                "block_id": block.get("block_id", "actions"),
                "value": action.get("value"),
                "action_ts": f"{time.time():.6f}",
                "type": "button",
            }
        ]
        payload["container"] = {
            "type": "message", "message_ts": dm.ts, "channel_id": dm.channel, "is_ephemeral": False
        }  # fmt: skip
        payload["channel"] = {"id": dm.channel, "name": "directmessage"}
        payload["message"] = dm.to_api()
        payload["response_url"] = self.stack.slack.response_url(
            team_id=self.ws.id, channel_id=dm.channel, user_id=owner.user.id, message_ts=dm.ts
        )
        body = payloads.interactive(payload)
        return self._send(
            Sent("click", owner, body, "application/x-www-form-urlencoded", self._now())
        )

    # How Slack delivers it.

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _send(self, sent: Sent) -> Sent:
        self.sent.append(sent)
        task = asyncio.create_task(self._deliver(sent))
        self.deliveries.add(task)
        task.add_done_callback(self.deliveries.discard)
        return sent

    async def _deliver(self, sent: Sent) -> None:
        """Once, and for an event again after each failure (a 5xx, or no answer in 3 s) on the
        scaled schedule, with `X-Slack-Retry-Num`; commands and clicks are not redelivered
        (Slack tells the person it failed)."""
        attempts = 1 + (len(REDELIVERY_DELAYS) if sent.kind == "reply" else 0)
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(REDELIVERY_DELAYS[attempt - 1])
            ts = str(int(time.time()))
            headers = {
                "content-type": sent.content_type,
                "x-slack-request-timestamp": ts,
                "x-slack-signature": str(
                    self.verifier.generate_signature(timestamp=ts, body=sent.body)
                ),
            }
            if attempt:
                headers["x-slack-retry-num"] = str(attempt)
                headers["x-slack-retry-reason"] = "http_error"
            try:
                response = await self.client.post(
                    self.server.url, content=sent.body.encode(), headers=headers
                )
            except httpx.TimeoutException:
                sent.answers.append(("no answer within 3 s", ""))
                continue
            except httpx.TransportError as exc:
                sent.answers.append((f"transport error {type(exc).__name__}", ""))
                continue
            finally:
                self.most_spooled = max(self.most_spooled, self.server.spool.pending())
            sent.answers.append((response.status_code, response.text))
            if response.status_code < 500:
                return

    async def delivered(self, timeout: float = 30.0) -> None:
        """Wait for every delivery (and redelivery) to be done."""
        if self.deliveries:
            done, pending = await asyncio.wait(set(self.deliveries), timeout=timeout)
            assert not pending, f"{len(pending)} deliveries still running after {timeout} s"
            for task in done:
                task.result()

    # What people do while the database comes and goes.

    async def busy(self, owners: list[Owner], stop: asyncio.Event) -> None:
        """Each step one person acts: mostly DM replies, some commands, some clicks."""
        plan = ("reply", "reply", "mine", "reply", "update", "reply", "click", "reply")
        for step in itertools.count():
            if stop.is_set():
                return
            owner = owners[step % len(owners)]
            kind = plan[step % len(plan)]
            if kind == "reply":
                self.reply(owner)
            elif kind == "update":
                self.update(owner)
            elif kind == "mine":
                self.command(owner, "mine")
            else:
                self.click(owner)
            try:
                await asyncio.wait_for(stop.wait(), timeout=SEND_EVERY)
            except TimeoutError:
                pass


@pytest.fixture
async def slack_side(stack: SandboxStack, server: Server) -> AsyncIterator[SlackSide]:
    side = SlackSide(stack, server)
    try:
        yield side
    finally:
        for task in list(side.deliveries):
            task.cancel()
        await asyncio.gather(*side.deliveries, return_exceptions=True)
        await side.close()


# --- what is stored ----------------------------------------------------------------------------


async def settled(stack: SandboxStack, server: Server, *, timeout: float = SETTLE_TIMEOUT) -> None:
    """Until the server drained its spool into the inbox and every inbox row is processed (the
    clock's inbox retry runs here, as `python -m bot clock` would)."""
    assert stack.app is not None
    ceremony = Ceremony(stack.app)
    deadline = time.monotonic() + timeout
    waiting = unprocessed = -1
    while time.monotonic() < deadline:
        waiting = server.spool.pending()
        await ceremony.retry_inbox()
        async with stack.app.sessions() as session:
            unprocessed = (
                await session.execute(
                    select(func.count())
                    .select_from(InboxEvent)
                    .where(InboxEvent.processed_at.is_(None))
                )
            ).scalar_one()
        if waiting == 0 and unprocessed == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"not settled after {timeout} s: {waiting} events still spooled, {unprocessed} inbox "
        f"rows unprocessed (server alive: {server.alive()})\n{server.output()}"
    )


async def checkins_by_ref(stack: SandboxStack) -> dict[str, list[tuple[int, float | None, str]]]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = await session.execute(
            select(Checkin.source_ref, Checkin.key_result_id, Checkin.value, Checkin.source)
        )
        found: dict[str, list[tuple[int, float | None, str]]] = {}
        for ref, kr, value, source in rows:
            found.setdefault(ref, []).append((kr, value, source))
        return found


def problems_with(
    sent: list[Sent], stored: dict[str, list[tuple[int, float | None, str]]]
) -> list[str]:
    """Every way the outcome breaks "nothing lost, nothing twice, never a 200 without a record"."""
    problems = []
    for s in sent:
        rows = stored.get(s.source_ref, []) if s.source_ref else []
        odd = [st for st, _ in s.answers if st not in (200, 503)]
        if odd:
            problems.append(f"answered neither 200 nor 503: {s.describe()}")
        if s.kind == "reply":
            expected = [(s.owner.key_result_id, s.value, "dm")]
            if s.acknowledged and rows != expected:
                problems.append(f"acknowledged but stored as {rows}: {s.describe()}")
            elif not s.acknowledged and len(rows) > 1:
                problems.append(f"stored {len(rows)} times: {s.describe()}")
            elif not s.acknowledged:
                # Slack gave up on it: with a working spool this must not happen.
                problems.append(f"never acknowledged (Slack gave up): {s.describe()}")
        elif s.kind == "update" and s.acknowledged:
            [(_, answer)] = [a for a in s.answers if a[0] == 200]
            text = str((json.loads(answer) if answer.startswith("{") else {}).get("text", answer))
            if text.startswith("Recorded"):
                if rows != [(s.owner.key_result_id, s.value, "command")]:
                    problems.append(f"said recorded but stored as {rows}: {s.describe()}")
            elif text == TRY_AGAIN:
                if rows:
                    problems.append(f"said nothing was changed but stored {rows}: {s.describe()}")
            else:
                problems.append(f"unexpected answer: {s.describe()}")
        elif s.kind == "mine" and s.acknowledged:
            [(_, answer)] = [a for a in s.answers if a[0] == 200]
            if not answer:
                problems.append(f"an empty answer to a command: {s.describe()}")
    return problems


def report(side: SlackSide, proxy: TcpProxy, server: Server) -> str:
    by_status: dict[str, int] = {}
    for s in side.sent:
        for status, _ in s.answers:
            by_status[f"{s.kind} {status}"] = by_status.get(f"{s.kind} {status}", 0) + 1
    try_again = sum(1 for s in side.sent for _, body in s.answers if TRY_AGAIN in body)
    return (
        f"{len(side.sent)} actions; answers {sorted(by_status.items())}, {try_again} of them "
        f"'try again in a minute'; most spooled at once "
        f"{side.most_spooled}; proxy put through {proxy.accepted}, refused {proxy.refused}"
    )


# --- the tests ---------------------------------------------------------------------------------


CUTS = (2.0, 30.0)  # seconds the database is away, one outage after the other
BETWEEN = 2.0  # seconds of traffic after each outage, while the server finds its database


async def test_outages_of_2_and_30_seconds_lose_no_reply_and_record_none_twice(
    stack: SandboxStack, proxy: TcpProxy, server: Server, slack_side: SlackSide
) -> None:
    _, owners = await weekly_dms_sent(stack)
    await server.start()
    stop = asyncio.Event()
    traffic = asyncio.create_task(slack_side.busy(owners, stop))
    windows: list[tuple[float, float, int]] = []  # (cut at, restored at, connections refused)
    try:
        await asyncio.sleep(1.0)  # a second of ordinary traffic
        for seconds in CUTS:
            refused = proxy.refused
            proxy.cut()
            cut_at = slack_side._now()
            await asyncio.sleep(seconds)
            proxy.restore()
            windows.append((cut_at, slack_side._now(), proxy.refused - refused))
            await asyncio.sleep(BETWEEN)
    finally:
        stop.set()
        await traffic
    await slack_side.delivered()
    assert server.alive(), f"the server died during an outage:\n{server.output()}"
    await settled(stack, server)

    summary = report(slack_side, proxy, server)
    shown = ", ".join(f"{a:.1f}s..{b:.1f}s ({n} connections refused)" for a, b, n in windows)
    print(f"cuts {shown}: {summary}")
    for cut_at, restored_at, refused in windows:
        during = [s for s in slack_side.sent if cut_at <= s.at < restored_at]
        assert refused > 0 and len(during) >= 5, (
            f"the outage {cut_at:.1f}s..{restored_at:.1f}s was not felt: {summary}"
        )
    try_again = [s for s in slack_side.sent for _, body in s.answers if TRY_AGAIN in body]
    assert try_again and slack_side.most_spooled, (
        f"nothing was spooled, or no one was asked to try again, during the outages: {summary}"
    )
    assert len([s for s in slack_side.sent if s.kind == "reply"]) >= 20, summary
    problems = problems_with(slack_side.sent, await checkins_by_ref(stack))
    assert not problems, (
        f"{len(problems)} problems ({summary}):\n"
        + "\n".join(problems)
        + (f"\n--- server output ---\n{server.output()}")
    )


async def test_a_server_killed_with_a_full_spool_drains_it_at_restart(
    stack: SandboxStack, proxy: TcpProxy, server: Server, slack_side: SlackSide
) -> None:
    _, owners = await weekly_dms_sent(stack)
    await server.start()
    before = slack_side.reply(owners[0])  # an ordinary reply, before anything goes wrong
    await slack_side.delivered()
    proxy.cut()
    spooled = [slack_side.reply(owner) for owner in owners]
    await slack_side.delivered()
    summary = report(slack_side, proxy, server)
    assert all(s.answers == [(200, "")] for s in spooled), (
        summary + "\n" + "\n".join(s.describe() for s in spooled)
    )
    lines = server.spool.pending()
    assert lines == len(spooled), (
        f"the spool should hold the {len(spooled)} replies sent during the cut, holds {lines}"
    )

    await server.kill()  # with the events only in its spool
    assert server.spool.pending() == len(spooled)
    proxy.restore()
    await server.start()
    await settled(stack, server)

    stored = await checkins_by_ref(stack)
    problems = problems_with([before, *spooled], stored)
    assert not problems, "\n".join(problems) + f"\n--- server output ---\n{server.output()}"
    assert os.path.getsize(server.spool_path) == 0
