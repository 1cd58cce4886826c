"""The clock as a process and its singleton lock: `python -m bot clock` posts a due round
once; two clocks never both act; a second SQLite worker refuses to start; the APScheduler
job has explicit options."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.config import Mode, load_settings
from bot.db import make_sessionmaker
from bot.jobs.clock import TICK_JOB, Ceremony, scheduler_for
from bot.jobs.lock import CLOCK_LOCK_SUFFIX, SingletonLock
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.world import build_world
from tests.cli_env import clean_env
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


async def test_two_locks_one_holder_and_release_hands_over(engine: AsyncEngine) -> None:
    first = SingletonLock(engine, suffix=CLOCK_LOCK_SUFFIX)
    second = SingletonLock(engine, suffix=CLOCK_LOCK_SUFFIX)
    try:
        assert await first.acquire() is True
        assert await first.held() is True
        assert await second.acquire() is False
        await first.release()
        assert await first.held() is False
        assert await second.acquire() is True
    finally:
        await first.release()
        await second.release()


async def test_the_scheduler_job_has_explicit_options(engine: AsyncEngine) -> None:
    settings = load_settings(slack_bot_token="xoxb-test", clock_tick_seconds=60)
    app = build_app(settings, mode=Mode.OFFLINE, engine=engine)
    scheduler = scheduler_for(Ceremony(app), SingletonLock(engine, suffix=CLOCK_LOCK_SUFFIX))
    job = scheduler.get_job(TICK_JOB)
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    assert str(scheduler.timezone) == "UTC" and job.trigger.interval.total_seconds() == 60


def _clock_env(
    database: Database, slack: SlackEmulator, token: str, **extra: str
) -> dict[str, str]:
    offset = (MONDAY_TEN - datetime.now(UTC)).total_seconds()
    return clean_env(
        SLACK_BOT_TOKEN=token,
        DATABASE_URL=database.urls.sync_url.render_as_string(hide_password=False),
        SLACK_API_URL=slack.api_url,
        OKR_CLOCK_OFFSET_SECONDS=str(offset),
        CLOCK_TICK_SECONDS="0.3",
        OUTBOX_POLL_SECONDS="0.05",
        **extra,
    )


async def test_two_clock_processes_post_each_round_once(
    tmp_path: Path, database: Database, engine: AsyncEngine
) -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme")
        world = await build_world(make_sessionmaker(engine), slack, ws, teams=2, owners_per_team=2)
        env = _clock_env(database, slack, ws.bot_token)
        clocks = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "clock"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for _ in range(200):
                posted = [m for t in world.teams for m in slack.channel_messages(t.channel.id)]
                dms = [m for t in world.teams for o in t.owners for m in slack.dms(o.id)]
                if len(posted) >= 2 and len(dms) >= 4:
                    break
                assert all(c.poll() is None for c in clocks), [c.communicate() for c in clocks]
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # more ticks: nothing more may be posted
        finally:
            for process in clocks:
                process.send_signal(signal.SIGTERM)
            outputs = [process.communicate(timeout=20)[0] for process in clocks]
        assert [c.returncode for c in clocks] == [0, 0], outputs
        posted = [m for t in world.teams for m in slack.channel_messages(t.channel.id)]
        dms = [m for t in world.teams for o in t.owners for m in slack.dms(o.id)]
        assert len(posted) == 2 and len(dms) == 4
        keys = [m.metadata["event_payload"]["key"] for m in posted + dms if m.metadata]
        assert len(keys) == len(set(keys)) == 6


def test_a_second_sqlite_worker_exits_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okr.db'}"
    env = clean_env(
        DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL="http://127.0.0.1:9/api/"
    )
    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)  # fmt: skip
    holder = open(f"{tmp_path / 'okr.db'}.worker.lock", "w")  # noqa: SIM115
    import fcntl

    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "worker"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.close()
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: another worker is already sending from this SQLite database; run exactly one, "
        "or use PostgreSQL for more"
    ], done.stderr


async def test_run_serves_slack_and_runs_the_clock_in_one_process(
    tmp_path: Path, database: Database, engine: AsyncEngine
) -> None:
    """What `make run` starts: the app on PORT and the clock beside it."""
    import httpx

    from bot.sandbox.stack import free_port

    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme")
        world = await build_world(make_sessionmaker(engine), slack, ws, teams=1, owners_per_team=1)
        port = free_port()
        env = _clock_env(database, slack, ws.bot_token, SLACK_SIGNING_SECRET="s", PORT=str(port))
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            healthy = None
            async with httpx.AsyncClient(timeout=2) as client:
                for _ in range(300):
                    assert process.poll() is None, process.communicate()[0]
                    try:
                        healthy = await client.get(f"http://127.0.0.1:{port}/healthz")
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                        continue
                    if slack.channel_messages(world.teams[0].channel.id):
                        break
                    await asyncio.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=30)[0]
        assert healthy is not None and healthy.status_code == 200, output
        [prompt] = slack.channel_messages(world.teams[0].channel.id)
        assert "Weekly check-in" in str(prompt.blocks)
        # A graceful stop: uvicorn finishes, then re-raises the SIGTERM it caught.
        assert "Application shutdown complete" in output
        assert process.returncode in (0, -signal.SIGTERM), output


async def test_lanes_asking_at_once_all_hear_the_lock_is_still_held(engine: AsyncEngine) -> None:
    """The sender's lanes and the tick ask over the lock's one connection at the same moment:
    each hears "held", and the lock stays (an overlap on the connection is not a lost lock)."""
    lock = SingletonLock(engine, suffix=CLOCK_LOCK_SUFFIX)
    other = SingletonLock(engine, suffix=CLOCK_LOCK_SUFFIX)
    try:
        assert await lock.acquire() is True
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answers = await asyncio.gather(*(lock.held() for _ in range(8)), lock.acquire())
            gc.collect()
        assert answers == [True] * 9
        # Interleaved on one connection, one ask's commit ends another's transaction.
        assert not [w for w in caught if issubclass(w.category, SAWarning)], caught
        assert await other.acquire() is False  # still ours, on the same connection
    finally:
        await lock.release()
        await other.release()
