"""Roles: admins grant and take back the facilitator role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import readers_for
from bot.models import Person
from bot.repository import audit
from bot.repository.workspaces import ensure_person
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid

WHO_GRANTS = "Only workspace admins (and whoever installed the bot) name facilitators."


@dataclass(frozen=True)
class RoleChange:
    slack_user_id: str
    role: str
    changed: bool


async def _set_facilitator(
    session: AsyncSession, *, actor: Actor, slack_user_id: str, facilitator: bool
) -> RoleChange:
    if not actor.is_admin:
        raise Forbidden(WHO_GRANTS)
    person = await ensure_person(
        session, workspace_id=actor.workspace_id, slack_user_id=slack_user_id
    )
    if person.role == "admin":
        if facilitator:
            return RoleChange(slack_user_id, "admin", False)  # admins facilitate already
        raise Invalid(f"<@{slack_user_id}> is a workspace admin; admins always facilitate.")
    wanted = "facilitator" if facilitator else "member"
    changed = person.role != wanted
    if changed:
        await audit.record(
            session,
            workspace_id=actor.workspace_id,
            action="role.change",
            entity="person",
            entity_id=person.id,
            source="command",
            actor_person_id=actor.person_id,
            changes={"role": [person.role, wanted]},
        )
        person.role = wanted
    return RoleChange(slack_user_id, wanted, changed)


async def _facilitators(session: AsyncSession, *, actor: Actor) -> list[str]:
    """Slack ids of everyone who runs the practice (facilitators and admins)."""
    rows = await session.execute(
        select(Person.slack_user_id)
        .where(Person.workspace_id == actor.workspace_id, Person.role.in_(("facilitator", "admin")))
        .order_by(Person.slack_user_id)
    )
    return list(rows.scalars())


async def set_facilitator(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    slack_user_id: str,
    facilitator: bool,
) -> RoleChange:
    async with sessions.begin() as session:
        return await _set_facilitator(
            session, actor=actor, slack_user_id=slack_user_id, facilitator=facilitator
        )


async def facilitators(sessions: async_sessionmaker[AsyncSession], *, actor: Actor) -> list[str]:
    """Slack ids of everyone who runs the practice (facilitators and admins)."""
    async with readers_for(sessions)() as session:
        return await _facilitators(session, actor=actor)
