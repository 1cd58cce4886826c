"""The load row: 200 people over signed HTTP against PostgreSQL while the clock runs a round.

Three processes besides PostgreSQL: the app server (`python -m bench.load_server`: the app
`serve` runs, plus a `/hello` command that only acks), the clock (`python -m bot clock`, which
queues and sends this week's prompts and DMs during the load at its deployed pace) and this
one, which runs the Slack emulator and the load generator.

Each of the 200 owners acts on average every MEAN_INTERVAL seconds (exponential gaps) for
LOAD_SECONDS: half of the requests are replies to the check-in (in the prompt's thread, some
in the DM once it has arrived; `KR<n> <value>` or `#<line> <value>`), a third are `/okr mine`,
`/okr show KR<n>` and `/okr update KR<n> <value>`, the rest open the check-in form and submit
it at the person's next turn. A person whose team has no prompt yet runs a command instead.
`/hello` goes out in the same load (HELLO_PER_SECOND, Poisson) as the baseline.

Every value a person sends for a key result is new for that key result, so what was sent can
be compared with the check-in rows one by one: each (key result, source, value) must be stored
exactly once. Before comparing, the inbox must be empty: what the server's listeners did not
finish is put through the clock's inbox retry, and counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot import clock, migrate
from bot.app import build_app
from bot.config import Mode, database_urls, load_settings
from bot.db import make_async_engine, make_sessionmaker
from bot.jobs.clock import Ceremony
from bot.listeners.unavailable import TRY_AGAIN
from bot.models import Checkin, InboxEvent, KeyResult
from bot.sandbox import payloads
from bot.sandbox.delivery import Answer
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator import SlackEmulator, User
from bot.sandbox.emulator.state import Channel, Message, View
from bot.sandbox.stack import free_port
from bot.sandbox.world import World, build_world
from bot.services import inbox
from bot.spool import Spool
from bot.web import SLACK_EVENTS_PATH

TEAMS, OWNERS_PER_TEAM = 20, 10  # 200 people, one key result each
LOAD_SECONDS = 60.0
MEAN_INTERVAL = 3.0  # seconds between one person's actions, on average
HELLO_PER_SECOND = 6.0
WARM_UP = 20  # requests of each kind before the clock starts (not measured)
SETTLE_SECONDS = 15.0  # after the load, for the listeners to finish
DM_SHARE = 0.25  # of the replies, once the person's DM has arrived
ACK_DEADLINE = 3.0
LEAD_SECONDS = 25.0  # start-up and warm-up of the server and the clock before the round is due
WEB_PROCESSES = 2  # `python -m bot serve` with WEB_CONCURRENCY=2: one per core here
TIMEOUT = 10.0  # how long the generator waits for an answer (Slack gives up at 3 s)
GOAL_P99 = 1.0
MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49, every team due at 10:00
ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
POST = "chat.postMessage"

# What a person does when it is their turn (a person with a form open submits it instead):
# replies 6/11, commands 4/11, opening the form 1/11, so that with the submits requests are
# half replies, a third commands and a sixth the form (open + submit).
CHOICES = ("reply", "mine", "show", "update", "open")
WEIGHTS = (6 / 11, 4 / 33, 4 / 33, 4 / 33, 1 / 11)


@dataclass
class Sample:
    kind: str
    started: float  # seconds since the load began
    elapsed: float  # request to answer; -1 when no answer came
    status: int  # 0 when no answer came


@dataclass
class Person:
    user: User
    kr_id: int
    ref: str  # "KR12"
    line: int  # its line in the team's prompt
    team: int
    form: View | None = None  # the check-in form the person has open
    opened: bool = False  # asked for the form at the last turn
    forms_seen: set[str] = field(default_factory=set)


class LoadDriver(SlackDriver):
    """The driver, answering with the app's answer to a reply's event and without waiting for
    listeners after it (they run in the server)."""

    async def reply(
        self, user: User, words: str, *, channel: Channel, thread_ts: str | None
    ) -> Answer:
        """What `say` does for a person's message in a thread or their DM, once."""
        state = self.slack.state
        message = Message(channel.id, state.new_ts(), words, user=user.id, thread_ts=thread_ts)
        state.messages.setdefault(channel.id, []).append(message)
        parent_user = None
        if thread_ts is not None:
            root = state.message(channel.id, thread_ts)
            root.reply_users.add(user.id)
            root.reply_count += 1
            root.latest_reply = message.ts
            parent_user = root.user
        event = payloads.message_event(
            user=user.id, channel=channel, text=words, ts=message.ts, thread_ts=thread_ts,
            parent_user_id=parent_user,
        )  # fmt: skip
        body = payloads.event_envelope(
            self.ws, event, event_id=f"Ev{next(self._event_ids):08d}", event_time=int(self.clock())
        )
        return await self.send(body, content_type="application/json")


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _admin(statement: str) -> None:
    engine = create_engine(database_urls(ADMIN_URL).sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (the web processes under WEB_CONCURRENCY)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class AiohttpDelivery:
    """Signed requests to the app over HTTP with aiohttp: cheaper per request than httpx, so
    the generator takes less of the machine from the server it measures."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, body: str, headers: dict[str, str]) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), timeout=self.timeout
            )
        async with self._session.post(self.url, data=body.encode(), headers=headers) as response:
            return Answer(response.status, await response.text(), dict(response.headers))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class Load:
    def __init__(self, slack: SlackEmulator, driver: LoadDriver, world: World) -> None:
        self.slack = slack
        self.driver = driver
        self.world = world
        self.rng = random.Random(11)
        self.samples: list[Sample] = []
        # (key result, source, value) -> the status of the request that carried it (0: none)
        self.sent: dict[tuple[int, str, float], int] = {}
        self.try_again = 0  # answers that said "nothing was changed, try again in a minute"
        self.values: dict[int, itertools.count[int]] = {}
        self.refused_forms = 0
        self.forms_missing = 0
        self.no_answer: Counter[str] = Counter()
        self.prompts: dict[int, str] = {}  # team index -> prompt ts
        self.prompt_at: dict[int, float] = {}
        self.dms: dict[str, float] = {}  # user id -> when the check-in DM arrived
        self.started = 0.0
        self.lag: list[float] = []
        self.people: list[Person] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen_calls = 0
        self._team_of_channel = {t.channel.id: i for i, t in enumerate(world.teams)}
        self.im_of = {
            o.id: slack.state.im_with(driver.ws, o).id for t in world.teams for o in t.owners
        }
        self._user_of_im = {im: user for user, im in self.im_of.items()}

    def value_for(self, person: Person) -> int:
        return next(self.values.setdefault(person.kr_id, itertools.count(1)))

    async def timed(self, kind: str, call: Awaitable[Answer]) -> Answer | None:
        at = time.perf_counter()
        try:
            answer = await call
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.no_answer[type(exc).__name__] += 1
            self.samples.append(Sample(kind, at - self.started, time.perf_counter() - at, 0))
            return None
        self.samples.append(
            Sample(kind, at - self.started, time.perf_counter() - at, answer.status)
        )
        return answer

    def carried(self, key: tuple[int, str, float], answer: Answer | None) -> None:
        if answer is not None and answer.status == 200 and TRY_AGAIN in answer.body:
            self.try_again += 1  # told nothing was recorded: the person tries again later
            return
        self.sent[key] = answer.status if answer is not None else 0

    # --- what the clock has sent ---------------------------------------------------------------

    def watch_round(self) -> None:
        """Cheap: only the emulator calls since the last look."""
        calls = self.slack.calls
        new, self._seen_calls = calls[self._seen_calls :], len(calls)
        now = time.perf_counter() - self.started
        for call in new:
            if call.method != POST or not call.ok or call.args.get("thread_ts"):
                continue
            channel = str(call.response.get("channel") or "")
            meta = str(call.args.get("metadata") or "")
            team = self._team_of_channel.get(channel)
            if team is not None and team not in self.prompts and "prompt:" in meta:
                self.prompts[team] = str(call.response["ts"])
                self.prompt_at[team] = now
            user = self._user_of_im.get(channel)
            if user is not None and user not in self.dms:
                self.dms[user] = now

    async def watcher(self, until: float) -> None:
        """Also measures this process's own loop lag: what the generator adds to a figure."""
        while time.perf_counter() < until:
            expected = time.perf_counter() + 0.05
            await asyncio.sleep(0.05)
            self.lag.append(max(0.0, time.perf_counter() - expected))
            self.watch_round()

    # --- people --------------------------------------------------------------------------------

    async def act(self, person: Person) -> None:
        d = self.driver
        self.pick_up_form(person)
        if person.form is not None:
            await self.submit(person)
            return
        kind = self.rng.choices(CHOICES, WEIGHTS)[0]
        prompt = self.prompts.get(person.team)
        if kind == "reply" and prompt is None:
            kind = self.rng.choice(("mine", "show", "update"))  # nothing to answer yet
        if kind == "reply":
            assert prompt is not None
            value = self.value_for(person)
            by_line = self.rng.random() < 0.5
            if person.user.id in self.dms and self.rng.random() < DM_SHARE:
                words = f"#1 {value}" if by_line else f"{person.ref} {value}"
                dm = self.slack.state.channels[self.im_of[person.user.id]]
                call = d.reply(person.user, words, channel=dm, thread_ts=None)
                self.carried((person.kr_id, "dm", float(value)), await self.timed("dm reply", call))
            else:
                team = self.world.teams[person.team]
                words = f"#{person.line} {value}" if by_line else f"{person.ref} {value}"
                call = d.reply(person.user, words, channel=team.channel, thread_ts=prompt)
                answer = await self.timed("thread reply", call)
                self.carried((person.kr_id, "thread", float(value)), answer)
        elif kind == "mine":
            await self.timed("/okr mine", d.command(person.user, "mine"))
        elif kind == "show":
            other = self.rng.choice(self.people).ref
            await self.timed("/okr show", d.command(person.user, f"show {other}"))
        elif kind == "update":
            value = self.value_for(person)
            call = d.command(person.user, f"update {person.ref} {value}")
            self.carried(
                (person.kr_id, "command", float(value)), await self.timed("/okr update", call)
            )
        else:
            person.opened = True  # the view lands after the ack: looked up at the next turn
            await self.timed("form open", d.command(person.user, "checkin"))

    async def submit(self, person: Person) -> None:
        view = person.form
        assert view is not None
        person.form = None
        value = self.value_for(person)
        block = f"value:{person.ref}"
        values = {block: {"value": {"type": "plain_text_input", "value": str(value)}}}
        answer = await self.timed("form submit", self.driver.submit(person.user, view, values))
        view.closed = True  # the person closes the "thank you"
        if answer is not None and (answer.json or {}).get("response_action") == "errors":
            self.refused_forms += 1
            return
        self.carried((person.kr_id, "modal", float(value)), answer)

    def pick_up_form(self, person: Person) -> None:
        """A form asked for at the last turn: the view the app opened, if it landed."""
        if not person.opened:
            return
        person.opened = False
        view = self.slack.open_modal(person.user.id)
        if view is None or view.id in person.forms_seen:
            self.forms_missing += 1
            return
        person.forms_seen.add(view.id)
        person.form = view

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def person(self, person: Person, until: float) -> None:
        """Open loop: the person acts on their schedule, answered or not (as in Slack)."""
        at = self.started + self.rng.uniform(0, MEAN_INTERVAL)
        while at < until:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.spawn(self.act(person))
            at += self.rng.expovariate(1 / MEAN_INTERVAL)

    async def hellos(self, until: float) -> None:
        someone = self.people[0].user
        at = self.started
        while at < until:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.spawn(self.hello(someone))
            at += self.rng.expovariate(HELLO_PER_SECOND)

    async def hello(self, user: User) -> None:
        await self.timed("/hello", self.driver.command(user, command="/hello"))

    async def run(self, people: list[Person], seconds: float) -> None:
        self.people = people
        self.started = time.perf_counter()
        until = self.started + seconds
        await asyncio.gather(
            self.watcher(until),
            self.hellos(until),
            *(self.person(p, until) for p in people),
        )
        while self._tasks:  # the last answers
            await asyncio.wait(set(self._tasks))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"the app server exited: {log.read_text()[-2000:]}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the app server did not become ready in 30 s")


