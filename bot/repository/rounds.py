"""What decides which weekly round a key result follows, for many key results at once: the
teams, people's earliest teams and the prompts started by hand (a fixed number of queries
however many key results are asked about)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxItem, Team, TeamMember


async def earliest_teams(
    session: AsyncSession, *, workspace_id: int, person_ids: Iterable[int]
) -> dict[int, int]:
    """Each person's earliest-joined team (ties: the lowest team id), for those in one."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    found: dict[int, int] = {}
    for person_id, team_id in await session.execute(
        select(TeamMember.person_id, TeamMember.team_id)
        .where(TeamMember.workspace_id == workspace_id, TeamMember.person_id.in_(ids))
        .order_by(TeamMember.joined_at.desc(), TeamMember.team_id.desc())
    ):
        found[person_id] = team_id  # the last written is the earliest joined
    return found


async def teams_by_id(
    session: AsyncSession, *, workspace_id: int, team_ids: Iterable[int]
) -> dict[int, Team]:
    ids = list(set(team_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Team).where(Team.workspace_id == workspace_id, Team.id.in_(ids))
    )
    return {team.id: team for team in rows.scalars()}


async def queued_at(
    session: AsyncSession, *, workspace_id: int, keys: Iterable[str]
) -> dict[str, datetime]:
    """When each of these outbox keys was queued, for those queued and not cancelled."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = await session.execute(
        select(OutboxItem.idempotency_key, OutboxItem.created_at).where(
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.idempotency_key.in_(wanted),
            OutboxItem.state != "cancelled",
        )
    )
    return {row.idempotency_key: row.created_at for row in rows}
