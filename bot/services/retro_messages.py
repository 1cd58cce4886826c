"""The retrospective poll as posted and as kept current: composed when its outbox row is sent
(None, so cancelled, once the retro is closed), and re-composed by the poll's coalescing
`update` row after each response, so the count is live."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.blocks.retro import RetroPoll, build_retro_poll, retro_fallback
from bot.models import Cycle, OutboxItem, Retro, RetroParticipation, Team, Workspace
from bot.models.outbox_keys import Kind
from bot.okr.period import zone
from bot.services.prompts import Composed

_UTC = ZoneInfo("UTC")


def team_scope(team_id: int) -> str:
    return f"team:{team_id}"


async def retro_of_team(
    session: AsyncSession, *, workspace_id: int, cycle_id: int, team_id: int
) -> Retro | None:
    return (
        await session.execute(
            select(Retro).where(
                Retro.workspace_id == workspace_id,
                Retro.cycle_id == cycle_id,
                Retro.scope == team_scope(team_id),
            )
        )
    ).scalar_one_or_none()


def is_open(retro: Retro, now: datetime) -> bool:
    return retro.state == "open" and (retro.closes_at is None or now < retro.closes_at)


async def read_poll(session: AsyncSession, *, retro: Retro, now: datetime) -> RetroPoll:
    cycle = await session.get_one(Cycle, retro.cycle_id)
    team = await session.get(Team, retro.team_id) if retro.team_id else None
    workspace = await session.get_one(Workspace, retro.workspace_id)
    closes = retro.closes_at or now
    responses = await session.scalar(
        select(func.count()).where(RetroParticipation.retro_id == retro.id)
    )
    return RetroPoll(
        retro.id,
        cycle.name,
        team.name if team else "company",
        retro.anonymous,
        closes.astimezone(zone(workspace.timezone, _UTC)).date(),
        int(responses or 0),
        closed=not is_open(retro, now),
    )


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    team_id = int(item.payload["team_id"])
    retro = await retro_of_team(
        session,
        workspace_id=item.workspace_id,
        cycle_id=int(item.payload["cycle_id"]),
        team_id=team_id,
    )
    if retro is None or not is_open(retro, now):
        return None
    poll = await read_poll(session, retro=retro, now=now)
    channel = str(item.payload["channel"])
    return Composed(channel, retro_fallback(poll), build_retro_poll(poll), (), team_id=team_id)


async def poll_update(
    session: AsyncSession, *, item: OutboxItem, channel: str, ts: str
) -> tuple[str, list[dict[str, Any]]] | None:
    """The poll posted at (channel, ts) as it stands now, or None when no poll is there."""
    posted = (
        await session.execute(
            select(OutboxItem).where(
                OutboxItem.workspace_id == item.workspace_id,
                OutboxItem.kind == Kind.RETRO,
                OutboxItem.slack_channel == channel,
                OutboxItem.slack_ts == ts,
            )
        )
    ).scalar_one_or_none()
    if posted is None:
        return None
    retro = await retro_of_team(
        session,
        workspace_id=item.workspace_id,
        cycle_id=int(posted.payload["cycle_id"]),
        team_id=int(posted.payload["team_id"]),
    )
    if retro is None:
        return None
    poll = await read_poll(session, retro=retro, now=clock.now())
    return retro_fallback(poll), build_retro_poll(poll)
