"""The weekly fan-out: one workspace, 200 teams and 2,000 owners all due in the same minute.

A real `python -m bot clock` process sends to the emulator with its rate limits on, sped up
by TIME_SCALE. The floor is the time Slack's workspace message budget alone would take:
(prompts + DMs) / (messages a minute x TIME_SCALE / 60). Reported: wall time / floor, the
duplicates and losses (both must be 0), and the clock's peak memory as a ratio to the same
clock idling over the same data (a Sunday: nothing due).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
BARE_CALLS = 500


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


def _sent_rows(database: str) -> int:
    """Ceremony rows the clock has recorded as sent (read beside it, read-only)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        found = connection.execute(
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind IN ('prompt', 'dm')"
        ).fetchone()
    return int(found[0])


async def _bare_post_cpu(
    slack: SlackEmulator, token: str, post: dict[str, Any], folder: str
) -> float:
    """CPU a bare client spends on one chat.postMessage of the same message (its own process,
    limits off, so it is never held up)."""
    request = Path(folder) / "bare.json"
    request.write_text(
        json.dumps(
            {
                "api_url": slack.api_url,
                "token": token,
                "channel": post["channel"],
                "text": post.get("text", ""),
                "blocks": post["blocks"],
                "metadata": post.get("metadata"),
                "calls": BARE_CALLS,
            }
        )
    )
    was, slack.limits.enabled = slack.limits.enabled, False
    try:
        # The emulator answers on this process's loop: wait for the poster without blocking it.
        poster = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bare_post",
            str(request),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        out, err = await poster.communicate()
    finally:
        slack.limits.enabled = was
    if poster.returncode != 0:
        raise RuntimeError(f"bare posts failed: {err.decode()[-2000:]}")
    return float(json.loads(out)["cpu_per_call"])


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def fanout(time_scale: float = TIME_SCALE) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        urls = database_urls(url)
        migrate.upgrade(urls)
        async with SlackEmulator(rate_limits=True, time_scale=time_scale) as slack:
            ws = slack.add_workspace("Fanout")
            engine = make_async_engine(urls)
            world = await build_world(
                make_sessionmaker(engine), slack, ws, teams=TEAMS, owners_per_team=OWNERS_PER_TEAM
            )
            await engine.dispose()
            # The emulator shares this process: its seeded world is frozen out of the garbage
            # collector, whose long pauses would hold answers back and make posts arrive in
            # clumps (a peer's stall, not the sender's pace).
            gc.collect()
            gc.freeze()
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
                    PACE * WORKSPACE_MESSAGES_PER_MINUTE * time_scale
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
            first_cpu: float | None = None
            try:
                while time.perf_counter() - started < 600:
                    # Cheap on purpose: the emulator shares this process and its loop.
                    delivered = sum(1 for c in slack.calls if c.method == POST and c.ok)
                    if delivered and first_cpu is None:
                        first_cpu = _cpu_seconds(busy.pid)  # about the first claim
                    peak_kib = max(peak_kib, _peak_kib(busy.pid))
                    if delivered >= expected:
                        break
                    await asyncio.sleep(0.1)
                wall = time.perf_counter() - started
                database = url.removeprefix("sqlite:///")
                while _sent_rows(database) < expected and time.perf_counter() - started < 600:
                    await asyncio.sleep(0.05)  # the last records
                clock_cpu = _cpu_seconds(busy.pid)
                sending_cpu = clock_cpu - (first_cpu or 0.0)
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
            budget_per_second = WORKSPACE_MESSAGES_PER_MINUTE * time_scale / 60
            dm = next(
                c.args
                for c in slack.calls
                if c.method == POST and c.ok and str(c.args.get("channel", "")).startswith("U")
            )
            post = {
                "channel": dm["channel"],
                "text": dm.get("text", ""),
                "blocks": _as_json(dm["blocks"]),
                "metadata": _as_json(dm.get("metadata")),
            }
            bare_cpu = await _bare_post_cpu(slack, ws.bot_token, post, tmp)
            gc.unfreeze()
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
                "sending_cpu": sending_cpu,
                "cpu_per_message": sending_cpu / expected,
                "bare_post_cpu": bare_cpu,
                "cpu_ratio": sending_cpu / expected / bare_cpu,
                "time_scale": time_scale,
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
