"""A cycle's move from active to grading: by the clock at the cycle's end, or earlier by
`/okr cycle close`. The move is one conditional UPDATE, so two clocks and a person closing at
once start one grading; what grading sends (DMs, polls) is owed by the clock under keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Cycle, Objective, Retro, Team, Workspace
from bot.okr.cycle_end import GRADING_DAYS, GradingWindow, cycle_ends_at, grading_window
from bot.okr.period import zone
from bot.repository import audit
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services import grading_end
from bot.services.retro_messages import team_scope

_UTC = ZoneInfo("UTC")


def window_for(workspace: Workspace, started_at: datetime) -> GradingWindow:
    """Grading's and the retro's deadlines from the workspace's settings (`grading_days`,
    default 5; `retro_days`, default the same)."""
    saved = workspace.settings or {}
    days = int(saved.get("grading_days") or GRADING_DAYS)
    retro = saved.get("retro_days")
    return grading_window(started_at, grading_days=days, retro_days=int(retro) if retro else None)


def ends_at(cycle: Cycle, workspace: Workspace) -> datetime:
    tz = zone(workspace.timezone, _UTC)
    return cycle_ends_at(starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=tz)


async def begin_grading(
    session: AsyncSession,
    *,
    cycle: Cycle,
    workspace: Workspace,
    started_at: datetime,
    source: str,
    actor_person_id: int | None = None,
) -> bool:
    """Move an active cycle to grading; False (nothing changed) when it is not active any
    more: another clock or a person moved it first."""
    window = window_for(workspace, started_at)
    tz = zone(workspace.timezone, _UTC)
    moved = await session.execute(
        update(Cycle)
        .where(
            Cycle.workspace_id == cycle.workspace_id,
            Cycle.id == cycle.id,
            Cycle.state == "active",
        )
        .values(
            state="grading",
            grading_started_at=window.started_at,
            grading_ends_at=window.grading_ends_at,
            retro_ends_at=window.retro_ends_at,
            grading_deadline=window.grading_ends_at.astimezone(tz).date(),
            retro_deadline=window.retro_ends_at.astimezone(tz).date(),
        )
        .returning(Cycle.id)
        .execution_options(synchronize_session="fetch")
    )
    if moved.first() is None:
        return False
    await session.refresh(cycle)
    await open_retros(session, cycle=cycle, closes_at=window.retro_ends_at)
    await audit.record(
        session,
        workspace_id=cycle.workspace_id,
        action="cycle.close",
        entity="cycle",
        entity_id=cycle.id,
        source=source,
        actor_person_id=actor_person_id,
        changes={"state": "grading", "grading_ends_at": window.grading_ends_at.isoformat()},
    )
    return True


async def open_retros(session: AsyncSession, *, cycle: Cycle, closes_at: datetime) -> None:
    """One retrospective a team with objectives in the cycle and a channel; anonymous when
    the team chose so."""
    teams = (
        await session.execute(
            select(Team)
            .where(
                Team.workspace_id == cycle.workspace_id,
                Team.channel_id.is_not(None),
                Team.id.in_(
                    select(Objective.team_id).where(
                        Objective.workspace_id == cycle.workspace_id,
                        Objective.cycle_id == cycle.id,
                        Objective.state == "active",
                    )
                ),
            )
            .order_by(Team.id)
        )
    ).scalars()
    rows = [
        {
            "workspace_id": cycle.workspace_id, "cycle_id": cycle.id,
            "scope": team_scope(team.id), "team_id": team.id, "anonymous": team.anonymous_retros,
            "state": "open", "closes_at": closes_at, "created_at": cycle.grading_started_at,
        }
        for team in teams
    ]  # fmt: skip
    if rows:
        await session.execute(
            insert_ignoring_conflicts(
                session, Retro, rows, conflict_columns=["workspace_id", "cycle_id", "scope"]
            )
        )


async def begin_ended_cycles(
    session: AsyncSession, *, now: datetime, workspace_ids: Iterable[int] | None = None
) -> int:
    """The clock's part: every active cycle whose end has come moves to grading, its
    deadlines counted from its end. Returns how many this call moved."""
    scope = list(workspace_ids) if workspace_ids is not None else None
    found = await session.execute(
        select(Cycle, Workspace)
        .join(Workspace, Workspace.id == Cycle.workspace_id)
        .where(
            Cycle.state == "active",
            Cycle.ends_on < now.date() + timedelta(days=1),  # any zone's end is near now's day
            Workspace.id.in_(scope) if scope is not None else true(),
        )
    )
    moved = 0
    for cycle, workspace in found.all():
        end = ends_at(cycle, workspace)
        if now >= end and await begin_grading(
            session, cycle=cycle, workspace=workspace, started_at=end, source="clock"
        ):
            moved += 1
    return moved


async def cycle_end_steps(
    session: AsyncSession, *, now: datetime, workspace_ids: list[int] | None = None
) -> None:
    """What the clock moves at each tick, before it works out what is owed: ended cycles
    start grading, and those whose grading is over are finished and closed."""
    await begin_ended_cycles(session, now=now, workspace_ids=workspace_ids)
    await finish_due_gradings(session, now=now, workspace_ids=workspace_ids)


async def finish_due_gradings(
    session: AsyncSession, *, now: datetime, workspace_ids: list[int] | None = None
) -> int:
    """Every cycle in grading whose deadlines (grading's and the retro's) have passed is
    finished: ungraded key results take their measured progress, objectives get their grades,
    the retros close, the summaries are written and kept, and the cycle is closed."""
    found = (
        await session.execute(
            select(Cycle).where(
                Cycle.state == "grading",
                Cycle.grading_ends_at <= now,
                Cycle.retro_ends_at <= now,
                Cycle.workspace_id.in_(workspace_ids) if workspace_ids is not None else true(),
            )
        )
    ).scalars()
    finished = 0
    for cycle in list(found):
        if await grading_end.finish_grading(session, cycle=cycle, now=now):
            finished += 1
    return finished
