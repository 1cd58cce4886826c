"""The channel digest: composing it, drawing its chart, and the digest-time fan-out.

- Digest time: on PostgreSQL, a workspace of 500 teams, 5,000 key results and 13 periods of
  check-ins. A batch of teams' digests composed as the sender composes them (the outbox's
  compose of a claimed batch, in a reader session, so every read is in the figure), per
  digest, against building the same digests from their rows already fetched: the read
  model computed from those rows, then its blocks (everything but the reads).
- Chart time: `render_progress_chart` for a typical team (5 objectives x 13 periods) against
  `render_empty` of the same size, so matplotlib's own cost is the baseline.
- Digest fan-out: a real `python -m bot clock` process at the digest time D of a round whose
  prompts and DMs are over, sending to the emulator with its rate limits on; wall time as a
  ratio to the floor Slack's workspace message budget alone would take.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot import migrate
from bot.blocks.digest import DigestData, build_digest_parts, digest_fallback
from bot.charts import ProgressChart, render_empty, render_progress_chart
from bot.config import database_urls
from bot.db import make_async_engine, make_sessionmaker, readers_for
from bot.models import (
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamMember,
    Workspace,
)
from bot.models.outbox_keys import Kind, digest_key
from bot.okr.period import label, monday_of
from bot.okr.progress import Direction, Measure
from bot.okr.progress import Kind as MeasureKind
from bot.okr.series import CycleDates, KeyResultHistory, ObjectiveHistory, progress_series
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.limits import WORKSPACE_MESSAGES_PER_MINUTE
from bot.sandbox.world import build_world
from bot.services import deliveries, digests

TEAMS, KEY_RESULTS_PER_TEAM, OBJECTIVES_PER_TEAM = 500, 10, 3
CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
ROUND = "2026-W52"  # the 13th period of the cycle: W40 to W52 have check-ins
HISTORY = 13
DIGEST_AT = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)  # D: Monday 10:00 + the default 2 days
KEY_RESULTS_CREATED = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
SAMPLE = 50  # teams whose digests are timed, spread over the workspace: the sender's batch
ROUNDS = 7  # over the sample, each in a fresh reader session, interleaved with the baseline
BUILDS = 5  # of the read model and blocks per team and round: short, so it is averaged
ALONE = 10  # teams whose digest is also composed on its own (a batch of one), for the record
DIGEST_GOAL = 1.5

CHART_OBJECTIVES, CHART_RUNS = 5, 7

FANOUT_TEAMS, FANOUT_OWNERS = 200, 10
FANOUT_SCALE = 2.0  # 200 digests at x2 is a 20 s floor: long enough that start-up is not all
PACE = 0.95  # the sender just under the budget, as in bench/fanout.py
POST = "chat.postMessage"

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)


def _periods() -> list[str]:
    last = monday_of(ROUND)
    return [label(last - timedelta(weeks=HISTORY - 1 - i)) for i in range(HISTORY)]


def _checkin_rows(
    workspace_id: int, key_results: list[tuple[int, int]], periods: list[str]
) -> list[dict[str, Any]]:
    """Each key result's history: one check-in a week, rising with noise, some weeks missed
    (the latest included, so the digest lists missing people and streaks), a status reported
    now and then, a note every third week. `key_results` holds (key result id, owner id)."""
    rows = []
    for kr_id, owner in key_results:
        for i, period in enumerate(periods):
            if (kr_id * 7 + i) % 9 == 0:
                continue
            value = min(100.0, i * 6.5 + (kr_id * 13 + i * 29) % 17)
            rows.append(
                {
                    "workspace_id": workspace_id,
                    "key_result_id": kr_id,
                    "period": period,
                    "value": value,
                    "confidence": 4 + (kr_id + i) % 6,
                    "status": "at_risk" if (kr_id + i) % 11 == 0 else None,
                    "note": f"week {i + 1}: on it" if i % 3 == 0 else None,
                    "author_person_id": owner,
                    "recorded_at": datetime.combine(
                        monday_of(period) + timedelta(days=1), clock_time(9), UTC
                    ),
                    "source": "command",
                    "source_ref": f"bench:{kr_id}:{period}",
                    "revision": "",
                    "retraction": False,
                }
            )
    return rows


async def _seed(session: AsyncSession) -> int:
    """The workspace in bulk inserts (ids given, as nothing else writes to this database)."""
    now = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
    stamps = {"created_at": now, "updated_at": now}
    await session.execute(
        insert(Workspace),
        [{"id": 1, "slack_team_id": "TDIGEST", "name": "Digest", "timezone": "UTC",
          "settings": {}, "state": "active", **stamps}],
    )  # fmt: skip
    await session.execute(
        insert(Cycle),
        [{"id": 1, "workspace_id": 1, "name": "2026-Q4", "starts_on": CYCLE[0],
          "ends_on": CYCLE[1], "state": "active", **stamps}],
    )  # fmt: skip
    size = KEY_RESULTS_PER_TEAM + 1  # a lead and one owner per key result
    await session.execute(
        insert(Person),
        [{"id": p, "workspace_id": 1, "slack_user_id": f"U{p:07d}", "name": f"Person {p}",
          "role": "member", "is_deactivated": False, **stamps}
         for p in range(1, TEAMS * size + 1)],
    )  # fmt: skip
    await session.execute(
        insert(Team),
        [{"id": t + 1, "workspace_id": 1, "name": f"Team {t}", "channel_id": f"C{t:07d}",
          "lead_person_id": t * size + 1, "checkin_weekday": 0, "checkin_time": clock_time(10),
          "timezone": "UTC", "paused": False, **stamps} for t in range(TEAMS)],
    )  # fmt: skip
    await session.execute(
        insert(TeamMember),
        [{"team_id": t + 1, "person_id": t * size + 2 + k, "workspace_id": 1, "joined_at": now}
         for t in range(TEAMS) for k in range(KEY_RESULTS_PER_TEAM)],
    )  # fmt: skip
    await session.execute(
        insert(Objective),
        [{"id": o + 1, "workspace_id": 1, "ref_number": o + 1, "cycle_id": 1, "level": "team",
          "team_id": o // OBJECTIVES_PER_TEAM + 1,
          "owner_person_id": (o // OBJECTIVES_PER_TEAM) * size + 1,
          "title": f"Objective {o + 1} delights its customers", "description": "",
          "state": "active", **stamps} for o in range(TEAMS * OBJECTIVES_PER_TEAM)],
    )  # fmt: skip
    owners: list[tuple[int, int]] = []
    key_results = []
    for t in range(TEAMS):
        for k in range(KEY_RESULTS_PER_TEAM):
            kr_id = t * KEY_RESULTS_PER_TEAM + k + 1
            owners.append((kr_id, t * size + 2 + k))
            key_results.append(
                {"id": kr_id, "workspace_id": 1, "ref_number": kr_id,
                 "objective_id": t * OBJECTIVES_PER_TEAM + k % OBJECTIVES_PER_TEAM + 1,
                 "owner_person_id": t * size + 2 + k, "title": f"Signups {kr_id} from 0 to 100",
                 "kind": "number", "unit": "", "start_value": 0.0, "target_value": 100.0,
                 "direction": "increase", "weight": 1.0, "state": "active",
                 "created_at": KEY_RESULTS_CREATED, "updated_at": KEY_RESULTS_CREATED}
            )  # fmt: skip
    await session.execute(insert(KeyResult), key_results)
    rows = _checkin_rows(1, owners, _periods())
    for start in range(0, len(rows), 10_000):
        await session.execute(insert(Checkin), rows[start : start + 10_000])
    return len(rows)


def _admin(statement: str) -> None:
    engine = create_engine(database_urls(ADMIN_URL).sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _item(team_id: int) -> OutboxItem:
    """The outbox row the clock queues for a team's digest at D (never stored here)."""
    return OutboxItem(
        workspace_id=1,
        kind=Kind.DIGEST,
        idempotency_key=digest_key(1, team_id, ROUND, 1),
        target=str(team_id),
        period=ROUND,
        payload={
            "team_id": team_id,
            "channel": f"C{team_id - 1:07d}",
            "digest_at": DIGEST_AT.isoformat(),
            "part": 1,
            "deadline": (DIGEST_AT + timedelta(days=2)).isoformat(),
        },
        next_attempt_at=DIGEST_AT,
    )


