"""`make run` with no Slack at all starts the sandbox (on its own SQLite file, never
DATABASE_URL); with Slack settings the same command starts the real bot; the sandbox
refuses an address other than loopback unless told explicitly."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.runner import RemoteRefused, check_host
from bot.sandbox.stack import free_port
from tests.cli_env import clean_env

ROOT = Path(__file__).resolve().parent.parent


def start(*args: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(PYTHONPATH=str(ROOT), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def get_when_up(url: str, process: subprocess.Popen[str], seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    output = process.stdout.read() if process.stdout and process.poll() is not None else ""
    raise AssertionError(f"nothing answered at {url}: {output}")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=20)
    return output


def test_run_with_no_slack_settings_serves_the_sandbox_page(tmp_path: Path) -> None:
    port = free_port()
    production = tmp_path / "production.db"
    process = start("run", cwd=tmp_path, PORT=str(port), DATABASE_URL=f"sqlite:///{production}")
    try:
        page = get_when_up(f"http://127.0.0.1:{port}/", process)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        output = stop(process)
    assert page.status_code == 200
    assert "Northwind Labs" in page.text and "/okr help" in page.text
    assert health.json() == {"ok": True}  # the bot's own routes are still there, beside it
    assert (tmp_path / "var" / "sandbox.db").exists()
    assert not production.exists()  # DATABASE_URL is never the sandbox's database
    [line] = [x for x in output.splitlines() if x.startswith("Sandbox Slack at")]
    assert f"http://127.0.0.1:{port}/" in line and "SLACK_BOT_TOKEN" in line


async def test_run_with_a_bot_token_still_starts_the_real_bot(tmp_path: Path) -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme", bot_token="xoxb-1-real")
        port = free_port()
        process = start(
            "run",
            cwd=tmp_path,
            PORT=str(port),
            SLACK_BOT_TOKEN=ws.bot_token,
            SLACK_SIGNING_SECRET="signing-secret",
            SLACK_API_URL=slack.api_url,
        )
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        health = await client.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline and process.poll() is None
                        await _pause()
                page = await client.get(f"http://127.0.0.1:{port}/")
                unsigned = await client.post(f"http://127.0.0.1:{port}/slack/events", content="a=b")
        finally:
            stop(process)
    assert health.json() == {"ok": True}
    assert page.status_code == 404  # no sandbox page in front of a real workspace
    assert unsigned.status_code == 401
    assert (tmp_path / "var" / "okr.db").exists()
    assert not (tmp_path / "var" / "sandbox.db").exists()


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.2)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "example.org"])
def test_the_sandbox_refuses_an_address_that_is_not_loopback(tmp_path: Path, host: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--host", host],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "loopback" in result.stderr and "--allow-remote" in result.stderr
    assert not (tmp_path / "var").exists()  # refused before anything was made


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_need_no_permission(host: str) -> None:
    assert check_host(host, allow_remote=False) == host


def test_another_address_only_when_asked_explicitly() -> None:
    with pytest.raises(RemoteRefused):
        check_host("0.0.0.0", allow_remote=False)
    assert check_host("0.0.0.0", allow_remote=True) == "0.0.0.0"


def platform_as_jonas(base: str) -> str:
    """The #platform channel as Jonas sees it."""
    page = httpx.get(base, timeout=5).text
    jonas = re.search(r'<option value="(U\w+)"[^>]*>Jonas Weber', page)
    assert jonas is not None
    page = httpx.get(base, params={"person": jonas.group(1)}, timeout=5).text
    platform = re.search(r'data-nav="(C\w+)"># platform', page)
    assert platform is not None
    return httpx.get(
        base, params={"person": jonas.group(1), "channel": platform.group(1)}, timeout=5
    ).text


def test_the_sandbox_keeps_its_slack_between_starts_until_fresh(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process = start("sandbox", "--port", str(port), cwd=tmp_path)
    try:
        get_when_up(base, process)
        travel = httpx.post(f"{base}sandbox/travel", json={"to": "checkin"}, timeout=60)
        assert travel.status_code == 200
        assert "Weekly check-in · Platform · 2026-W49" in platform_as_jonas(base)
    finally:
        stop(process)
    process = start("sandbox", "--port", str(port), cwd=tmp_path)
    try:
        get_when_up(base, process)
        kept = platform_as_jonas(base)
    finally:
        stop(process)
    assert "Weekly check-in · Platform · 2026-W49" in kept
    assert "Mon 30 Nov 2026, 10:0" in kept  # sandbox time goes on from where it was
    process = start("sandbox", "--fresh", "--port", str(port), cwd=tmp_path)
    try:
        get_when_up(base, process)
        fresh = platform_as_jonas(base)
    finally:
        stop(process)
    assert "Weekly check-in" not in fresh
    assert "Mon 30 Nov 2026, 08:30" in fresh


def test_a_kept_sandbox_it_cannot_read_is_one_line_that_says_fresh(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "sandbox.db").write_bytes(b"")
    (tmp_path / "var" / "sandbox-slack.json").write_text("{not json", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "--fresh" in result.stderr
    assert (tmp_path / "var" / "sandbox-slack.json").read_text() == "{not json"  # left as it was
