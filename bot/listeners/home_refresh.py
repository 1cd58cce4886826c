"""Publishing the App Home tab, now or soon after a change."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.home import build_home_view
from bot.services import cycle_history, lists
from bot.services.actors import Actor

log = logging.getLogger(__name__)
_pending: set[asyncio.Task[None]] = set()


async def publish_home(
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, actor: Actor
) -> None:
    mine, team = await lists.home(sessions, actor=actor)
    past = await cycle_history.past_for_home(sessions, actor=actor)
    try:
        await client.views_publish(
            user_id=actor.slack_user_id, view=build_home_view(mine=mine, team=team, past=past)
        )
    except SlackApiError as exc:
        log.warning("views.publish failed", extra={"slack_error": exc.response.get("error")})


def refresh_home_soon(
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, actor: Actor
) -> None:
    """Refresh the person's App Home without holding up the answer they are waiting for."""
    task = asyncio.create_task(publish_home(sessions, client, actor))
    _pending.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[None]) -> None:
    """A refresh that failed (the database busy or away) waits for the next change."""
    _pending.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("App Home not refreshed", extra={"error": type(error).__name__})


async def drain() -> None:
    """Wait for App Home refreshes still under way (on shutdown, so none is cut off)."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
