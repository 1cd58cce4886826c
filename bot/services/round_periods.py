"""The periods of many key results at once: the round open now for each (its team's, by the
same rule as `checkin_targets.open_period_of`, which answers for one), the period it was
created in, and from those whether it is outdated (`okr.progress.is_outdated`).

A fixed number of queries however many key results: screens that list key results call this
once for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Cycle, KeyResult, Workspace
from bot.models.outbox_keys import prompt_key
from bot.okr.period import label, open_period, period_of, prompt_instant, zone
from bot.okr.progress import is_outdated
from bot.okr.schedule import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY
from bot.repository.checkins import CurrentValue
from bot.repository.rounds import earliest_teams, queued_at, teams_by_id

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class KeyResultPeriods:
    current: str  # the period of the round open now (input with no prompt records here)
    created: str  # the period the key result was created in, in its round's time zone


@dataclass(frozen=True)
class _Schedule:
    weekday: int
    local_time: time
    tz: ZoneInfo


def _default_schedule(workspace: Workspace | None) -> _Schedule:
    settings = (workspace.settings if workspace else None) or {}
    at = settings.get("checkin_time", DEFAULT_CHECKIN_TIME)
    return _Schedule(
        int(settings.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY)),
        at if isinstance(at, time) else time.fromisoformat(str(at)),
        zone(workspace.timezone if workspace else None, _UTC),
    )


async def periods_of(
    session: AsyncSession,
    *,
    workspace_id: int,
    key_results: Sequence[KeyResult],
    team_of_objective: Mapping[int, int | None],
    at: datetime,
) -> dict[int, KeyResultPeriods]:
    """Each key result's periods at `at`. A key result follows its objective's team
    (`team_of_objective`: objective id -> team id), else its owner's earliest team, else the
    workspace's default schedule."""
    if not key_results:
        return {}
    owners = [
        kr.owner_person_id
        for kr in key_results
        if team_of_objective.get(kr.objective_id) is None and kr.owner_person_id is not None
    ]
    firsts = await earliest_teams(session, workspace_id=workspace_id, person_ids=owners)
    team_ids: dict[int, int | None] = {
        kr.id: team_of_objective.get(kr.objective_id)
        or (firsts.get(kr.owner_person_id) if kr.owner_person_id is not None else None)
        for kr in key_results
    }
    teams = await teams_by_id(
        session, workspace_id=workspace_id, team_ids=[t for t in team_ids.values() if t]
    )
    default = (
        _default_schedule(await session.get(Workspace, workspace_id))
        if any(team_ids[kr.id] not in teams for kr in key_results)
        else None
    )
    schedules = {
        team.id: _Schedule(team.checkin_weekday, team.checkin_time, zone(team.timezone, _UTC))
        for team in teams.values()
    }
    this_week = {tid: period_of(at, s.tz) for tid, s in schedules.items()}
    keys = {tid: prompt_key(workspace_id, tid, week) for tid, week in this_week.items()}
    queued = await queued_at(session, workspace_id=workspace_id, keys=keys.values())
    current: dict[int | None, str] = {}
    for tid, schedule in schedules.items():
        scheduled = prompt_instant(
            this_week[tid], weekday=schedule.weekday, local_time=schedule.local_time, tz=schedule.tz
        )
        started = queued.get(keys[tid])
        current[tid] = open_period(
            at,
            weekday=schedule.weekday,
            local_time=schedule.local_time,
            tz=schedule.tz,
            started=started if started is not None and started < scheduled else None,  # by hand
        )
    if default is not None:
        current[None] = open_period(
            at, weekday=default.weekday, local_time=default.local_time, tz=default.tz
        )
    found = {}
    for kr in key_results:
        team_id = team_ids[kr.id]
        followed = team_id if team_id in schedules else None
        rules = schedules[followed] if followed is not None else default
        assert rules is not None
        found[kr.id] = KeyResultPeriods(current[followed], period_of(kr.created_at, rules.tz))
    return found


def outdated(
    key_result: KeyResult, periods: KeyResultPeriods, value: CurrentValue | None, cycle: Cycle
) -> bool:
    """Whether an active key result of an active cycle has gone too long without a check-in
    (`okr.progress.is_outdated`); counted from its creation or its cycle's first period."""
    if cycle.state != "active" or key_result.state != "active":
        return False
    return is_outdated(
        last_checkin_period=value.period if value else None,
        current_period=periods.current,
        created_period=max(periods.created, label(cycle.starts_on)),
    )


async def outdated_key_results(
    session: AsyncSession,
    *,
    workspace_id: int,
    cycle: Cycle,
    key_results: Sequence[KeyResult],
    team_of_objective: Mapping[int, int | None],
    values: Mapping[int, CurrentValue],
    at: datetime,
) -> set[int]:
    """The ids of those `key_results` (all of `cycle`) that are outdated at `at`."""
    if cycle.state != "active":
        return set()
    periods = await periods_of(
        session,
        workspace_id=workspace_id,
        key_results=key_results,
        team_of_objective=team_of_objective,
        at=at,
    )
    return {kr.id for kr in key_results if outdated(kr, periods[kr.id], values.get(kr.id), cycle)}
