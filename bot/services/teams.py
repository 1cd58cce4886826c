"""Teams: set up (create or change, keyed by channel), pause and resume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.text import escape
from bot.models import OutboxItem, Team, TeamMember
from bot.models.outbox_keys import Kind, notice_key, priority
from bot.okr.period import known_zone
from bot.okr.schedule import DEFAULT_CHECKIN_WEEKDAY
from bot.repository import audit
from bot.repository.upsert import insert_ignoring_conflicts
from bot.repository.workspaces import ensure_person
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid, NotFound
from bot.services.inputs import clean_text

NAME_MAX = 80
DELAY_MAX_HOURS = 7 * 24
DEFAULT_WEEKDAY = DEFAULT_CHECKIN_WEEKDAY  # for a form sent without a day


@dataclass(frozen=True)
class TeamSetup:
    name: str
    channel_id: str | None
    lead_slack_id: str | None
    member_slack_ids: Sequence[str]
    parent_team_id: int | None
    weekday: int
    local_time: time
    timezone: str
    digest_delay_hours: float
    reminder_delay_hours: float
    anonymous_retros: bool


@dataclass(frozen=True)
class TeamSaved:
    id: int
    name: str
    created: bool
    paused: bool = False


def require_steward(actor: Actor, team: Team) -> None:
    if actor.is_facilitator or team.lead_person_id == actor.person_id:
        return
    raise Forbidden(
        f"Only the lead of {escape(team.name)}, facilitators and admins can change this team."
    )


def check_setup(setup: TeamSetup) -> None:
    clean_text(setup.name, field="name", label="team name", limit=NAME_MAX)
    if not 0 <= setup.weekday <= 6:
        raise Invalid("Pick a weekday for the check-in.", field="weekday")
    if known_zone(setup.timezone) is None:
        raise Invalid(
            f"`{escape(setup.timezone)}` is not a time zone: write one like Europe/Berlin or "
            "America/New_York.",
            field="timezone",
        ) from None
    for hours, field in (
        (setup.digest_delay_hours, "digest"),
        (setup.reminder_delay_hours, "reminder"),
    ):
        if not 0 <= hours <= DELAY_MAX_HOURS:
            raise Invalid(f"Give hours from 0 to {DELAY_MAX_HOURS}.", field=field)
    if setup.reminder_delay_hours >= setup.digest_delay_hours:
        raise Invalid("The reminder must come before the digest.", field="reminder")


async def team_for_setup(session: AsyncSession, *, actor: Actor, setup: TeamSetup) -> Team | None:
    """The team a setup form changes (None: it makes a new one), once the person may: anyone
    may start a team they lead themselves; naming someone else as the new team's lead, or
    changing an existing team, is for its lead, facilitators and admins."""
    team = None
    if setup.channel_id:
        team = (
            await session.execute(
                select(Team).where(
                    Team.workspace_id == actor.workspace_id, Team.channel_id == setup.channel_id
                )
            )
        ).scalar_one_or_none()
    if team is not None:
        require_steward(actor, team)
    elif setup.lead_slack_id not in (None, actor.slack_user_id) and not actor.is_facilitator:
        raise Forbidden(
            "A new team is led by whoever sets it up: pick yourself as its lead (facilitators "
            "and admins may name someone else).",
            field="lead",
        )
    return team


async def setup_team(session: AsyncSession, *, actor: Actor, setup: TeamSetup) -> TeamSaved:
    check_setup(setup)
    name = setup.name.strip()
    team = await team_for_setup(session, actor=actor, setup=setup)
    clash = await session.scalar(
        select(func.count())
        .select_from(Team)
        .where(
            Team.workspace_id == actor.workspace_id,
            Team.name == name,
            Team.id != (team.id if team is not None else 0),
        )
    )
    if clash:
        raise Invalid(
            f"A team called {escape(name)} exists already. Pick another name.", field="name"
        )
    created = team is None
    if team is None:
        team = Team(workspace_id=actor.workspace_id, name=name)
        session.add(team)
    if setup.parent_team_id is not None:
        parent = await session.get(Team, setup.parent_team_id)
        if parent is None or parent.workspace_id != actor.workspace_id:
            raise NotFound("That parent team does not exist here.")
        if parent.id == team.id:
            raise Invalid("A team cannot be its own parent.", field="parent")
    lead = None
    if setup.lead_slack_id:
        lead = await ensure_person(
            session, workspace_id=actor.workspace_id, slack_user_id=setup.lead_slack_id
        )
    team.name = name
    team.channel_id = setup.channel_id
    team.lead_person_id = lead.id if lead else actor.person_id
    team.parent_team_id = setup.parent_team_id
    team.checkin_weekday = setup.weekday
    team.checkin_time = setup.local_time
    team.timezone = setup.timezone
    team.digest_delay_minutes = round(setup.digest_delay_hours * 60)
    team.reminder_delay_minutes = round(setup.reminder_delay_hours * 60)
    team.anonymous_retros = setup.anonymous_retros
    team.needs_attention = None
    await session.flush()
    wanted = set(setup.member_slack_ids) | ({setup.lead_slack_id} if setup.lead_slack_id else set())
    member_ids = []
    for slack_id in sorted(wanted):
        person = await ensure_person(
            session, workspace_id=actor.workspace_id, slack_user_id=slack_id
        )
        member_ids.append(person.id)
    await session.execute(
        delete(TeamMember).where(
            TeamMember.team_id == team.id, TeamMember.person_id.not_in(member_ids)
        )
    )
    have = set(
        (
            await session.execute(select(TeamMember.person_id).where(TeamMember.team_id == team.id))
        ).scalars()
    )
    for person_id in member_ids:
        if person_id not in have:
            session.add(
                TeamMember(team_id=team.id, person_id=person_id, workspace_id=actor.workspace_id)
            )
            if person_id != actor.person_id:  # told once, with the way out
                await tell_added(session, actor=actor, team=team, person_id=person_id)
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="team.create" if created else "team.change",
        entity="team",
        entity_id=team.id,
        source="modal",
        actor_person_id=actor.person_id,
        changes={"name": name, "channel": setup.channel_id, "members": len(member_ids)},
    )
    return TeamSaved(team.id, name, created, team.paused)


async def tell_added(session: AsyncSession, *, actor: Actor, team: Team, person_id: int) -> None:
    """One DM to a person someone else put in a team: who did, and how to leave it."""
    now = clock.now()
    where = f" (<#{team.channel_id}>)" if team.channel_id else ""
    text = (
        f"<@{actor.slack_user_id}> added you to the team *{escape(team.name)}*{where}: your key "
        "results follow its weekly check-in from now on. If that is a mistake, "
        f"`/okr team leave {escape(team.name)}` takes you out."
    )
    await session.execute(
        insert_ignoring_conflicts(
            session,
            OutboxItem,
            {
                "workspace_id": actor.workspace_id,
                "kind": Kind.NOTICE,
                "idempotency_key": notice_key(
                    actor.workspace_id, f"team{team.id}", "added", now.date(), person_id
                ),
                "target": str(person_id),
                "priority": priority(Kind.NOTICE),
                "state": "pending",
                "payload": {"person_id": person_id, "text": text},
                "attempts": 0,
                "next_attempt_at": now,
            },
            conflict_columns=["idempotency_key"],
        )
    )


async def leave(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
) -> str:
    """`/okr team leave [team]`: take yourself out of a team; its lead hands it over first."""
    async with sessions.begin() as session:
        team = await find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        if team.lead_person_id == actor.person_id:
            raise Invalid(
                f"You lead {escape(team.name)}: name another lead with `/okr team setup` in its "
                "channel first."
            )
        gone = await session.execute(
            delete(TeamMember)
            .where(TeamMember.team_id == team.id, TeamMember.person_id == actor.person_id)
            .returning(TeamMember.person_id)
        )
        if gone.first() is None:
            raise Invalid(f"You are not in {escape(team.name)}.")
        await audit.record(
            session,
            workspace_id=actor.workspace_id,
            action="team.leave",
            entity="team",
            entity_id=team.id,
            source="command",
            actor_person_id=actor.person_id,
            changes={"left": actor.slack_user_id},
        )
        return team.name


async def find_team(
    session: AsyncSession, *, actor: Actor, name_or_channel: str | None, channel_id: str | None
) -> Team:
    """A team by `#channel` mention, by name, or else the team of the current channel."""
    query = select(Team).where(Team.workspace_id == actor.workspace_id)
    if name_or_channel and name_or_channel.startswith("<#"):
        query = query.where(Team.channel_id == name_or_channel[2:-1].split("|", 1)[0])
    elif name_or_channel:
        query = query.where(func.lower(Team.name) == name_or_channel.lower())
    elif channel_id:
        query = query.where(Team.channel_id == channel_id)
    else:
        raise Invalid("Name the team, or run this in its channel.")
    team = (await session.execute(query.limit(1))).scalar_one_or_none()
    if team is None:
        wanted = escape(name_or_channel) if name_or_channel else "this channel"
        raise NotFound(f"No team for {wanted}. `/okr team setup` in a channel sets one up.")
    return team


async def set_paused(session: AsyncSession, *, actor: Actor, team: Team, paused: bool) -> TeamSaved:
    require_steward(actor, team)
    if team.paused == paused:
        raise Invalid(f"{escape(team.name)} is {'paused' if paused else 'running'} already.")
    team.paused = paused
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="team.pause" if paused else "team.resume",
        entity="team",
        entity_id=team.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={"paused": paused},
    )
    return TeamSaved(team.id, team.name, False, paused)


async def pause(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
    paused: bool,
) -> TeamSaved:
    """`/okr team pause|resume`: no check-ins while paused."""
    async with sessions.begin() as session:
        team = await find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        return await set_paused(session, actor=actor, team=team, paused=paused)
