"""Metric pulls before one round: 1,000 key results with sources, pulled by the clock's pull
runner (tick, claim, fetch through the pinned transport, record through the intake) from an
allow-listed local server answering after 50 ms, against a bare httpx loop making the same
1,000 fetches with the same concurrency. Wall time as a ratio (above 1 is slower)."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from bot import clock, migrate
from bot.config import database_urls
from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, MetricSourceState
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world

KEY_RESULTS = 1_000
TEAMS = 50
LATENCY = 0.05
CONCURRENCY = 16
ROUNDS = 3
FIRST_P = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday; the world's rounds are at 10:00


async def _server() -> tuple[web.AppRunner, str]:
    async def metric(request: web.Request) -> web.Response:
        await asyncio.sleep(LATENCY)
        return web.json_response({"data": {"total": int(request.query.get("kr", "0")) % 97}})

    app = web.Application()
    app.router.add_get("/metric", metric)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/metric"


async def _bare(urls: list[str]) -> float:
    """The same fetches, nothing else: a semaphore, httpx, the JSON and its field."""
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(url: str) -> float:
            async with gate:
                answer = await client.get(url)
                return float(answer.json()["data"]["total"])

        started = time.perf_counter()
        await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started


ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)


def _admin(statement: str) -> None:
    engine = create_engine(database_urls(ADMIN_URL).sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def _database(backend: str) -> Iterator[str]:
    """A migrated database of its own: a SQLite file, or a PostgreSQL database dropped after."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate.upgrade(database_urls(url))
            yield url
        return
    name = f"bench_pulls_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name}")
    _admin(f"CREATE DATABASE {name}")
    url = make_url(database_urls(ADMIN_URL).sync_url).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        migrate.upgrade(database_urls(rendered))
        yield rendered
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def pull_time(backend: str = "sqlite") -> dict[str, Any]:
    runner, url = await _server()
    try:
        with _database(backend) as db:
            async with SandboxStack(
                database_url=db, over_http=False, metric_source_allow="127.0.0.1",
                metric_pull_concurrency=CONCURRENCY,
            ) as stack:  # fmt: skip
                assert stack.app is not None and stack.ws is not None
                before = clock.offset()
                clock.set_offset(FIRST_P - timedelta(minutes=10) - datetime.now(UTC))
                await build_world(
                    stack.app.sessions, stack.slack, stack.ws, teams=TEAMS,
                    owners_per_team=KEY_RESULTS // TEAMS,
                )  # fmt: skip
                async with stack.app.sessions.begin() as session:
                    ids = list((await session.execute(select(KeyResult.id))).scalars())
                    for kr_id in ids:
                        await session.execute(
                            update(KeyResult)
                            .where(KeyResult.id == kr_id)
                            .values(
                                metric_source={"url": f"{url}?kr={kr_id}", "path": "data.total"}
                            )
                        )
                    session.add_all(  # as `/okr source` leaves them (no secret)
                        MetricSourceState(key_result_id=kr_id, workspace_id=workspace_id)
                        for kr_id, workspace_id in (
                            await session.execute(select(KeyResult.id, KeyResult.workspace_id))
                        ).all()
                    )
                urls = [f"{url}?kr={kr_id}" for kr_id in ids]
                ceremony = Ceremony(stack.app)
                subject: list[float] = []
                baseline: list[float] = []
                await _bare(urls[:50])  # warm-up
                for week in range(ROUNDS):
                    clock.set_offset(
                        FIRST_P + timedelta(days=7 * week, minutes=-10) - datetime.now(UTC)
                    )
                    started = time.perf_counter()
                    await ceremony.tick()
                    pulled = await ceremony.pulls.drain()
                    subject.append(time.perf_counter() - started)
                    assert pulled == len(ids), (pulled, len(ids))
                    baseline.append(await _bare(urls))
                async with stack.app.sessions() as session:
                    recorded = await session.scalar(
                        select(func.count()).select_from(Checkin).where(Checkin.source == "pull")
                    )
                await ceremony.source_http.aclose()
                clock.set_offset(before)
    finally:
        await runner.cleanup()
    ratios = [s / b for s, b in zip(subject, baseline, strict=True)]
    return {
        "subject": statistics.median(subject),
        "baseline": statistics.median(baseline),
        "ratio": statistics.median(ratios),
        "recorded": recorded,
        "expected": len(ids) * ROUNDS,
        "floor": len(ids) / CONCURRENCY * LATENCY,
    }


if __name__ == "__main__":
    print(asyncio.run(pull_time(sys.argv[1] if len(sys.argv) > 1 else "sqlite")))
