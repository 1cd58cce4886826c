"""The HTTP surface: Slack requests at /slack/events (and OAuth pages), /healthz, /readyz,
and the push API under /api/ (`bot.api`).

A small ASGI router in front of Bolt's ASGI handler; nothing here starts a scheduler.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text

from bot.api.app import API_PREFIX, build_api
from bot.app import OkrApp
from bot.listeners import home_refresh
from bot.migrate import current_revisions, head_revisions
from bot.services import inbox
from bot.slack.seed import TokenRejected
from bot.spool import drain_forever

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SLACK_EVENTS_PATH = "/slack/events"


class WebApp:
    def __init__(
        self, app: OkrApp, *, serve_slack_events: bool = True, owns_engine: bool = True
    ) -> None:
        """`owns_engine=False` when something else (the in-process clock of `make run`)
        still uses the engine after the server stops: its owner disposes of it then."""
        self.app = app
        self._owns_engine = owns_engine
        self._stop_draining = asyncio.Event()
        self._draining: asyncio.Task[None] | None = None
        self._slack = AsyncSlackRequestHandler(app, path=SLACK_EVENTS_PATH)
        self._serve_slack_events = serve_slack_events
        self._heads = head_revisions()
        self._api = build_api(
            sessions=app.sessions, requests_per_minute=app.settings.api_requests_per_minute
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path.startswith(API_PREFIX + "/"):
            await self._api(scope, receive, send)  # the push API (FastAPI)
        elif path == "/healthz":
            await _json(send, 200, {"ok": True})
        elif path == "/readyz":
            ready, detail = await self.readiness()
            await _json(send, 200 if ready else 503, {"ok": ready, "detail": detail})
        elif path == SLACK_EVENTS_PATH and not self._serve_slack_events:
            await _json(
                send, 404, {"ok": False, "detail": "Socket Mode: events come over the socket"}
            )
        elif path == SLACK_EVENTS_PATH and scope.get("method") == "POST":
            await self._slack_request(scope, receive, send)
        else:
            await self._slack(scope, receive, send)  # type: ignore[arg-type]

    async def _slack_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request from Slack, read with a bound before its signature is checked (anyone may
        post here): over 1 MB is 413 without reading it whole, a body that is not what Slack
        sends is 400; the rest goes to Bolt as it came."""
        body = await _bounded_body(scope, receive)
        if body is None:
            await _json(send, 413, {"ok": False, "detail": "request body over 1 MB"})
            return
        if not _looks_like_slack(scope, body):
            await _json(send, 400, {"ok": False, "detail": "not a Slack request body"})
            return
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._slack(scope, replay, send)  # type: ignore[arg-type]

    async def readiness(self, *, starting: bool = False) -> tuple[bool, str]:
        """Ready when the database answers, its schema is at the migrations' head, the stored
        tokens decrypt, and any spooled events are being drained (`starting`: before the
        drain has started, as at start-up, whose drain a spool must not prevent)."""
        try:
            async with self.app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await connection.run_sync(current_revisions)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            return False, f"DATABASE_URL cannot be reached ({type(exc).__name__})"
        if current != self._heads:
            return False, "database not migrated: run `python -m bot migrate`"
        if not await self.app.store.tokens_decrypt():
            return False, "TOKEN_ENCRYPTION_KEY does not decrypt the stored Slack tokens"
        waiting = self.app.spool.pending()
        if waiting and not starting and (self._draining is None or self._draining.done()):
            return False, f"{waiting} spooled events and nothing draining them"
        return True, f"ready ({waiting} spooled events draining)" if waiting else "ready"

    def _start_draining(self) -> None:
        """Spooled events go into the inbox as soon as the database takes them again."""
        sessions = self.app.sessions

        async def keep(record: dict[str, Any]) -> None:
            await inbox.keep_spooled(sessions, record)

        self._draining = asyncio.create_task(
            drain_forever(
                self.app.spool,
                keep,
                self._stop_draining,
                every_seconds=self.app.settings.spool_drain_seconds,
            )
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.store.ensure_seeded()
                except TokenRejected as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self._start_draining()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await home_refresh.drain()
                self._stop_draining.set()
                if self._draining is not None:
                    await self._draining
                if self._owns_engine:
                    await asyncio.shield(self.app.engine.dispose())
                await send({"type": "lifespan.shutdown.complete"})
                return


MAX_SLACK_BODY = 1024 * 1024  # Slack's payloads are far smaller; nothing legitimate is cut


async def _bounded_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole body, or None as soon as it is known to be over MAX_SLACK_BODY."""
    for name, value in scope.get("headers") or []:
        if name.lower() == b"content-length":
            try:
                if int(value) > MAX_SLACK_BODY:
                    return None
            except ValueError:
                return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body") or b"")
        size += len(chunk)
        if size > MAX_SLACK_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _looks_like_slack(scope: Scope, body: bytes) -> bool:
    """JSON (events) must parse as a JSON object; a form (commands, interactions) must decode,
    and an interaction's `payload` must be a JSON object."""
    content_type = b""
    for name, value in scope.get("headers") or []:
        if name.lower() == b"content-type":
            content_type = bytes(value).lower()
    try:
        text_body = body.decode("utf-8")
        if content_type.startswith(b"application/json"):
            return isinstance(json.loads(text_body), dict)
        form = parse_qs(text_body, keep_blank_values=True, strict_parsing=bool(text_body))
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return True
    except (UnicodeDecodeError, ValueError):
        return False


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
