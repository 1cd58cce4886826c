"""The weekly fan-out: one workspace, 200 teams and 2,000 owners all due in the same minute.

A real `python -m bot clock` process sends to the emulator with its rate limits on, sped up
by TIME_SCALE. The floor is the time Slack's workspace message budget alone would take:
(prompts + DMs) / (messages a minute x TIME_SCALE / 60). Reported: wall time / floor, the
duplicates and losses (both must be 0), and the clock's peak memory as a ratio to the same
clock idling over the same data (a Sunday: nothing due).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot import migrate
from bot.config import database_urls
from bot.db import make_async_engine, make_sessionmaker
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.limits import WORKSPACE_MESSAGES_PER_MINUTE
from bot.sandbox.world import build_world

TEAMS, OWNERS_PER_TEAM = 200, 10
TIME_SCALE = 10.0
PACE = 0.95  # the sender is set just under the budget, as a deployment would be
MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POST = "chat.postMessage"


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _clock(env: dict[str, str], at: datetime, cwd: str) -> subprocess.Popen[str]:
    offset = (at - datetime.now(UTC)).total_seconds()
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "clock"],
        env=env | {"OKR_CLOCK_OFFSET_SECONDS": str(offset)},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


async def fanout() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        urls = database_urls(url)
        migrate.upgrade(urls)
        async with SlackEmulator(rate_limits=True, time_scale=TIME_SCALE) as slack:
            ws = slack.add_workspace("Fanout")
            engine = make_async_engine(urls)
            world = await build_world(
                make_sessionmaker(engine), slack, ws, teams=TEAMS, owners_per_team=OWNERS_PER_TEAM
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
                "CLOCK_TICK_SECONDS": "60",  # the default: one tick queues the whole round
                "OUTBOX_POLL_SECONDS": "0.05",
                "OUTBOX_CONCURRENCY": "16",
                "OUTBOX_MESSAGES_PER_MINUTE": str(
                    PACE * WORKSPACE_MESSAGES_PER_MINUTE * TIME_SCALE
                ),
                "LOG_LEVEL": "WARNING",
            }
            idle = _clock(env, SUNDAY, tmp)
            await asyncio.sleep(6)  # several ticks over the whole snapshot
            idle_kib = _peak_kib(idle.pid)
            idle.terminate()
            idle.wait(timeout=30)

            channels = [t.channel.id for t in world.teams]
            owners = [o.id for t in world.teams for o in t.owners]
            expected = len(channels) + len(owners)
            started = time.perf_counter()
            started_at = time.time()
            own_cpu = time.process_time()
            busy = _clock(env, MONDAY_TEN, tmp)
            peak_kib = 0
            delivered = 0
            try:
                while time.perf_counter() - started < 600:
                    # Cheap on purpose: the emulator shares this process and its loop.
                    delivered = sum(1 for c in slack.calls if c.method == POST and c.ok)
                    peak_kib = max(peak_kib, _peak_kib(busy.pid))
                    if delivered >= expected:
                        break
                    await asyncio.sleep(0.2)
                wall = time.perf_counter() - started
                clock_cpu = _cpu_seconds(busy.pid)
                emulator_cpu = time.process_time() - own_cpu
                await asyncio.sleep(2)  # anything late would be a duplicate
                peak_kib = max(peak_kib, _peak_kib(busy.pid))
            finally:
                busy.terminate()
                busy.wait(timeout=30)
            messages = [m for c in channels for m in slack.channel_messages(c)]
            messages += [m for o in owners for m in slack.dms(o)]
            keys = Counter(
                m.metadata["event_payload"]["key"] for m in messages if m.metadata and not m.deleted
            )
            times = sorted(c.at for c in slack.calls if c.method == POST and c.ok)
            budget_per_second = WORKSPACE_MESSAGES_PER_MINUTE * TIME_SCALE / 60
            floor = expected / budget_per_second
            return {
                "expected": expected,
                "wall": wall,
                "floor": floor,
                "ratio": wall / floor,
                "duplicates": sum(n - 1 for n in keys.values() if n > 1),
                "losses": expected - len(keys),
                "peak_mib": peak_kib / 1024,
                "idle_mib": idle_kib / 1024,
                "first_post": times[0] - started_at if times else 0.0,
                "clock_cpu": clock_cpu,
                "emulator_cpu": emulator_cpu,
                "memory_ratio": peak_kib / idle_kib if idle_kib else 0.0,
                "rate_limited": sum(1 for c in slack.calls if c.method == POST and c.status == 429),
                "failed_calls": dict(
                    Counter(
                        f"{c.method} {c.status} {c.response.get('error')}"
                        for c in slack.calls
                        if not c.ok
                    )
                ),
            }


if __name__ == "__main__":
    print(asyncio.run(fanout()))
