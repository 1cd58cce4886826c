"""Who is acting: the person behind a Slack request, with their role in the workspace.

Roles come from our database (`member`, `facilitator`, `admin`); Slack workspace owners and
admins are admins, learned from `users.info` when a person is first seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

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
