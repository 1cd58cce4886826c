"""Workspaces and people: find or create by Slack id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.models import Person, Workspace
from bot.repository.upsert import insert_ignoring_conflicts


async def ensure_workspace(
    session: AsyncSession,
    *,
    slack_team_id: str,
    enterprise_id: str | None = None,
    name: str | None = None,
    timezone: str = "UTC",
) -> Workspace:
    """The workspace row for a Slack team id, created on first sight."""
    now = clock.now()
    await session.execute(
        insert_ignoring_conflicts(
            session,
            Workspace,
            {
                "slack_team_id": slack_team_id,
                "enterprise_id": enterprise_id,
                "name": name or "",
                "timezone": timezone,
                "settings": {},
                "state": "active",
                "created_at": now,
                "updated_at": now,
            },
            conflict_columns=["slack_team_id"],
        )
    )
    workspace = (
        await session.execute(select(Workspace).where(Workspace.slack_team_id == slack_team_id))
    ).scalar_one()
    if name and workspace.name != name:
        workspace.name = name
    if enterprise_id and workspace.enterprise_id != enterprise_id:  # learned after the first
        workspace.enterprise_id = enterprise_id  # sight (an org-wide install has no team id)
    if workspace.state == "uninstalled":
        workspace.state = "active"
    return workspace


async def find_workspace(session: AsyncSession, *, slack_team_id: str) -> Workspace | None:
    result = await session.execute(
        select(Workspace).where(Workspace.slack_team_id == slack_team_id)
    )
    return result.scalar_one_or_none()


async def ensure_person(
    session: AsyncSession,
    *,
    workspace_id: int,
    slack_user_id: str,
    name: str | None = None,
) -> Person:
    """The person row for a Slack user id in a workspace, created as a member on first sight."""
    now = clock.now()
    await session.execute(
        insert_ignoring_conflicts(
            session,
            Person,
            {
                "workspace_id": workspace_id,
                "slack_user_id": slack_user_id,
                "name": name or "",
                "role": "member",
                "is_deactivated": False,
                "created_at": now,
                "updated_at": now,
            },
            conflict_columns=["workspace_id", "slack_user_id"],
        )
    )
    person = (
        await session.execute(
            select(Person).where(
                Person.workspace_id == workspace_id, Person.slack_user_id == slack_user_id
            )
        )
    ).scalar_one()
    if name and not person.name:
        person.name = name
    return person