async def _unprocessed(sessions: Any) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(InboxEvent)
                .where(InboxEvent.processed_at.is_(None))
            )
            or 0
        )


async def load() -> dict[str, Any]:
    wall_started = time.perf_counter()
    name = f"bench_load_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name}")
    _admin(f"CREATE DATABASE {name}")
    url = make_url(database_urls(ADMIN_URL).sync_url).set(database=name)
    raw_url = url.render_as_string(hide_password=False)
    urls = database_urls(raw_url)
    processes: list[subprocess.Popen[bytes]] = []
    before = clock.offset()
    try:
        migrate.upgrade(urls)
        with tempfile.TemporaryDirectory() as tmp:
            async with SlackEmulator() as slack:
                return await _run(slack, urls, raw_url, Path(tmp), processes, wall_started)
    finally:
        _stop(processes)
        clock.set_offset(before)
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _run(
    slack: SlackEmulator,
    urls: Any,
    raw_url: str,
    tmp: Path,
    processes: list[subprocess.Popen[bytes]],
    wall_started: float,
) -> dict[str, Any]:
    ws = slack.add_workspace("Load")
    engine = make_async_engine(urls)
    sessions = make_sessionmaker(engine)
    world = await build_world(sessions, slack, ws, teams=TEAMS, owners_per_team=OWNERS_PER_TEAM)
    async with sessions() as session:
        found = await session.execute(select(KeyResult.id, KeyResult.ref_number))
        refs = dict(found.all())
    people = [
        Person(owner, team.key_result_ids[o], f"KR{refs[team.key_result_ids[o]]}", o + 1, t)
        for t, team in enumerate(world.teams)
        for o, owner in enumerate(team.owners)
    ]

    # The bot's time reaches Monday 10:00 (every round due) LEAD_SECONDS from now: the server
    # and the clock start and warm up before it, so the round starts with the load.
    offset = (MONDAY_TEN - datetime.now(UTC)).total_seconds() - LEAD_SECONDS
    clock.set_offset(timedelta(seconds=offset))
    secret = secrets.token_hex(16)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_", "OUTBOX_", "CLOCK_", "INBOX_", "SPOOL_"))
    } | {
        "SLACK_BOT_TOKEN": ws.bot_token,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": raw_url,
        "OKR_CLOCK_OFFSET_SECONDS": str(offset),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WEB_PROCESSES),
        "LOG_LEVEL": "WARNING",
        "SPOOL_PATH": str(tmp / "spool" / "slack-events.jsonl"),
    }
    server_log = tmp / "server.log"
    cwd = str(Path(__file__).resolve().parent.parent)
    with server_log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.load_server"], env=env, cwd=cwd, stdout=out, stderr=out
        )
    processes.append(server)
    await _wait_ready(f"http://127.0.0.1:{port}/readyz", server, server_log)

    delivery = AiohttpDelivery(f"http://127.0.0.1:{port}{SLACK_EVENTS_PATH}", timeout=TIMEOUT)
    driver = LoadDriver(slack, ws, signing_secret=secret, deliver=delivery)
    run = Load(slack, driver, world)
    run.people = people
    clock_log = tmp / "clock.log"
    with clock_log.open("wb") as out:
        ticker = subprocess.Popen(
            [sys.executable, "-m", "bot", "clock"],
            env=env | {"CLOCK_TICK_SECONDS": "5"},  # the round starts within 5 s of 10:00
            cwd=cwd,
            stdout=out,
            stderr=out,
        )
    processes.append(ticker)
    for i in range(WARM_UP):  # first requests pay for imports and pools: not measured
        await driver.command(people[i].user, command="/hello")
        await driver.command(people[i].user, "mine")
        await driver.command(people[i].user, f"show {people[-i - 1].ref}")
    lead_left = (MONDAY_TEN - clock.now()).total_seconds()  # negative: the set-up overran
    await asyncio.sleep(max(0.0, lead_left))
    server_cpu, own_cpu = _cpu_seconds(server.pid), time.process_time()
    clock_cpu = _cpu_seconds(ticker.pid)
    load_started = time.perf_counter()
    await run.run(people, LOAD_SECONDS)
    load_wall = time.perf_counter() - load_started
    server_cpu = _cpu_seconds(server.pid) - server_cpu
    own_cpu = time.process_time() - own_cpu
    clock_cpu = _cpu_seconds(ticker.pid) - clock_cpu

    # The listeners finish in the server and its spool drains into the inbox; then what they
    # left goes through the clock's inbox retry, as the clock's next ticks would.
    spool = Spool(tmp / "spool" / "slack-events.jsonl")
    settle_started = time.perf_counter()
    while time.perf_counter() - settle_started < SETTLE_SECONDS:
        if spool.pending() == 0 and await _unprocessed(sessions) == 0:
            break
        await asyncio.sleep(0.5)
    left, spooled_left = await _unprocessed(sessions), spool.pending()
    settle = time.perf_counter() - settle_started
    server_cpu_total = _cpu_seconds(server.pid)
    _stop(processes)  # what is left is handed over as the next start and ticks would
    drained = await spool.drain(lambda record: inbox.keep_spooled(sessions, record))
    settings = load_settings(
        slack_bot_token=ws.bot_token,
        slack_signing_secret=secret,
        slack_api_url=slack.api_url,
        database_url=raw_url,
        inbox_retry_seconds=0.001,
        spool_path=tmp / "retry-spool" / "slack-events.jsonl",
    )
    app = build_app(settings, mode=Mode.OFFLINE)
    retried = 0
    try:
        ceremony = Ceremony(app)
        while done := await ceremony.retry_inbox():
            retried += done
    finally:
        await app.http.close()
        await app.engine.dispose()
    still_left = await _unprocessed(sessions)
    run.watch_round()
    await delivery.close()

    async with sessions() as session:
        rows = (
            await session.execute(
                select(Checkin.key_result_id, Checkin.source, Checkin.value, Checkin.retraction)
            )
        ).all()
    await engine.dispose()
    stored: Counter[tuple[int, str, float]] = Counter(
        (kr, source, float(value))
        for kr, source, value, retraction in rows
        if not retraction and value is not None
    )
    once = sum(1 for key in run.sent if stored[key] == 1)
    missing = [key for key in run.sent if stored[key] == 0]
    duplicated = sum(1 for key in run.sent if stored[key] > 1)
    unexpected = sum(n for key, n in stored.items() if key not in run.sent)

    # An unanswered request counts with the time waited (TIMEOUT): a lower bound.
    measured = [s for s in run.samples if s.kind != "/hello"]
    hello = [s.elapsed for s in run.samples if s.kind == "/hello"]
    subject = [s.elapsed for s in measured]
    kinds = Counter(s.kind for s in run.samples if s.kind != "/hello")
    by_kind = {
        kind: (
            statistics.median([s.elapsed for s in measured if s.kind == kind] or [0.0]),
            _percentile([s.elapsed for s in measured if s.kind == kind], 0.99),
        )
        for kind in sorted(kinds)
    }
    server_problems: Counter[str] = Counter()
    for line in server_log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            server_problems["(not a log line)"] += 1
            continue
        message = str(entry.get("message") or "").splitlines()[0][:60]
        server_problems[f"{entry.get('level')}: {message}"] += 1
    keep = os.environ.get("BENCH_LOAD_LOGS")  # a folder to keep the processes' logs in
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for log in (server_log, clock_log):
            (Path(keep) / log.name).write_bytes(log.read_bytes())
    expected_round = TEAMS + TEAMS * OWNERS_PER_TEAM
    p50, p99 = statistics.median(subject), _percentile(subject, 0.99)
    b50, b99 = statistics.median(hello), _percentile(hello, 0.99)
    return {
        "people": len(people),
        "web_processes": WEB_PROCESSES,
        "lead_left": lead_left,
        "load_seconds": load_wall,
        "requests": len(run.samples),
        "people_rate": len(subject) / load_wall,
        "hello_count": len(hello),
        "kinds": dict(kinds),
        "answered_in_time": sum(
            1 for s in run.samples if s.status == 200 and s.elapsed <= ACK_DEADLINE
        ),
        "by_kind": by_kind,
        "p50": p50,
        "p99": p99,
        "b50": b50,
        "b99": b99,
        "max": max(s.elapsed for s in run.samples),
        "over_deadline": sum(1 for s in run.samples if s.elapsed > ACK_DEADLINE),
        "slow_by_5s": dict(  # acks over 0.5 s, by when they were asked (5-second windows)
            sorted(Counter(int(s.started // 5) * 5 for s in run.samples if s.elapsed > 0.5).items())
        ),
        "server_errors_5xx": sum(1 for s in run.samples if s.status >= 500),
        "statuses": dict(Counter(s.status for s in run.samples)),
        "no_answer": dict(run.no_answer),
        "sent": len(run.sent),
        "try_again": run.try_again,
        "sent_by_source": dict(Counter(key[1] for key in run.sent)),
        "sent_unanswered": sum(1 for status in run.sent.values() if status != 200),
        "stored": sum(stored.values()),
        "once": once,
        "missing": len(missing),
        "missing_answered_200": sum(1 for key in missing if run.sent[key] == 200),
        "missing_by": dict(Counter(f"{key[1]} {run.sent[key]}" for key in missing)),
        "duplicated": duplicated,
        "unexpected": unexpected,
        "refused_forms": run.refused_forms,
        "forms_missing": run.forms_missing,
        "settle_seconds": settle,
        "left_after_settle": left,
        "spooled_left": spooled_left,
        "spool_drained_after": drained,
        "server_cpu_total": server_cpu_total,
        "retried": retried,
        "still_unprocessed": still_left,
        "prompts": len(run.prompts),
        "dms": len(run.dms),
        "round_expected": expected_round,
        "last_prompt_at": max(run.prompt_at.values(), default=0.0),
        "lag_p99": _percentile(run.lag, 0.99),
        "lag_max": max(run.lag, default=0.0),
        "server_cpu": server_cpu,
        "generator_cpu": own_cpu,
        "clock_cpu": clock_cpu,
        "server_log": dict(server_problems.most_common(8)),
        "wall": time.perf_counter() - wall_started,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(load()), indent=1, default=str))
