"""Starting a team's round by hand (`/okr checkin now [team]`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.text import escape
from bot.jobs.tick import tick  # the one named layer exception: see pyproject's contracts
from bot.models import OutboxItem, Team
from bot.models.outbox_keys import prompt_key
from bot.okr.period import period_of, zone
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.teams import find_team, require_steward


@dataclass(frozen=True)
class RoundStarted:
    team_name: str
    channel_id: str
    period: str
    already: bool
    queued: int  # new outbox rows: the prompt and the DMs of this round


async def start_round(
    session: AsyncSession, *, actor: Actor, team: Team, now: datetime
) -> RoundStarted:
    """Queue this week's round of `team` now; repeating it for the same week does nothing."""
    require_steward(actor, team)
    if team.paused:
        raise Invalid(f"{escape(team.name)} is paused: `/okr team resume` first.")
    if not team.channel_id:
        raise Invalid(f"{escape(team.name)} has no channel: `/okr team setup` in its channel.")
    period = period_of(now, zone(team.timezone, ZoneInfo("UTC")))
    key = prompt_key(actor.workspace_id, team.id, period)
    existing = (
        await session.execute(select(OutboxItem.state).where(OutboxItem.idempotency_key == key))
    ).scalar_one_or_none()
    if existing is not None and existing != "cancelled":
        return RoundStarted(team.name, team.channel_id, period, True, 0)
    result = await tick(session, now, workspace_ids=[actor.workspace_id], started={team.id: now})
    queued = (
        await session.execute(select(OutboxItem.id).where(OutboxItem.idempotency_key == key))
    ).first()
    if queued is None:
        raise Invalid(
            f"{escape(team.name)} has nothing to check in for {period}: no active key results "
            "in an active cycle, or the week is skipped (`/okr team unskip`)."
        )
    return RoundStarted(team.name, team.channel_id, period, False, result.inserted)


async def start_round_now(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
    now: datetime,
) -> RoundStarted:
    """`/okr checkin now [team]`: find the team (named, or the channel's) and start its round."""
    async with sessions.begin() as session:
        team = await find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        return await start_round(session, actor=actor, team=team, now=now)
