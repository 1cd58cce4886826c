"""Events API listeners (the App Home tab has its own module)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.listeners.registry import ListenerRegistry
from bot.services import people


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    registry.token_revocation()

    async def on_user_change(event: dict[str, Any], context: dict[str, Any]) -> None:
        """A person moved time zone, changed name or left: keep what we know current."""
        await people.profile_changed(
            sessions,
            slack_team_id=str(context.get("team_id") or ""),
            user=dict(event.get("user") or {}),
        )

    registry.event("user_change", on_user_change)
