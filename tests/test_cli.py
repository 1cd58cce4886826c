"""The command line as a person meets it: subcommands, one-line errors, a server that starts."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.db import make_sync_engine
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.stack import free_port
from tests.cli_env import clean_env
from tests.databases import Database

ROOT = Path(__file__).resolve().parent.parent


def bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = bot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for name in ("run", "serve", "socket", "migrate", "sandbox"):
        assert f"    {name} " in result.stdout


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"DATABASE_URL": "nonsense"},
            "error: DATABASE_URL must start with postgresql:// or sqlite:///",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "error: SLACK_SIGNING_SECRET is required"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "x"},
            "error: PORT is invalid",
        ),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "error: SLACK_APP_TOKEN must be an app-level token"),
    ],
)
def test_run_explains_bad_configuration_in_one_line(
    tmp_path: Path, env: dict[str, str], line: str
) -> None:
    result = bot("run", cwd=tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]  # exactly one line, no traceback
    assert result.stderr.startswith(line)
    assert not (tmp_path / "var").exists()  # nothing was created on the way


def test_make_run_with_a_bad_database_url_prints_our_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "run"],
        cwd=ROOT,
        env=clean_env(DATABASE_URL="nonsense"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert ours == [
        "error: DATABASE_URL must start with postgresql:// or sqlite:/// (got no scheme)"
    ]


def test_migrate_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    result = bot("migrate", cwd=tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.startswith("error: DATABASE_URL cannot be reached")
    assert len(result.stderr.strip().splitlines()) == 1


def test_migrate_creates_the_sqlite_file_and_is_repeatable(tmp_path: Path) -> None:
    for _ in range(2):
        result = bot("migrate", cwd=tmp_path, DATABASE_URL="sqlite:///var/okr.db")
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "okr.db").exists()


async def _wait_for_health(port: int, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 40
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    output = process.stdout.read() if process.stdout and process.poll() is not None else ""
    raise AssertionError(f"the server did not come up: {output}")


async def test_serve_starts_with_only_the_four_settings(tmp_path: Path, database: Database) -> None:
    """SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, DATABASE_URL and PORT; Slack is the emulator
    (SLACK_API_URL only points there, since this machine cannot reach slack.com)."""
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme", bot_token="xoxb-1-from-the-app-page")
        port = free_port()
        url = database.urls.sync_url.render_as_string(hide_password=False)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=clean_env(
                SLACK_BOT_TOKEN=ws.bot_token,
                SLACK_SIGNING_SECRET="signing-secret",
                DATABASE_URL=url,
                PORT=str(port),
                SLACK_API_URL=slack.api_url,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            health = await _wait_for_health(port, process)
            async with httpx.AsyncClient(timeout=5) as client:
                ready = await client.get(f"http://127.0.0.1:{port}/readyz")
                unsigned = await client.post(f"http://127.0.0.1:{port}/slack/events", content="a=b")
        finally:
            process.terminate()
            process.wait(timeout=20)
        assert health.json() == {"ok": True}
        assert ready.status_code == 200, ready.text
        assert unsigned.status_code == 401
        assert [c.method for c in slack.recorded()] == ["auth.test"]  # seeded at start-up
        engine = make_sync_engine(database.urls)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT team_id, bot_token FROM slack_bot")).all()
        finally:
            engine.dispose()
        assert [tuple(r) for r in rows] == [(ws.id, None)]


@pytest.mark.parametrize(
    ("database_url", "line"),
    [
        ("sqlite:///empty.db", "error: database not migrated: run `python -m bot migrate`"),
        ("postgresql://nobody@127.0.0.1:1/none", "error: DATABASE_URL cannot be reached"),
    ],
)
def test_serve_refuses_a_database_it_cannot_use_in_one_line(
    tmp_path: Path, database_url: str, line: str
) -> None:
    result = bot(
        "serve",
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=database_url,
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(line)
