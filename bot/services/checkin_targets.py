"""Which key result and which period a check-in line is for, and whether the person may give
it: the one round rule and the one permission rule every way in goes through.

A key result follows its objective's team's round; a personal objective's key result follows
its owner's earliest team; with no team, the workspace's default schedule. Input that answers
a message records to that message's line (and its period); input with no message goes to the
round open at the action's time (`okr.period.open_period`, which knows rounds started by
hand), or to the period a prompt's "Check in" button carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Cycle,
    KeyResult,
    Objective,
    ObjectiveContributor,
    OutboxItem,
    Prompt,
    PromptLine,
    Team,
    TeamMember,
    Workspace,
)
from bot.models.outbox_keys import prompt_key
from bot.okr.cycle_end import cycle_ends_at
from bot.okr.numbers import KeyResultScale
from bot.okr.parse import KeyResultName
from bot.okr.period import open_period, period_of, prompt_instant, zone
from bot.okr.schedule import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY
from bot.services.actors import Actor
from bot.services.errors import Invalid, NotFound
from bot.services.okr_lookup import key_result_by_ref
from bot.services.permissions import CheckinStewards, may_check_in, require_checkin

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Target:
    """A key result a line may record to, in the period it records to."""

    key_result: KeyResult
    objective: Objective
    period: str

    @property
    def scale(self) -> KeyResultScale:
        kr = self.key_result
        return KeyResultScale(kr.ref, kr.kind, kr.unit, kr.start_value, kr.target_value)


async def prompt_lines(session: AsyncSession, prompt: Prompt) -> dict[int, PromptLine]:
    rows = await session.execute(select(PromptLine).where(PromptLine.prompt_id == prompt.id))
    return {row.line_no: row for row in rows.scalars()}


async def target_of(
    session: AsyncSession,
    *,
    actor: Actor,
    name: KeyResultName,
    prompt: Prompt | None,
    lines: dict[int, PromptLine],
    period: str | None,
    at: datetime,
) -> Target:
    """The key result `name` means and its period, checked: it exists here, the person may
    check in on it, and it still takes check-ins."""
    if name.line_no is not None:
        if prompt is None:
            raise Invalid(
                f"#{name.line_no} means a line of a check-in message; here, name the key "
                "result instead, like `KR12 45`."
            )
        chosen = lines.get(name.line_no)
        if chosen is None:
            raise Invalid(
                f"This check-in has lines 1–{len(lines)}; there is no line {name.line_no}."
            )
        key_result = await session.get(KeyResult, chosen.key_result_id)
        if key_result is None or key_result.workspace_id != actor.workspace_id:
            raise NotFound(f"Line {name.line_no} no longer names a key result.")
        found_period: str | None = chosen.period
    else:
        key_result = await key_result_by_ref(session, actor=actor, ref=name.ref or "")
        found_period = period
        if prompt is not None:
            found_period = next(
                (row.period for row in lines.values() if row.key_result_id == key_result.id), None
            )
            if found_period is None:
                raise await _not_in_prompt(session, key_result)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    if not actor.is_facilitator:  # facilitators may check in on anything: no need to ask who
        require_checkin(
            actor, await checkin_stewards(session, key_result, objective), what=key_result.ref
        )
    await _require_open(session, key_result, objective, answering=found_period is not None, at=at)
    if found_period is None:
        found_period = await open_period_of(session, key_result, objective, at=at)
    return Target(key_result, objective, found_period)


async def _not_in_prompt(session: AsyncSession, key_result: KeyResult) -> Invalid:
    objective = await session.get(Objective, key_result.objective_id)
    team = await session.get(Team, objective.team_id) if objective and objective.team_id else None
    where = f" (it checks in with {team.name})" if team else ""
    return Invalid(
        f"{key_result.ref} is not in this check-in{where}. Answer its own prompt, or use "
        f"`/okr update {key_result.ref} <value>`."
    )


async def checkin_stewards(
    session: AsyncSession, key_result: KeyResult, objective: Objective
) -> CheckinStewards:
    """The people who may check in on `key_result` (see `services.permissions`)."""
    if objective.level == "personal":
        return CheckinStewards(key_result.owner_person_id, personal=True)
    lead = None
    if objective.team_id is not None:
        lead = await session.scalar(select(Team.lead_person_id).where(Team.id == objective.team_id))
    contributing = await session.execute(
        select(Team.lead_person_id)
        .join(ObjectiveContributor, ObjectiveContributor.team_id == Team.id)
        .where(ObjectiveContributor.objective_id == objective.id)
    )
    return CheckinStewards(
        key_result.owner_person_id,
        personal=False,
        team_lead=lead,
        contributing_leads=frozenset(p for p in contributing.scalars() if p is not None),
    )


async def may_check_in_on(
    session: AsyncSession, *, actor: Actor, key_result: KeyResult, objective: Objective
) -> bool:
    return may_check_in(actor, await checkin_stewards(session, key_result, objective))


async def _require_open(
    session: AsyncSession,
    key_result: KeyResult,
    objective: Objective,
    *,
    answering: bool,
    at: datetime,
) -> None:
    """Whether the key result takes this check-in. An answer to a round's prompt counts for
    that round whenever it arrives, grading or not; a check-in with no prompt after the
    cycle's end is refused: the cycle is being graded."""
    if "archived" in (key_result.state, objective.state):
        raise Invalid(f"{key_result.ref} is archived; there is nothing to check in.")
    if key_result.state != "active" or objective.state != "active":
        raise Invalid(f"{key_result.ref} is not active yet, so it takes no check-ins.")
    cycle = await session.get(Cycle, objective.cycle_id)
    if cycle is None:
        raise NotFound(f"{key_result.ref} has no cycle.")
    if answering and cycle.state in ("active", "grading"):
        return
    if cycle.state == "active":
        workspace = await session.get(Workspace, key_result.workspace_id)
        assert workspace is not None
        if at < cycle_ends_at(
            starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=zone(workspace.timezone, _UTC)
        ):
            return
    if cycle.state in ("active", "grading"):
        raise Invalid(
            f"{key_result.ref}'s cycle `{cycle.name}` ended on {cycle.ends_on}: it takes no new "
            f"check-ins. Grade it instead (0.0–1.0): the button in your grading DM, or "
            f"`/okr grade {key_result.ref} 0.7`."
        )
    raise Invalid(f"{key_result.ref}'s cycle `{cycle.name}` is {cycle.state}: no check-ins.")


