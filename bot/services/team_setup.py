"""Setting up a team: the form as the channel's team is now, saving it, and the first run's
team for the channel `/okr new` was typed in.

The caller makes sure the bot is in the channel (a Slack call) before saving, so no
transaction is open across the network."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.team_modal import TeamForm
from bot.db import readers_for
from bot.models import Person, Team, TeamMember
from bot.okr.schedule import (
    DEFAULT_CHECKIN_TIME,
    DEFAULT_CHECKIN_WEEKDAY,
    DEFAULT_DIGEST_DELAY,
    DEFAULT_REMINDER_DELAY,
    hours,
)
from bot.services import settings as workspace_settings
from bot.services import teams
from bot.services.actors import Actor
from bot.services.teams import TeamSaved, TeamSetup, setup_team

NOT_A_CHANNEL = ("", "directmessage", "privategroup")

DIGEST_HOURS = hours(DEFAULT_DIGEST_DELAY)
REMINDER_HOURS = hours(DEFAULT_REMINDER_DELAY)


async def setup_form(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    channel_id: str | None,
    channel_name: str,
) -> TeamForm:
    """The channel's team as it is, or a new team named after the channel, led by the actor."""
    async with readers_for(sessions)() as session:
        team = None
        if channel_id:
            team = (
                await session.execute(
                    select(Team).where(
                        Team.workspace_id == actor.workspace_id, Team.channel_id == channel_id
                    )
                )
            ).scalar_one_or_none()
        all_teams = (
            await session.execute(
                select(Team.id, Team.name)
                .where(Team.workspace_id == actor.workspace_id)
                .order_by(Team.name)
            )
        ).all()
        members: list[str] = []
        lead = actor.slack_user_id
        if team is not None:
            members = list(
                (
                    await session.execute(
                        select(Person.slack_user_id)
                        .join(TeamMember, TeamMember.person_id == Person.id)
                        .where(TeamMember.team_id == team.id)
                    )
                ).scalars()
            )
            if team.lead_person_id:
                lead = (
                    await session.scalar(
                        select(Person.slack_user_id).where(Person.id == team.lead_person_id)
                    )
                    or lead
                )
    return TeamForm(
        channel_id=channel_id if channel_name != "directmessage" else None,
        name=team.name if team else ("" if channel_name in NOT_A_CHANNEL else channel_name),
        lead_slack_id=lead,
        member_slack_ids=members,
        teams=[(t.id, t.name) for t in all_teams if team is None or t.id != team.id],
        parent_team_id=team.parent_team_id if team else None,
        weekday=team.checkin_weekday if team else DEFAULT_CHECKIN_WEEKDAY,
        local_time=team.checkin_time if team else DEFAULT_CHECKIN_TIME,
        timezone=team.timezone if team else actor.timezone,
        digest_delay_hours=(team.digest_delay_minutes / 60) if team else DIGEST_HOURS,
        reminder_delay_hours=(team.reminder_delay_minutes / 60) if team else REMINDER_HOURS,
        anonymous_retros=team.anonymous_retros if team else False,
        editing=team is not None,
    )


async def save_setup(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, setup: TeamSetup
) -> TeamSaved:
    async with sessions.begin() as session:
        return await setup_team(session, actor=actor, setup=setup)


async def may_set_up(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, setup: TeamSetup
) -> None:
    """Refuses (`Forbidden`) before anything else happens, the bot joining the channel
    included, when this person may not save this setup; `save_setup` checks again."""
    async with readers_for(sessions)() as session:
        await teams.team_for_setup(session, actor=actor, setup=setup)


async def first_team(session: AsyncSession, *, actor: Actor, channel_id: str, name: str) -> int:
    """First run: a team for the channel `/okr new` was typed in, led by whoever asked, with
    the workspace's default check-in (changed later with `/okr team setup`)."""
    defaults = await workspace_settings.current(session, actor=actor)
    saved = await setup_team(
        session,
        actor=actor,
        setup=TeamSetup(
            name=name or "team",
            channel_id=channel_id,
            lead_slack_id=actor.slack_user_id,
            member_slack_ids=[actor.slack_user_id],
            parent_team_id=None,
            weekday=defaults.checkin_weekday,
            local_time=defaults.checkin_time,
            timezone=defaults.timezone,
            digest_delay_hours=DIGEST_HOURS,
            reminder_delay_hours=REMINDER_HOURS,
            anonymous_retros=False,
        ),
    )
    return saved.id
