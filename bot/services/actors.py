"""Who is acting: the person behind a Slack request, with their role in the workspace.

Roles come from our database (`member`, `facilitator`, `admin`); Slack workspace owners and
admins are admins, learned from `users.info` when a person is first seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import readers_for
from bot.models import Person, Workspace
from bot.repository.workspaces import ensure_person, ensure_workspace

FACILITATOR_ROLES = ("facilitator", "admin")


@dataclass(frozen=True)
class Actor:
    workspace_id: int
    person_id: int
    slack_user_id: str
    role: str
    timezone: str  # the workspace's

    @property
    def is_facilitator(self) -> bool:
        """Facilitators and admins run the practice: cycles, settings, company OKRs."""
        return self.role in FACILITATOR_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def actor_for(
    session: AsyncSession,
    *,
    slack_team_id: str,
    slack_user_id: str,
    slack_admin: bool = False,
    name: str | None = None,
) -> Actor:
    """The acting person, created on first sight; a Slack admin or owner becomes an admin."""
    workspace = await ensure_workspace(session, slack_team_id=slack_team_id)
    person = await ensure_person(
        session, workspace_id=workspace.id, slack_user_id=slack_user_id, name=name
    )
    if slack_admin and person.role != "admin":
        person.role = "admin"
    return Actor(workspace.id, person.id, slack_user_id, person.role, workspace.timezone)


async def _known(session: AsyncSession, *, slack_team_id: str, slack_user_id: str) -> Actor | None:
    row = (
        await session.execute(
            select(Person.id, Person.workspace_id, Person.role, Workspace.timezone)
            .join(Workspace, Workspace.id == Person.workspace_id)
            .where(Workspace.slack_team_id == slack_team_id, Person.slack_user_id == slack_user_id)
        )
    ).first()
    if row is None:
        return None
    return Actor(row.workspace_id, row.id, slack_user_id, row.role, row.timezone)


async def known_actor(
    sessions: async_sessionmaker[AsyncSession], *, slack_team_id: str, slack_user_id: str
) -> Actor | None:
    """The acting person if we know them already: one read, no write (the usual case)."""
    async with readers_for(sessions)() as session:
        return await _known(session, slack_team_id=slack_team_id, slack_user_id=slack_user_id)


async def first_seen(
    sessions: async_sessionmaker[AsyncSession],
    *,
    slack_team_id: str,
    slack_user_id: str,
    slack_admin: bool,
    name: str = "",
) -> Actor:
    """Remember a person seen for the first time, in a transaction of its own (so a refused
    command still remembers them). The caller asked Slack first: `slack_admin` and `name` are
    what `users.info` said, asked before this transaction opens."""
    async with sessions.begin() as session:
        return await actor_for(
            session,
            slack_team_id=slack_team_id,
            slack_user_id=slack_user_id,
            slack_admin=slack_admin,
            name=name,
        )


async def note_enterprise(
    sessions: async_sessionmaker[AsyncSession], *, slack_team_id: str, enterprise_id: str
) -> None:
    """Remember the Enterprise Grid org a workspace belongs to: with an org-wide install the
    clock finds the workspace's bot token through it."""
    async with sessions.begin() as session:
        await ensure_workspace(session, slack_team_id=slack_team_id, enterprise_id=enterprise_id)
