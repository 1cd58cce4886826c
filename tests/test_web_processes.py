"""`python -m bot serve` with WEB_CONCURRENCY: several processes on one port, a dead one
replaced, all stopped together, and a supervisor that gives up on children that cannot start."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.stack import free_port
from bot.web_processes import Supervisor, listening_socket
from tests.cli_env import clean_env
from tests.databases import Database

SECRET = "signing-secret"


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            found.add(int(entry.name))
    return found


def _signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def _until(condition, *, seconds: float = 40.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_two_web_processes_share_the_port_and_a_dead_one_is_replaced(
    tmp_path: Path, database: Database
) -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme")
        user = slack.add_user(ws, "Ana")
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=clean_env(
                SLACK_BOT_TOKEN=ws.bot_token,
                SLACK_SIGNING_SECRET=SECRET,
                DATABASE_URL=database.urls.sync_url.render_as_string(hide_password=False),
                PORT=str(port),
                SLACK_API_URL=slack.api_url,
                WEB_CONCURRENCY="2",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=5) as client:

                async def ready() -> bool:
                    if process.poll() is not None:
                        raise AssertionError(process.stdout.read() if process.stdout else "")
                    try:
                        return (await client.get(f"{base}/readyz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await _until(ready)
                first = _children(process.pid)
                assert len(first) == 2
                body = urlencode(
                    {
                        "command": "/okr",
                        "text": "help",
                        "team_id": ws.id,
                        "user_id": user.id,
                        "channel_id": "D1",
                        "response_url": f"{slack.api_url}/response",
                        "trigger_id": "t1",
                    }
                )
                answers = [
                    await client.post(f"{base}/slack/events", content=body, headers=_signed(body))
                    for _ in range(6)
                ]
                assert [a.status_code for a in answers] == [200] * 6
                assert all("/okr" in a.text for a in answers)

                os.kill(min(first), signal.SIGKILL)

                async def replaced() -> bool:
                    now = _children(process.pid)
                    return len(now) == 2 and min(first) not in now and await ready()

                await _until(replaced)
                second = _children(process.pid)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            assert not any(Path(f"/proc/{pid}").exists() for pid in second)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_supervisor_gives_up_on_children_that_die_at_start() -> None:
    sock = listening_socket("127.0.0.1", 0)
    supervisor = Supervisor(processes=2, sock=sock, child=lambda _sock: 3, restart_delay=0)
    assert supervisor.run() == 1
    assert supervisor.children == {}
    assert supervisor.quick_deaths >= 5
