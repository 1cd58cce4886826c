"""Skipped weeks: a team skips a period (holidays, offsites): no prompt, nobody missing.

The scheduler reads `team_skipped_period` when a round is due; nothing here touches the
outbox. Weeks that ended (in the team's time zone) are history and stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.text import escape
from bot.db import readers_for
from bot.models import Team, TeamSkippedPeriod
from bot.okr.period import label, monday_of, zone
from bot.repository import audit
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.teams import find_team, require_steward


@dataclass(frozen=True)
class Week:
    period: str
    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass(frozen=True)
class WeekSkipped:
    team_name: str
    week: Week
    skipped: bool  # the state now
    changed: bool  # False when it was so already


@dataclass(frozen=True)
class SkippedWeeks:
    team_name: str
    next_week: Week  # for the example in an answer
    weeks: list[Week]  # this week and later, in order


def team_today(team: Team) -> date:
    tz = zone(team.timezone, ZoneInfo("UTC"))
    return clock.now().astimezone(tz).date()


def week_of(day: date) -> Week:
    return Week(label(day), day - timedelta(days=day.weekday()))


def parse_week(text: str, *, today: date) -> Week:
    """A period label like `2026-W52` (any case); otherwise a message that shows the form."""
    period = text.strip().upper()
    try:
        return Week(period, monday_of(period))
    except ValueError:
        coming = week_of(today + timedelta(days=7)).period
        raise Invalid(
            f"`{escape(text)}` is not a week: write its ISO week label, like `{coming}`."
        ) from None


async def _set_skipped(
    session: AsyncSession, *, actor: Actor, team: Team, period: str, skipped: bool
) -> WeekSkipped:
    """Skip (or stop skipping) one week of `team`; the team's lead, facilitators and admins
    may. Asking for the state it is in already changes nothing and is no error."""
    require_steward(actor, team)
    today = team_today(team)
    week = parse_week(period, today=today)
    if week.sunday < today:
        raise Invalid(
            f"{week.period} is over (it ended {week.sunday}). Name this week or a later one, "
            f"like `{week_of(today).period}`."
        )
    row = await session.get(TeamSkippedPeriod, (team.id, week.period))
    if (row is not None) == skipped:
        return WeekSkipped(team.name, week, skipped, False)
    if skipped:
        session.add(
            TeamSkippedPeriod(team_id=team.id, period=week.period, workspace_id=actor.workspace_id)
        )
    else:
        await session.delete(row)
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="team.skip" if skipped else "team.unskip",
        entity="team",
        entity_id=team.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={"period": week.period},
    )
    return WeekSkipped(team.name, week, skipped, True)


async def _skipped_weeks(session: AsyncSession, *, actor: Actor, team: Team) -> SkippedWeeks:
    """The weeks `team` skips from this week on (anyone may read them)."""
    this_week = week_of(team_today(team))
    periods = (
        await session.execute(
            select(TeamSkippedPeriod.period)
            .where(
                TeamSkippedPeriod.workspace_id == actor.workspace_id,
                TeamSkippedPeriod.team_id == team.id,
                TeamSkippedPeriod.period >= this_week.period,
            )
            .order_by(TeamSkippedPeriod.period)
        )
    ).scalars()
    weeks = [Week(p, monday_of(p)) for p in periods]
    return SkippedWeeks(team.name, week_of(this_week.monday + timedelta(days=7)), weeks)


async def set_skipped(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
    period: str,
    skipped: bool,
) -> WeekSkipped:
    """`/okr team skip|unskip 2026-W52 [#channel|name]`."""
    async with sessions.begin() as session:
        team = await find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        return await _set_skipped(session, actor=actor, team=team, period=period, skipped=skipped)


async def skipped_weeks(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
) -> SkippedWeeks:
    """`/okr team skip [#channel|name]`: the weeks a team skips from this week on."""
    async with readers_for(sessions)() as session:
        team = await find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        return await _skipped_weeks(session, actor=actor, team=team)
