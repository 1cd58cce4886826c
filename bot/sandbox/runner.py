"""`python -m bot sandbox`: the app, its clock and the emulator in one process, on a SQLite
file of its own (never DATABASE_URL), with the sandbox page on a loopback port.

The emulator's clock is `bot.clock`, so every message's ts carries sandbox time, and a jump
of the time machine moves Slack and the bot together.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from bot import clock
from bot.app import OkrApp, build_app
from bot.config import Mode, Settings, load_settings
from bot.jobs.clock import Ceremony, run_clock
from bot.sandbox import saved
from bot.sandbox.delivery import InProcessDelivery
from bot.sandbox.demo import DEMO_PATH, load_demo, read_demo
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.state import User, Workspace
from bot.sandbox.travel import TimeMachine, move_to
from bot.web import WebApp

log = logging.getLogger(__name__)

SANDBOX_DB = "sandbox.db"
SANDBOX_SLACK = "sandbox-slack.json"  # the emulator's state, kept between starts
KEEP_CALLS = 1000  # Web API calls the emulator's record keeps in a long-running sandbox
SAVE_EVERY = 5.0  # seconds between saves of a changed sandbox Slack
SANDBOX_TEAM_ID = "T0SANDBOX"


class RemoteRefused(ValueError):
    """A non-loopback address without being told explicitly: the page has no login."""


def check_host(host: str, *, allow_remote: bool) -> str:
    """`host` when it is loopback (or explicitly allowed), else RemoteRefused."""
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        raise RemoteRefused(
            f"the sandbox has no login, so it listens on loopback only; {host} is not "
            "loopback (add --allow-remote to serve it there anyway)"
        )
    return host


@dataclass
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    fresh: bool = False
    allow_remote: bool = False
    var_dir: Path = Path("var")
    demo_path: Path = DEMO_PATH

    @property
    def database_path(self) -> Path:
        return self.var_dir / SANDBOX_DB

    @property
    def slack_path(self) -> Path:
        return self.var_dir / SANDBOX_SLACK

    def starts_over(self) -> bool:
        """A first start (or --fresh, or a half-kept sandbox) loads the demo company anew."""
        return self.fresh or not self.database_path.exists() or not self.slack_path.exists()


def sandbox_clock() -> float:
    return clock.now().timestamp()


def sandbox_settings(options: SandboxOptions, *, token: str, secret: str, api_url: str) -> Settings:
    """The sandbox's own settings: its database, its Slack, fast ticks; nothing of the real
    bot's Slack or database settings is used."""
    return load_settings(
        slack_bot_token=token,
        slack_signing_secret=secret,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
        token_encryption_key=None,
        slack_api_url=api_url,
        database_url=f"sqlite:///{options.database_path}",
        host=options.host,
        port=options.port,
        web_concurrency=1,
        clock_tick_seconds=5.0,
        lock_poll_seconds=5.0,
        inbox_retry_seconds=10.0,
        outbox_poll_seconds=1.0,
        outbox_sender="clock",
        outbox_messages_per_minute=6000.0,
        update_every_seconds=2.0,
        spool_path=options.var_dir / "sandbox-spool" / "slack-events.jsonl",
    )


def clear(options: SandboxOptions) -> None:
    """Forget the sandbox: its database and its Slack."""
    for suffix in ("", "-wal", "-shm", ".clock.lock", ".worker.lock"):
        Path(f"{options.database_path}{suffix}").unlink(missing_ok=True)
    options.slack_path.unlink(missing_ok=True)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT or SIGTERM without raising the signal again
    afterwards, so the sandbox stops its clock and keeps its Slack before it exits."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