async def round_team(
    session: AsyncSession, key_result: KeyResult, objective: Objective
) -> Team | None:
    """The team whose round a key result follows (the clock's snapshot uses the same rule)."""
    if objective.team_id is not None:
        return await session.get(Team, objective.team_id)
    if key_result.owner_person_id is None:
        return None
    return (
        await session.execute(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == key_result.owner_person_id)
            .order_by(TeamMember.joined_at, Team.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def open_period_of(
    session: AsyncSession, key_result: KeyResult, objective: Objective, *, at: datetime
) -> str:
    """The period of the round open at `at` for this key result's team (or the default)."""
    team = await round_team(session, key_result, objective)
    if team is None:
        workspace = await session.get(Workspace, key_result.workspace_id)
        assert workspace is not None
        settings = workspace.settings or {}
        at_time = settings.get("checkin_time", DEFAULT_CHECKIN_TIME)
        return open_period(
            at,
            weekday=int(settings.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY)),
            local_time=at_time if isinstance(at_time, time) else time.fromisoformat(str(at_time)),
            tz=zone(workspace.timezone, _UTC),
        )
    tz = zone(team.timezone, _UTC)
    this_week = period_of(at, tz)
    weekday, local_time = team.checkin_weekday, team.checkin_time
    queued = await session.scalar(
        select(OutboxItem.created_at).where(
            OutboxItem.idempotency_key == prompt_key(team.workspace_id, team.id, this_week),
            OutboxItem.state != "cancelled",
        )
    )
    scheduled = prompt_instant(this_week, weekday=weekday, local_time=local_time, tz=tz)
    started = queued if queued is not None and queued < scheduled else None  # by hand, early
    return open_period(at, weekday=weekday, local_time=local_time, tz=tz, started=started)
