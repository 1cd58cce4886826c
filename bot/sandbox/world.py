"""A ready-made OKR world in the emulator and the database: teams with channels, leads,
owners and key results in an active cycle. The sandbox, the ceremony tests and the
benchmarks start from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Cycle, KeyResult, Objective, Person, Team, TeamMember
from bot.repository.refs import next_ref_number
from bot.repository.workspaces import ensure_person, ensure_workspace
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.state import Channel, User, Workspace


@dataclass
class WorldTeam:
    id: int
    name: str
    channel: Channel
    lead: User
    owners: list[User]
    key_result_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    workspace_id: int
    teams: list[WorldTeam]
    people: dict[str, int]  # Slack user id -> person id

    def person(self, user: User) -> int:
        return self.people[user.id]


async def build_world(
    sessions: async_sessionmaker[AsyncSession],
    slack: SlackEmulator,
    ws: Workspace,
    *,
    teams: int = 1,
    owners_per_team: int = 2,
    team_tz: str = "UTC",
    owner_tz: str = "UTC",
    weekday: int = 0,
    at: time = time(10, 0),
    cycle: tuple[date, date] = (date(2026, 10, 1), date(2026, 12, 31)),
) -> World:
    people: dict[str, int] = {}
    made: list[WorldTeam] = []
    async with sessions.begin() as session:
        workspace = await ensure_workspace(session, slack_team_id=ws.id, name=ws.name)
        okr_cycle = Cycle(
            workspace_id=workspace.id,
            name="2026-Q4",
            starts_on=cycle[0],
            ends_on=cycle[1],
            state="active",
        )
        session.add(okr_cycle)
        await session.flush()

        async def person(user: User) -> Person:
            row = await ensure_person(
                session, workspace_id=workspace.id, slack_user_id=user.id, name=user.name
            )
            row.timezone = user.tz
            people[user.id] = row.id
            return row

        for t in range(teams):
            lead = slack.add_user(ws, f"lead{t}", tz=owner_tz)
            owners = [
                slack.add_user(ws, f"owner{t}-{o}", tz=owner_tz) for o in range(owners_per_team)
            ]
            channel = slack.add_channel(ws, f"team-{t}", members=[lead, *owners])
            lead_row = await person(lead)
            team = Team(
                workspace_id=workspace.id,
                name=f"Team {t}",
                channel_id=channel.id,
                lead_person_id=lead_row.id,
                checkin_weekday=weekday,
                checkin_time=at,
                timezone=team_tz,
            )
            session.add(team)
            await session.flush()
            objective = Objective(
                workspace_id=workspace.id,
                ref_number=await next_ref_number(session, workspace_id=workspace.id, kind="O"),
                cycle_id=okr_cycle.id,
                level="team",
                team_id=team.id,
                owner_person_id=lead_row.id,
                title=f"Team {t} delights its customers",
            )
            session.add(objective)
            await session.flush()
            world_team = WorldTeam(team.id, team.name, channel, lead, owners)
            for o, owner in enumerate(owners):
                owner_row = await person(owner)
                session.add(
                    TeamMember(team_id=team.id, person_id=owner_row.id, workspace_id=workspace.id)
                )
                kr = KeyResult(
                    workspace_id=workspace.id,
                    ref_number=await next_ref_number(session, workspace_id=workspace.id, kind="KR"),
                    objective_id=objective.id,
                    owner_person_id=owner_row.id,
                    title=f"Signups from 0 to 100 ({owner.name})" if o % 2 == 0 else "NPS 30 to 50",
                    start_value=0.0 if o % 2 == 0 else 30.0,
                    target_value=100.0 if o % 2 == 0 else 50.0,
                )
                session.add(kr)
                await session.flush()
                world_team.key_result_ids.append(kr.id)
            made.append(world_team)
    return World(workspace.id, made, people)
