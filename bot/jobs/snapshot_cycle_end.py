"""The cycle end's part of the clock's snapshot: cycles in grading or just closed, who grades
what, what is not graded yet, the team channels and the cycle-end keys already queued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.due_cycle_end import SUMMARY_WINDOW, CycleEndDue
from bot.models import (
    CarryOffer,
    Cycle,
    Grade,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    Workspace,
)
from bot.models.outbox_keys import PERSON_CYCLE_KINDS, TEAM_CYCLE_KINDS, Kind, cycle_period
from bot.okr.cycle_end import grader_of
from bot.services.grading_reads import facilitators_of


async def cycle_end_rows(
    session: AsyncSession, workspace_ids: list[int], now: datetime
) -> dict[str, Any]:
    pending = select(CarryOffer.cycle_id).where(CarryOffer.decision == "offered")
    cycles = (
        await session.execute(
            select(Cycle, Workspace)
            .join(Workspace, Workspace.id == Cycle.workspace_id)
            .where(
                Cycle.workspace_id.in_(workspace_ids),
                Cycle.grading_ends_at.is_not(None),
                (Cycle.state == "grading")
                | ((Cycle.state == "closed") & (Cycle.grading_ends_at >= now - SUMMARY_WINDOW * 2))
                | ((Cycle.state == "closed") & Cycle.id.in_(pending)),
            )
        )
    ).all()
    found: list[CycleEndDue] = []
    for cycle, workspace in cycles:
        found.append(await _cycle_end(session, cycle, workspace, now))
    return {"cycle_ends": tuple(found)}


async def _cycle_end(
    session: AsyncSession, cycle: Cycle, workspace: Workspace, now: datetime
) -> CycleEndDue:
    ws = workspace.id
    rows = (
        await session.execute(
            select(KeyResult.id, KeyResult.owner_person_id, Team.lead_person_id, Objective.team_id)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .outerjoin(Team, Team.id == Objective.team_id)
            .where(
                KeyResult.workspace_id == ws,
                Objective.cycle_id == cycle.id,
                Objective.state == "active",
                KeyResult.state == "active",
            )
        )
    ).all()
    active = frozenset(
        (
            await session.execute(
                select(Person.id).where(Person.workspace_id == ws, Person.is_deactivated.is_(False))
            )
        ).scalars()
    )
    facilitators = await facilitators_of(session, ws)
    graders: dict[int, list[int]] = {}
    for kr_id, owner, lead, _team in rows:
        grader = grader_of(owner=owner, active=active, team_lead=lead, facilitators=facilitators)
        if grader is not None:
            graders.setdefault(grader, []).append(kr_id)
    # A committed objective's owner explains a miss, so is asked even with no key result.
    for owner in (
        await session.execute(
            select(Objective.owner_person_id).where(
                Objective.workspace_id == ws,
                Objective.cycle_id == cycle.id,
                Objective.state == "active",
                Objective.commitment == "committed",
            )
        )
    ).scalars():
        if owner is not None and owner in active:
            graders.setdefault(owner, [])
    graded = set(
        (
            await session.execute(
                select(Grade.key_result_id).where(
                    Grade.workspace_id == ws,
                    Grade.cycle_id == cycle.id,
                    Grade.key_result_id.is_not(None),
                )
            )
        ).scalars()
    )
    team_ids = {team for *_rest, team in rows if team is not None}
    teams = {
        team_id: channel
        for team_id, channel in await session.execute(
            select(Team.id, Team.channel_id).where(Team.workspace_id == ws, Team.id.in_(team_ids))
        )
        if channel
    }
    queued = frozenset(
        key
        for key in (
            await session.execute(
                select(OutboxItem.idempotency_key).where(
                    OutboxItem.workspace_id == ws,
                    OutboxItem.kind.in_((*PERSON_CYCLE_KINDS, *TEAM_CYCLE_KINDS, Kind.NOTICE)),
                    OutboxItem.period == cycle_period(cycle.id),
                )
            )
        ).scalars()
    )
    offered = frozenset(
        (
            await session.execute(
                select(CarryOffer.person_id).where(
                    CarryOffer.cycle_id == cycle.id, CarryOffer.decision == "offered"
                )
            )
        ).scalars()
    )
    following = await session.scalar(
        select(Cycle.id)
        .where(
            Cycle.workspace_id == ws,
            Cycle.state.in_(("planning", "active")),
            Cycle.starts_on > cycle.ends_on,
        )
        .limit(1)
    )
    acting = workspace.state == "active" and (
        workspace.paused_until is None or workspace.paused_until <= now
    )
    channel = (workspace.settings or {}).get("company_channel")
    assert cycle.grading_started_at and cycle.grading_ends_at and cycle.retro_ends_at
    return CycleEndDue(
        cycle.id, ws, cycle.name, cycle.state, acting, cycle.grading_started_at,
        cycle.grading_ends_at, cycle.retro_ends_at,
        {person: tuple(krs) for person, krs in graders.items()},
        frozenset(kr for kr, *_rest in rows if kr not in graded),
        teams, str(channel) if channel else None, queued,
        offered & active, following is not None, facilitators,
    )  # fmt: skip