def _build(data: DigestData) -> int:
    parts = build_digest_parts(data)
    digest_fallback(data, 1, len(parts))
    return len(parts)


_Fetched = tuple[Team, digests.DigestRows, digests.DigestPeople]


def _from_rows(fetched: _Fetched) -> int:
    """The digest from its rows already fetched: the read model, then its blocks."""
    team, rows, named = fetched
    return _build(digests.digest_from_rows(rows, named, team=team, period=ROUND, at=DIGEST_AT))


BARE_CHECKINS = (
    "SELECT id, key_result_id, period, value, confidence, status, note, recorded_at, source, "
    "source_ref, retraction FROM checkin "
    "WHERE workspace_id = 1 AND key_result_id = ANY(%s) AND period <= %s"
)


async def _bare_checkins(session: AsyncSession, key_results: list[int]) -> float:
    """The batch's check-in rows (the columns the digest reads) fetched with the bare driver,
    no SQLAlchemy: what moving those rows alone costs, the floor of the reads."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    started = time.perf_counter()
    cursor = await raw.execute(BARE_CHECKINS, (key_results, ROUND))
    found = await cursor.fetchall()
    elapsed = time.perf_counter() - started
    assert len(found) > len(key_results)
    return elapsed


async def digest_time() -> dict[str, Any]:
    """Per digest: a batch of SAMPLE teams' digests composed together in a reader session
    (subject) vs the read model and blocks built from each team's rows fetched beforehand
    (baseline)."""
    name = f"bench_digest_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name}")
    _admin(f"CREATE DATABASE {name}")
    url = make_url(database_urls(ADMIN_URL).sync_url).set(database=name)
    urls = database_urls(url.render_as_string(hide_password=False))
    try:
        migrate.upgrade(urls)
        engine = make_async_engine(urls)
        sessions = make_sessionmaker(engine)
        seeded = time.perf_counter()
        async with sessions.begin() as session:
            checkins = await _seed(session)
        async with sessions.begin() as session:
            await session.execute(text("ANALYZE"))
        seed_seconds = time.perf_counter() - seeded
        readers = readers_for(sessions)
        sample = [1 + t * (TEAMS // SAMPLE) for t in range(SAMPLE)]
        now = DIGEST_AT + timedelta(minutes=1)
        models: dict[int, DigestData] = {}
        fetched: dict[int, _Fetched] = {}  # each team's rows, read once and not timed
        async with readers() as session:
            for team_id in sample:
                team = await session.get(Team, team_id)
                assert team is not None
                rows = await digests.load_digest_rows(
                    session, team=team, period=ROUND, at=DIGEST_AT
                )
                assert rows is not None, team_id
                named = await digests.load_digest_people(
                    session, team=team, rows=rows, period=ROUND, at=DIGEST_AT
                )
                fetched[team_id] = (team, rows, named)
                data = digests.digest_from_rows(rows, named, team=team, period=ROUND, at=DIGEST_AT)
                assert data == await digests.read_digest(
                    session, team=team, period=ROUND, at=DIGEST_AT
                ), team_id
                assert data.objectives and data.missing, team_id
                models[team_id] = data
        blocks = sum(len(b) for d in models.values() for b in build_digest_parts(d))
        parts = sum(_build(d) for d in models.values())
        batch = [_item(team_id) for team_id in sample]
        async with readers() as session:  # warm-up: the first statements prepare and cache
            together = await deliveries.compose_all(session, items=batch, now=now)
            for team_id, message in zip(sample, together, strict=True):
                assert message == await deliveries.compose(session, item=_item(team_id), now=now)
        # What the bench holds for the whole run (the baseline's rows, the read models) stays
        # out of the garbage collector: otherwise every collection the subject's allocations
        # set off would walk it again, a cost of the bench and not of the sender.
        gc.collect()
        gc.freeze()
        composed: list[float] = []
        built: list[float] = []
        alone: list[float] = []
        bare: list[float] = []
        key_results = [kr.id for t in sample for kr in fetched[t][1].key_results]
        ratios: list[float] = []
        statements, in_database, sent_at = 0, 0.0, 0.0

        def before(*_args: Any) -> None:
            nonlocal statements, sent_at
            statements += 1
            sent_at = time.perf_counter()

        def after(*_args: Any) -> None:
            nonlocal in_database
            in_database += time.perf_counter() - sent_at

        for _ in range(ROUNDS):
            async with readers() as session:
                event.listen(engine.sync_engine, "before_cursor_execute", before)
                event.listen(engine.sync_engine, "after_cursor_execute", after)
                started = time.perf_counter()
                messages = await deliveries.compose_all(session, items=batch, now=now)
                per_digest = (time.perf_counter() - started) / len(batch)
                event.remove(engine.sync_engine, "before_cursor_execute", before)
                event.remove(engine.sync_engine, "after_cursor_execute", after)
                assert all(m is not None and m.blocks for m in messages)
            started = time.perf_counter()
            for _ in range(BUILDS):
                for team_id in sample:
                    _from_rows(fetched[team_id])
            per_build = (time.perf_counter() - started) / BUILDS / len(sample)
            async with readers() as session:
                for team_id in sample[:ALONE]:
                    started = time.perf_counter()
                    await deliveries.compose(session, item=_item(team_id), now=now)
                    alone.append(time.perf_counter() - started)
            composed.append(per_digest)
            built.append(per_build)
            ratios.append(per_digest / per_build)
            async with readers() as session:
                bare.append(await _bare_checkins(session, key_results) / len(sample))
        await engine.dispose()
    finally:
        gc.unfreeze()
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return {
        "composed": statistics.median(composed),
        "built": statistics.median(built),
        "ratio": statistics.median(ratios),
        "seed_seconds": seed_seconds,
        "checkins": checkins,
        "batch": len(sample),
        "alone": statistics.median(alone),
        "bare": statistics.median(bare),
        "statements": statements / ROUNDS,  # a batch's
        "in_database": in_database / ROUNDS / len(sample),  # a digest's share, mean
        "blocks_per_digest": blocks / len(models),
        "parts": parts,
    }


def _chart() -> ProgressChart:
    """A typical team's chart: objectives of three key results, values that zigzag a little
    (harder to compress than straight lines), a week missed now and then."""
    cycle = CycleDates(CYCLE[0], CYCLE[1], ZoneInfo("UTC"))
    periods = _periods()
    measure = Measure(MeasureKind.NUMBER, Direction.INCREASE, 0, 100)
    objectives = [
        ObjectiveHistory(
            f"O{n + 1}",
            tuple(
                KeyResultHistory(
                    measure,
                    tuple(
                        None if (n + k + i) % 5 == 0 else min(100.0, i * 7 + (n * 37 + k * 53) % 15)
                        for i in range(len(periods))
                    ),
                )
                for k in range(3)
            ),
        )
        for n in range(CHART_OBJECTIVES)
    ]
    series = progress_series(cycle, periods=periods, objectives=objectives)
    return ProgressChart("Platform", periods[-1], series)


def chart_time() -> dict[str, float]:
    """Median of CHART_RUNS interleaved runs each: the chart and a blank figure of its size."""
    chart = _chart()
    render_progress_chart(chart)  # warm-up: matplotlib's import and font cache
    render_empty()
    drawn: list[float] = []
    blank: list[float] = []
    size = 0
    for _ in range(CHART_RUNS):
        started = time.perf_counter()
        size = len(render_progress_chart(chart))
        drawn.append(time.perf_counter() - started)
        started = time.perf_counter()
        render_empty()
        blank.append(time.perf_counter() - started)
    subject, baseline = statistics.median(drawn), statistics.median(blank)
    return {"chart": subject, "empty": baseline, "ratio": subject / baseline, "bytes": size}


def _sent_digests(database: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        found = connection.execute(
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = 'digest'"
        ).fetchone()
    return int(found[0])


def _digest(args: dict[str, Any]) -> bool:
    metadata = args.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    key = ((metadata or {}).get("event_payload") or {}).get("key", "")
    return str(key).startswith("digest:")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def digest_fanout(time_scale: float = FANOUT_SCALE) -> dict[str, Any]:
    """Every team's digest due at once: the clock started at D of a round whose prompts and
    DMs are over (nothing else is owed then), against the emulator with its limits on."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        urls = database_urls(url)
        migrate.upgrade(urls)
        async with SlackEmulator(rate_limits=True, time_scale=time_scale) as slack:
            ws = slack.add_workspace("Digests")
            engine = make_async_engine(urls)
            sessions = make_sessionmaker(engine)
            world = await build_world(
                sessions, slack, ws, teams=FANOUT_TEAMS, owners_per_team=FANOUT_OWNERS,
                cycle=CYCLE,
            )  # fmt: skip
            key_results = [
                (kr, world.person(owner))
                for team in world.teams
                for kr, owner in zip(team.key_result_ids, team.owners, strict=True)
            ]
            async with sessions.begin() as session:
                # The key results existed all cycle long, so every week of history counts.
                await session.execute(
                    update(KeyResult)
                    .where(KeyResult.workspace_id == world.workspace_id)
                    .values(created_at=KEY_RESULTS_CREATED)
                )
                await session.execute(
                    insert(Checkin), _checkin_rows(world.workspace_id, key_results, _periods())
                )
            await engine.dispose()
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("SLACK_", "DATABASE_", "OUTBOX_", "CLOCK_"))
            } | {
                "SLACK_BOT_TOKEN": ws.bot_token,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": url,
                "CLOCK_TICK_SECONDS": "60",
                "OUTBOX_POLL_SECONDS": "0.05",
                "OUTBOX_CONCURRENCY": "16",
                "OUTBOX_MESSAGES_PER_MINUTE": str(
                    PACE * WORKSPACE_MESSAGES_PER_MINUTE * time_scale
                ),
                "LOG_LEVEL": "WARNING",
            }
            channels = [t.channel.id for t in world.teams]
            expected = len(channels)
            started = time.perf_counter()
            started_at = time.time()
            offset = (DIGEST_AT - datetime.now(UTC)).total_seconds()
            busy = subprocess.Popen(
                [sys.executable, "-m", "bot", "clock"],
                env=env | {"OKR_CLOCK_OFFSET_SECONDS": str(offset)},
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )

            def digest_posts() -> list[float]:
                """When each digest message was accepted (charts and anything else aside)."""
                return [c.at for c in slack.calls if c.method == POST and c.ok and _digest(c.args)]

            try:
                while time.perf_counter() - started < 180:
                    if len(digest_posts()) >= expected:
                        break
                    await asyncio.sleep(0.1)
                wall = time.perf_counter() - started
                database = url.removeprefix("sqlite:///")
                while _sent_digests(database) < expected and time.perf_counter() - started < 180:
                    await asyncio.sleep(0.05)
                clock_cpu = _cpu_seconds(busy.pid)
                await asyncio.sleep(2)  # anything late would be a duplicate
            finally:
                busy.terminate()
                busy.wait(timeout=30)
            messages = [m for c in channels for m in slack.channel_messages(c)]
            keys = Counter(
                m.metadata["event_payload"]["key"] for m in messages if m.metadata and not m.deleted
            )
            digest_keys = {k: n for k, n in keys.items() if k.startswith("digest:")}
            owed = {digest_key(world.workspace_id, t.id, ROUND, 1) for t in world.teams}
            times = sorted(digest_posts())
            floor = expected / (WORKSPACE_MESSAGES_PER_MINUTE * time_scale / 60)
            return {
                "expected": expected,
                "wall": wall,
                "floor": floor,
                "ratio": wall / floor,
                "duplicates": sum(n - 1 for n in digest_keys.values() if n > 1),
                "losses": len(owed - set(digest_keys)),
                "parts": len(digest_keys),
                "other_keys": dict(Counter(k.split(":")[0] for k in keys if k not in digest_keys)),
                "first_post": times[0] - started_at if times else 0.0,
                "clock_cpu": clock_cpu,
                "rate_limited": sum(1 for c in slack.calls if c.method == POST and c.status == 429),
                "dms": sum(
                    1
                    for c in slack.calls
                    if c.method == POST and str(c.args.get("channel", "")).startswith(("U", "D"))
                ),
            }


if __name__ == "__main__":
    print(chart_time())
    print(asyncio.run(digest_time()))
    print(asyncio.run(digest_fanout()))
