"""People as Slack describes them: time zone, name, and whether they are still here.

The rule is shared by the `user_change` event and the clock's time-zone sync, which asks
Slack about owners whose zone is not known yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Person, Workspace
from bot.okr.period import known_zone


def apply_profile(person: Person, user: dict[str, Any]) -> None:
    """What Slack says of a person: their zone, whether they are still here, their name, and
    whether they are a workspace admin or owner (our admins are exactly those; a facilitator
    grant is ours and stays)."""
    if "is_admin" in user or "is_owner" in user:
        slack_admin = bool(user.get("is_admin") or user.get("is_owner"))
        if slack_admin:
            person.role = "admin"
        elif person.role == "admin":
            person.role = "member"
    tz = user.get("tz")
    if isinstance(tz, str) and known_zone(tz) is not None:
        person.timezone = tz
    if user.get("deleted"):
        person.is_deactivated = True
    name = (user.get("profile") or {}).get("real_name") or user.get("real_name")
    if isinstance(name, str) and name and not person.name:
        person.name = name[:200]


async def profile_changed(
    sessions: async_sessionmaker[AsyncSession], *, slack_team_id: str, user: dict[str, Any]
) -> bool:
    """A person moved time zone, changed name or left: keep what we know current. False when
    we do not know them (nothing to keep)."""
    async with sessions.begin() as session:
        person = (
            await session.execute(
                select(Person)
                .join(Workspace, Workspace.id == Person.workspace_id)
                .where(
                    Workspace.slack_team_id == slack_team_id,
                    Person.slack_user_id == str(user.get("id") or ""),
                )
            )
        ).scalar_one_or_none()
        if person is None:
            return False
        apply_profile(person, user)
        return True
