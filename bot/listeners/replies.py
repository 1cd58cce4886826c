"""Replies to check-in prompts: the inbox middleware stores qualifying events before they
are acknowledged (in the spool when the database cannot take them, and 503 only when that
fails too, so Slack delivers again), and the `message` and `app_mention` listeners process
them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.replies import process_row
from bot.listeners.registry import ListenerRegistry
from bot.listeners.unavailable import spool_event
from bot.services import inbox
from bot.spool import Spool

log = logging.getLogger(__name__)
INBOX_ROW = "inbox_row_id"


def make_inbox_middleware(
    sessions: async_sessionmaker[AsyncSession], spool: Spool
) -> Callable[..., Awaitable[BoltResponse]]:
    async def store_inbox_event(
        context: AsyncBoltContext,
        body: dict[str, Any],
        req: AsyncBoltRequest,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        event = body.get("event") if body.get("type") == "event_callback" else None
        key = inbox.inbox_key(event, bot_user_id=context.bot_user_id) if event else None
        if key is None or not context.team_id:
            return await next()
        try:
            row_id = await inbox.keep(
                sessions,
                slack_team_id=context.team_id,
                key=key,
                event_id=body.get("event_id"),
                payload={"event": event, "event_id": body.get("event_id")},
            )
        except Exception:  # noqa: BLE001 - not stored: spooled, or Slack delivers it again
            log.exception("inbox insert failed; spooling the event")
            return spool_event(spool, body, team_id=context.team_id)
        if row_id is not None:
            context[INBOX_ROW] = row_id
        return await next()

    return store_inbox_event


def register(
    registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession], update_every: float
) -> None:
    async def on_message(context: AsyncBoltContext, client: AsyncWebClient) -> None:
        row_id = context.get(INBOX_ROW)
        if row_id is not None:
            await process_row(sessions, client, int(row_id), update_every=update_every)

    registry.event(
        "message", on_message, manifest_names=("message.channels", "message.groups", "message.im")
    )
    registry.event("app_mention", on_message)
