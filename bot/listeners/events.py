"""Events API listeners (the App Home tab has its own module)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.people_sync import apply_profile
from bot.listeners.registry import ListenerRegistry
from bot.models import Person, Workspace


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    registry.token_revocation()

    async def on_user_change(event: dict[str, Any], context: dict[str, Any]) -> None:
        """A person moved time zone, changed name or left: keep what we know current."""
        user = dict(event.get("user") or {})
        async with sessions.begin() as session:
            person = (
                await session.execute(
                    select(Person)
                    .join(Workspace, Workspace.id == Person.workspace_id)
                    .where(
                        Workspace.slack_team_id == context.get("team_id"),
                        Person.slack_user_id == user.get("id"),
                    )
                )
            ).scalar_one_or_none()
            if person is not None:
                apply_profile(person, user)

    registry.event("user_change", on_user_change)
