"""The demo company (`examples/demo.yaml`) put into the emulator and the database: people,
channels, teams, a cycle, objectives cascaded and shared, key results and their weekly
check-in history, away days. The sandbox loads it on first start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AwayPeriod,
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    ObjectiveContributor,
    Person,
    RefCounter,
    Team,
    TeamMember,
)
from bot.okr.period import monday_of
from bot.repository.workspaces import ensure_person, ensure_workspace
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.state import User, Workspace

DEMO_PATH = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DemoError(ValueError):
    """The demo file says something the bot cannot hold (the message says what and where)."""


@dataclass(frozen=True)
class Demo:
    data: dict[str, Any]

    @property
    def starts_at(self) -> datetime:
        raw = self.data["company"].get("sandbox_starts_at")
        if raw is None:
            return datetime.now(UTC)
        at = datetime.fromisoformat(str(raw))
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    @property
    def name(self) -> str:
        return str(self.data["company"]["name"])


def read_demo(path: Path = DEMO_PATH) -> Demo:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "company" not in data:
        raise DemoError(f"{path.name}: no `company` at the top")
    return Demo(data)


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class _Loader:
    def __init__(self, session: AsyncSession, slack: SlackEmulator, ws: Workspace) -> None:
        self.session, self.slack, self.ws = session, slack, ws
        self.users: dict[str, User] = {}
        self.people: dict[str, Person] = {}
        self.teams: dict[str, Team] = {}
        self.objectives: dict[str, Objective] = {}
        self.workspace_id = 0

    def _person(self, key: object, where: str) -> Person:
        person = self.people.get(str(key))
        if person is None:
            raise DemoError(f"{where}: no person with id {key!r}")
        return person

    async def load(self, demo: Demo) -> None:
        data, session = demo.data, self.session
        company = data["company"]
        workspace = await ensure_workspace(
            session,
            slack_team_id=self.ws.id,
            name=demo.name,
            timezone=str(company.get("timezone", "UTC")),
        )
        workspace.name, workspace.timezone = demo.name, str(company.get("timezone", "UTC"))
        self.workspace_id = workspace.id
        for entry in data.get("people") or []:
            await self._add_person(entry)
        for entry in data.get("away") or []:
            person = self._person(entry["person"], "away")
            session.add(
                AwayPeriod(
                    workspace_id=self.workspace_id,
                    person_id=person.id,
                    starts_on=_date(entry["from"]),
                    ends_on=_date(entry["to"]),
                )
            )
        for entry in data.get("channels") or []:
            members = [self.users[str(m)] for m in entry.get("members") or []]
            channel = self.slack.add_channel(self.ws, str(entry["name"]), members=members)
            if entry["name"] == company.get("company_channel"):
                workspace.settings["company_channel"] = channel.id
        for entry in data.get("teams") or []:
            await self._add_team(entry)
        cycle = None
        for entry in data.get("cycles") or []:
            cycle = Cycle(
                workspace_id=self.workspace_id,
                name=str(entry["name"]),
                starts_on=_date(entry["starts"]),
                ends_on=_date(entry["ends"]),
                state=str(entry.get("state", "active")),
            )
            session.add(cycle)
        await session.flush()
        if cycle is None:
            raise DemoError("cycles: the demo needs one cycle")
        refs = {"O": 0, "KR": 0}
        for entry in data.get("objectives") or []:
            await self._add_objective(entry, cycle, refs)
        for kind, last in refs.items():
            session.add(RefCounter(workspace_id=self.workspace_id, kind=kind, last_value=last))

    async def _add_person(self, entry: dict[str, Any]) -> None:
        key, role = str(entry["id"]), str(entry.get("role", "member"))
        user = self.slack.add_user(
            self.ws,
            key,
            tz=str(entry.get("tz", "UTC")),
            real_name=str(entry.get("name", key)),
            admin=role == "admin",
        )
        person = await ensure_person(
            self.session, workspace_id=self.workspace_id, slack_user_id=user.id, name=user.real_name
        )
        person.timezone, person.role = user.tz, role
        self.users[key], self.people[key] = user, person

    async def _add_team(self, entry: dict[str, Any]) -> None:
        name = str(entry["name"])
        members = [self._person(m, f"team {name}") for m in entry.get("members") or []]
        channel = self.slack.add_channel(
            self.ws, str(entry["channel"]), members=[self.users[str(m)] for m in entry["members"]]
        )
        schedule = entry.get("checkin") or {}
        hours, minutes = str(schedule.get("time", "10:00")).split(":")
        team = Team(
            workspace_id=self.workspace_id,
            name=name,
            channel_id=channel.id,
            lead_person_id=self._person(entry["lead"], f"team {name}").id,
            checkin_weekday=WEEKDAYS.index(str(schedule.get("weekday", "monday")).lower()),
            checkin_time=time(int(hours), int(minutes)),
            timezone=str(schedule.get("tz", "UTC")),
        )
        self.session.add(team)
        await self.session.flush()
        for person in members:
            self.session.add(
                TeamMember(team_id=team.id, person_id=person.id, workspace_id=self.workspace_id)
            )
        self.teams[name] = team

    async def _add_objective(
        self, entry: dict[str, Any], cycle: Cycle, refs: dict[str, int]
    ) -> None:
        ref = str(entry["ref"])
        team = self.teams.get(str(entry.get("team"))) if entry.get("team") else None
        parent = self.objectives.get(str(entry.get("parent"))) if entry.get("parent") else None
        objective = Objective(
            workspace_id=self.workspace_id,
            ref_number=int(ref.removeprefix("O")),
            cycle_id=cycle.id,
            level=str(entry["level"]),
            team_id=team.id if team else None,
            owner_person_id=self._person(entry["owner"], ref).id,
            title=str(entry["title"]),
            parent_objective_id=parent.id if parent else None,
        )
        self.session.add(objective)
        await self.session.flush()
        refs["O"] = max(refs["O"], objective.ref_number)
        self.objectives[ref] = objective
        for shared in entry.get("shared_with") or []:
            self.session.add(
                ObjectiveContributor(
                    objective_id=objective.id,
                    team_id=self.teams[str(shared)].id,
                    workspace_id=self.workspace_id,
                )
            )
        tz = ZoneInfo(team.timezone if team else "UTC")
        for kr in entry.get("key_results") or []:
            await self._add_key_result(kr, objective, tz, refs)

    async def _add_key_result(
        self, entry: dict[str, Any], objective: Objective, tz: ZoneInfo, refs: dict[str, int]
    ) -> None:
        ref = str(entry["ref"])
        owner = self._person(entry["owner"], ref)
        kr = KeyResult(
            workspace_id=self.workspace_id,
            ref_number=int(ref.removeprefix("KR")),
            objective_id=objective.id,
            owner_person_id=owner.id,
            title=str(entry["title"]),
            kind=str(entry.get("kind", "number")),
            unit=str(entry.get("unit", "")),
            start_value=float(entry.get("start", 0)),
            target_value=float(entry["target"]),
            direction=str(entry.get("direction", "increase")),
        )
        self.session.add(kr)
        await self.session.flush()
        refs["KR"] = max(refs["KR"], kr.ref_number)
        for checkin in entry.get("checkins") or []:
            week = str(checkin["week"])
            # Recorded the day after the week's Monday, mid-afternoon in the team's zone.
            at = datetime.combine(monday_of(week) + timedelta(days=1), time(15, 0), tzinfo=tz)
            self.session.add(
                Checkin(
                    workspace_id=self.workspace_id,
                    key_result_id=kr.id,
                    period=week,
                    value=float(checkin["value"]) if "value" in checkin else None,
                    confidence=checkin.get("confidence"),
                    status=checkin.get("status"),
                    note=checkin.get("note"),
                    author_person_id=owner.id,
                    recorded_at=at.astimezone(UTC),
                    source="import",
                    source_ref=f"demo:{ref}:{week}",
                )
            )


async def load_demo(
    sessions: async_sessionmaker[AsyncSession],
    slack: SlackEmulator,
    ws: Workspace,
    demo: Demo,
) -> None:
    """Put `demo` into the emulator's workspace `ws` and into the database, in one transaction."""
    async with sessions.begin() as session:
        await _Loader(session, slack, ws).load(demo)
