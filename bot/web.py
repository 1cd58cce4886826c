"""The HTTP surface: Slack requests at /slack/events (and OAuth pages), /healthz, /readyz.

A small ASGI router in front of Bolt's ASGI handler; nothing here starts a scheduler.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text

from bot.app import OkrApp
from bot.listeners import home_refresh
from bot.migrate import current_revisions, head_revisions
from bot.slack.seed import TokenRejected

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SLACK_EVENTS_PATH = "/slack/events"


class WebApp:
    def __init__(self, app: OkrApp, *, serve_slack_events: bool = True) -> None:
        self.app = app
        self._slack = AsyncSlackRequestHandler(app, path=SLACK_EVENTS_PATH)
        self._serve_slack_events = serve_slack_events
        self._heads = head_revisions()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path == "/healthz":
            await _json(send, 200, {"ok": True})
        elif path == "/readyz":
            ready, detail = await self.readiness()
            await _json(send, 200 if ready else 503, {"ok": ready, "detail": detail})
        elif path == SLACK_EVENTS_PATH and not self._serve_slack_events:
            await _json(
                send, 404, {"ok": False, "detail": "Socket Mode: events come over the socket"}
            )
        else:
            await self._slack(scope, receive, send)  # type: ignore[arg-type]

    async def readiness(self) -> tuple[bool, str]:
        """Ready when the database answers and its schema is at the migrations' head."""
        try:
            async with self.app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await connection.run_sync(current_revisions)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            return False, f"DATABASE_URL cannot be reached ({type(exc).__name__})"
        if current != self._heads:
            return False, "database not migrated: run `python -m bot migrate`"
        return True, "ready"

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.store.ensure_seeded()
                except TokenRejected as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await home_refresh.drain()
                await asyncio.shield(self.app.engine.dispose())
                await send({"type": "lifespan.shutdown.complete"})
                return


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
