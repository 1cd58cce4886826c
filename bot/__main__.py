"""Command line: `python -m bot <subcommand>`. Errors a person can fix print one line, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot import logs
from bot.config import ConfigError, Mode, Settings, load_settings

log = logging.getLogger("bot")


class StartupError(Exception):
    """Something a person must fix before the bot can start (message says what)."""


def _settings(mode: Mode) -> Settings:
    settings = load_settings()
    settings.require(mode)
    logs.configure(settings.log_level, secrets=settings.secret_values())
    return settings


def cmd_migrate(_args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from bot import migrate

    settings = _settings(Mode.OFFLINE)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)  # say what ran
    try:
        migrate.upgrade(settings.database)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(f"DATABASE_URL cannot be reached: {reason}") from None
    log.info("database at head", extra={"heads": sorted(migrate.head_revisions())})
    return 0


async def _preflight(app: Any, web: Any) -> None:
    """What a web process checks before it serves: the database is usable and the Slack
    token works (one line to the operator otherwise)."""
    from bot.slack.seed import TokenRejected

    ready, detail = await web.readiness(starting=True)
    if not ready:
        await app.engine.dispose()
        raise StartupError(detail)
    try:
        await app.store.ensure_seeded()
    except TokenRejected as exc:
        await app.engine.dispose()
        raise StartupError(str(exc)) from None


async def _check_before_forking(settings: Settings, mode: Mode) -> None:
    from bot.app import build_app
    from bot.web import WebApp

    app = build_app(settings, mode=mode)
    await _preflight(app, WebApp(app, serve_slack_events=mode is Mode.SERVE))
    await app.engine.dispose()


async def _serve_http(
    settings: Settings,
    mode: Mode,
    *,
    with_clock: bool = False,
    sock: socket.socket | None = None,
    customize: Callable[[Any], None] | None = None,
) -> None:
    """One web process; `sock` is the port shared with its siblings (WEB_CONCURRENCY),
    `customize` adds listeners (the load benchmark's `/hello`)."""
    import uvicorn

    from bot.app import build_app
    from bot.web import WebApp

    app = build_app(settings, mode=mode)
    if customize is not None:
        customize(app)
    web = WebApp(app, serve_slack_events=mode is Mode.SERVE, owns_engine=not with_clock)
    await _preflight(app, web)
    log.info(
        "serving Slack requests over HTTP" if mode is Mode.SERVE else "connecting over Socket Mode",
        extra={"port": settings.port},
    )
    config = uvicorn.Config(
        web,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    clock_task = None
    stop_clock = asyncio.Event()
    if with_clock:
        from bot.jobs.clock import run_clock

        clock_task = asyncio.create_task(run_clock(app, stop_clock))
    try:
        await _serve(server, app, settings, mode, sock=sock)
    finally:
        stop_clock.set()
        if clock_task is not None:
            await clock_task  # the clock stops first: it may be mid-tick on the engine
            await app.engine.dispose()


def serve_http(settings: Settings, *, customize: Callable[[Any], None] | None = None) -> int:
    """`python -m bot serve`: one web process, or WEB_CONCURRENCY of them on one port."""
    if settings.web_concurrency == 1:
        asyncio.run(_serve_http(settings, Mode.SERVE, customize=customize))
        return 0
    from bot.web_processes import Supervisor, listening_socket

    asyncio.run(_check_before_forking(settings, Mode.SERVE))
    sock = listening_socket(settings.host, settings.port)

    def child(shared: socket.socket) -> int:
        asyncio.run(_serve_http(settings, Mode.SERVE, sock=shared, customize=customize))
        return 0

    return Supervisor(processes=settings.web_concurrency, sock=sock, child=child).run()


async def _serve(
    server: Any, app: Any, settings: Settings, mode: Mode, *, sock: socket.socket | None = None
) -> None:
    if mode is Mode.SOCKET:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None  # checked by settings.require
        handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            await server.serve()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
    else:
        await server.serve(sockets=[sock] if sock is not None else None)


def cmd_serve(_args: argparse.Namespace) -> int:
    return serve_http(_settings(Mode.SERVE))


def cmd_socket(_args: argparse.Namespace) -> int:
    settings = _settings(Mode.SOCKET)
    asyncio.run(_serve_http(settings, Mode.SOCKET))
    return 0


def _until_signalled(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _clock(settings: Settings, *, worker: bool) -> None:
    from bot.app import build_app
    from bot.jobs.clock import WorkerLocked, run_clock, run_worker
    from bot.slack.seed import TokenRejected
    from bot.web import WebApp

    app = build_app(settings, mode=Mode.OFFLINE)
    ready, detail = await WebApp(app, serve_slack_events=False).readiness(starting=True)
    if not ready:
        await app.engine.dispose()
        raise StartupError(detail)
    try:
        await app.store.ensure_seeded()
    except TokenRejected as exc:
        await app.engine.dispose()
        raise StartupError(str(exc)) from None
    stop = asyncio.Event()
    _until_signalled(stop)
    log.info("worker sending from the outbox" if worker else "clock ticking")
    try:
        await (run_worker(app, stop) if worker else run_clock(app, stop))
    except WorkerLocked as exc:
        raise StartupError(str(exc)) from None
    finally:
        await app.engine.dispose()


def _job_settings() -> Settings:
    settings = _settings(Mode.OFFLINE)
    if not settings.slack_configured:
        raise ConfigError(
            "no Slack settings: the clock and the worker send with SLACK_BOT_TOKEN, or with "
            "the tokens of OAuth installs (SLACK_CLIENT_ID); see .env.example"
        )
    return settings


def cmd_clock(_args: argparse.Namespace) -> int:
    settings = _job_settings()
    asyncio.run(_clock(settings, worker=False))
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    settings = _job_settings()
    asyncio.run(_clock(settings, worker=True))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    """The sandbox: the app, its clock and the emulator in one process, on var/sandbox.db,
    with the sandbox page on loopback (another address only with --allow-remote)."""
    from bot import migrate
    from bot.sandbox import saved
    from bot.sandbox.runner import (
        RemoteRefused,
        SandboxOptions,
        check_host,
        clear,
        start_sandbox,
    )

    settings = load_settings()
    options = SandboxOptions(
        host=getattr(args, "host", None) or "127.0.0.1",
        port=settings.port if getattr(args, "port", None) is None else args.port,
        fresh=bool(getattr(args, "fresh", False)),
        allow_remote=bool(getattr(args, "allow_remote", False)),
    )
    try:
        check_host(options.host, allow_remote=options.allow_remote)
    except RemoteRefused as exc:
        raise ConfigError(str(exc)) from None
    if not options.demo_path.is_file():
        raise ConfigError(f"the sandbox's demo company is missing: {options.demo_path}")
    try:
        with socket.create_server((options.host, options.port)):
            pass
    except OSError as exc:
        raise ConfigError(
            f"the sandbox cannot listen on {options.host}:{options.port} ({exc.strerror}); "
            "choose another with PORT or --port"
        ) from None
    logs.configure("WARNING" if "LOG_LEVEL" not in os.environ else settings.log_level)
    options.var_dir.mkdir(parents=True, exist_ok=True)
    if options.starts_over():
        clear(options)
    else:
        try:
            kept_format = saved.read(options.slack_path).get("format")
        except ValueError:
            kept_format = None
        if kept_format != saved.FORMAT:
            raise ConfigError(
                f"{options.slack_path} is not a sandbox this version can go on with; "
                "start over with --fresh"
            )
    migrate.upgrade(load_settings(database_url=f"sqlite:///{options.database_path}").database)
    asyncio.run(start_sandbox(options))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """What `make run` starts: migrate, then Socket Mode if SLACK_APP_TOKEN is set, else HTTP;
    with no Slack settings at all, the sandbox."""
    settings = load_settings()
    if not settings.slack_configured:
        return cmd_sandbox(args)
    mode = Mode.SOCKET if settings.slack_app_token else Mode.SERVE
    settings.require(mode)
    cmd_migrate(args)
    settings = _settings(mode)
    asyncio.run(_serve_http(settings, mode, with_clock=True))
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "run": (cmd_run, "migrate, then serve (HTTP) or socket (Socket Mode) with the clock"),
    "serve": (cmd_serve, "serve Slack requests over HTTP at /slack/events on PORT"),
    "socket": (cmd_socket, "connect over Socket Mode; still serves /healthz and /readyz on PORT"),
    "clock": (cmd_clock, "the scheduler: queue what is due every tick, and send it"),
    "worker": (cmd_worker, "send from the outbox (with OUTBOX_SENDER=worker)"),
    "migrate": (cmd_migrate, "migrate the database to the latest schema"),
    "sandbox": (cmd_sandbox, "a Slack of its own in the browser, with a demo company"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bot", description="OKR check-in bot for Slack")
    subs = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_func, summary) in COMMANDS.items():
        sub = subs.add_parser(name, help=summary, description=summary)
        if name == "sandbox":
            sub.add_argument("--fresh", action="store_true", help="start the demo over")
            sub.add_argument("--host", default="127.0.0.1", help="address (loopback only)")
            sub.add_argument("--port", type=int, default=None, help="port (default: PORT)")
            sub.add_argument(
                "--allow-remote",
                action="store_true",
                help="serve a non-loopback --host: the page has no login, anyone there is anyone",
            )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    func = COMMANDS[args.command][0]
    try:
        return func(args)
    except (ConfigError, StartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
