"""OAuth `state` values in the database, so any web process can finish an install."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.models import SlackOAuthState

log = logging.getLogger(__name__)


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], expiration_seconds: int = 600
    ) -> None:
        self._sessions = sessions
        self._expiration = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        async with self._sessions.begin() as session:
            await session.execute(  # abandoned installs leave states behind: drop the expired
                delete(SlackOAuthState).where(SlackOAuthState.expire_at <= clock.now())
            )
            session.add(SlackOAuthState(state=state, expire_at=clock.now() + self._expiration))
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a live state; the row is deleted either way."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(SlackOAuthState)
                .where(SlackOAuthState.state == state, SlackOAuthState.expire_at > clock.now())
                .returning(SlackOAuthState.id)
            )
            live = result.first() is not None
            await session.execute(
                delete(SlackOAuthState).where(SlackOAuthState.expire_at <= clock.now())
            )
        return live
