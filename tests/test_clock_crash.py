"""Crash-only, for real: a clock process SIGKILLs itself at a named boundary
(`OKR_CRASHPOINT`), a new one starts, and every prompt and DM still ends as exactly one live
message, with no second post of what Slack had already accepted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import make_sessionmaker
from bot.models import OutboxItem
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.world import World, build_world
from tests.cli_env import clean_env
from tests.databases import Database

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MESSAGES = 2 + 4  # 2 team prompts, 4 owner DMs


def clock_process(env: dict[str, str], cwd: Path, crashpoint: str | None) -> subprocess.Popen[str]:
    extra = {"OKR_CRASHPOINT": crashpoint} if crashpoint else {}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "clock"],
        cwd=cwd,
        env=env | extra,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def live_keys(slack: SlackEmulator, world: World) -> Counter[str]:
    messages = [m for t in world.teams for m in slack.channel_messages(t.channel.id)]
    messages += [m for t in world.teams for o in t.owners for m in slack.dms(o.id)]
    return Counter(
        m.metadata["event_payload"]["key"] for m in messages if m.metadata and not m.deleted
    )


async def outbox_states(engine: AsyncEngine) -> Counter[str]:
    async with make_sessionmaker(engine)() as session:
        return Counter((await session.execute(select(OutboxItem.state))).scalars())


@pytest.mark.parametrize(
    "crashes",
    [
        pytest.param(["claimed:1"], id="after-claim"),
        pytest.param(["answered:3"], id="after-slack-answered"),
        pytest.param(["answered:2", "reconciling:1"], id="while-reconciling"),
    ],
)
async def test_killed_clocks_leave_exactly_one_message_per_key(
    tmp_path: Path, database: Database, engine: AsyncEngine, crashes: list[str]
) -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme")
        world = await build_world(make_sessionmaker(engine), slack, ws, teams=2, owners_per_team=2)
        env = clean_env(
            SLACK_BOT_TOKEN=ws.bot_token,
            DATABASE_URL=database.urls.sync_url.render_as_string(hide_password=False),
            SLACK_API_URL=slack.api_url,
            OKR_CLOCK_OFFSET_SECONDS=str((MONDAY_TEN - datetime.now(UTC)).total_seconds()),
            CLOCK_TICK_SECONDS="0.3",
            OUTBOX_POLL_SECONDS="0.05",
            OUTBOX_CONCURRENCY="1",
            OUTBOX_LEASE_SECONDS="1",
        )
        for crashpoint in crashes:
            doomed = clock_process(env, tmp_path, crashpoint)
            for _ in range(300):
                if doomed.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                doomed.kill()
                raise AssertionError(f"the clock never reached {crashpoint}")
            assert doomed.returncode == -signal.SIGKILL, doomed.communicate()[1]
        survivor = clock_process(env, tmp_path, None)
        try:
            for _ in range(300):
                states = await outbox_states(engine)
                if states == Counter({"sent": MESSAGES}):
                    break
                assert survivor.poll() is None, survivor.communicate()[1]
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a late duplicate would show now
        finally:
            survivor.send_signal(signal.SIGTERM)
            _out, errors = survivor.communicate(timeout=20)
        assert survivor.returncode == 0, errors
        assert await outbox_states(engine) == Counter({"sent": MESSAGES})
        keys = live_keys(slack, world)
        assert len(keys) == MESSAGES and set(keys.values()) == {1}
        posts = [c for c in slack.recorded("chat.postMessage") if c.ok]
        assert len(posts) == MESSAGES  # nothing Slack had accepted was posted again