@dataclass
class Sandbox:
    """Everything the page reads and drives."""

    slack: SlackEmulator
    ws: Workspace
    app: OkrApp
    driver: SlackDriver
    machine: TimeMachine
    company: str
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # view id -> field errors
    actions: int = 0  # bumped by every page action, so pages poll for a change
    forgotten_calls: int = 0  # Web API calls dropped from the emulator's record

    def people(self) -> list[User]:
        return sorted(
            (
                u
                for u in self.slack.state.users.values()
                if u.team_id == self.ws.id and not u.is_bot
            ),
            key=lambda u: u.real_name,
        )

    def person(self, user_id: str | None) -> User:
        for user in self.people():
            if user.id == user_id:
                return user
        admins = [u for u in self.people() if u.is_admin]
        return (admins or self.people())[0]

    def forget_old_calls(self, keep: int = KEEP_CALLS) -> None:
        """The emulator records every call (tests read them); a sandbox that runs for days
        keeps only the latest."""
        calls = self.slack.calls
        if len(calls) > 2 * keep:
            self.forgotten_calls += len(calls) - keep
            del calls[:-keep]

    def version(self) -> str:
        state = self.slack.state
        messages = sum(len(m) for m in state.messages.values())
        calls = self.forgotten_calls + len(self.slack.calls)
        minute = int(clock.now().timestamp() // 60)
        return f"{calls}.{messages}.{len(state.ephemerals)}.{self.actions}.{minute}"


async def start_sandbox(
    options: SandboxOptions, *, announce: Callable[[str], None] = print
) -> None:
    """Run until cancelled (Ctrl-C). The database must be migrated (the CLI does it), and
    cleared when `options.starts_over()`."""
    demo = read_demo(options.demo_path)
    slack = SlackEmulator(clock=sandbox_clock)
    await slack.start()
    kept = None if options.starts_over() else saved.read(options.slack_path)
    if kept is not None:
        move_to(saved.load(slack.state, kept))
        ws = slack.state.workspaces[SANDBOX_TEAM_ID]
    else:
        token = f"xoxb-{SANDBOX_TEAM_ID}-{secrets.token_hex(12)}"
        ws = slack.add_workspace(demo.name, team_id=SANDBOX_TEAM_ID, bot_token=token)
    secret = secrets.token_hex(16)
    settings = sandbox_settings(options, token=ws.bot_token, secret=secret, api_url=slack.api_url)
    app = build_app(settings, mode=Mode.SERVE)
    if kept is None:
        move_to(demo.starts_at)
        await load_demo(app.sessions, slack, ws, demo)
        saved.save(options.slack_path, slack.state, now=clock.now())
    driver = SlackDriver(
        slack,
        ws,
        signing_secret=secret,
        deliver=InProcessDelivery(app),
    )
    sandbox = Sandbox(slack, ws, app, driver, TimeMachine(Ceremony(app)), demo.name)
    await _serve(sandbox, options, settings, announce)


async def _serve(
    sandbox: Sandbox, options: SandboxOptions, settings: Settings, announce: Callable[[str], None]
) -> None:
    from bot.sandbox.web.front import LOOPBACK_NAMES, SandboxFront

    web = WebApp(sandbox.app, owns_engine=False)
    front = SandboxFront(
        sandbox, web, hosts=None if options.allow_remote else LOOPBACK_NAMES | {options.host}
    )
    server = _Server(
        uvicorn.Config(
            front,
            host=options.host,
            port=options.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    stop = asyncio.Event()
    clock_task: asyncio.Task[Any] | None = None
    keeping: asyncio.Task[None] | None = None
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                return
            await asyncio.sleep(0.02)
        clock_task = asyncio.create_task(run_clock(sandbox.app, stop))
        keeping = asyncio.create_task(_keep(sandbox, options.slack_path, stop))
        port = _bound_port(server) or options.port
        announce(
            f"Sandbox Slack at http://{_shown(options.host)}:{port}/ ({sandbox.company}, "
            "made up). To connect a real workspace instead, set SLACK_BOT_TOKEN and "
            "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) and run `make run` again."
        )
        await serving
    finally:
        stop.set()
        if clock_task is not None:
            await clock_task
        if keeping is not None:
            await keeping
        await sandbox.app.engine.dispose()
        await sandbox.slack.stop()


async def _keep(sandbox: Sandbox, path: Path, stop: asyncio.Event) -> None:
    """Save the sandbox Slack when it changed, every few seconds and once more at the end."""
    last = ""
    while True:
        stopping = stop.is_set()
        sandbox.forget_old_calls()
        version = sandbox.version()
        if version != last:
            saved.save(path, sandbox.slack.state, now=clock.now())
            last = version
        if stopping:
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=SAVE_EVERY)
        except TimeoutError:
            pass


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _bound_port(server: uvicorn.Server) -> int | None:
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                return int(sock.getsockname()[1])
    return None
