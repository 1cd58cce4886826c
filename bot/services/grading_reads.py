"""What grading reads: a cycle's key results with their measured progress (clamped, as a
grade), their grades so far, and who grades each (`okr.cycle_end.grader_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Cycle, Grade, KeyResult, Objective, Person, Team
from bot.okr.cycle_end import grader_of, measured_grade
from bot.okr.progress import key_result_progress
from bot.repository.checkins import active_key_results_with_checkins, value_for_period
from bot.services.reading import measure_of


@dataclass(frozen=True)
class GradedKeyResult:
    key_result: KeyResult
    objective: Objective
    measured: Decimal
    grade: Grade | None
    grader_id: int | None


@dataclass(frozen=True)
class CycleGrades:
    cycle: Cycle
    key_results: list[GradedKeyResult]  # by objective, then ref
    objectives: dict[int, Objective]
    objective_grades: dict[int, Grade]

    def graded_by(self, person_id: int) -> list[GradedKeyResult]:
        return [g for g in self.key_results if g.grader_id == person_id]


async def facilitators_of(session: AsyncSession, workspace_id: int) -> tuple[int, ...]:
    """Active facilitators, else active admins, by id: who stands in for a missing lead."""
    rows = (
        await session.execute(
            select(Person.id, Person.role).where(
                Person.workspace_id == workspace_id,
                Person.role.in_(("facilitator", "admin")),
                Person.is_deactivated.is_(False),
            )
        )
    ).all()
    chosen = [pid for pid, role in rows if role == "facilitator"] or [pid for pid, _ in rows]
    return tuple(sorted(chosen))


async def read_cycle_grades(session: AsyncSession, *, cycle: Cycle) -> CycleGrades:
    """Every active key result of the cycle's active objectives, measured and graded."""
    ws = cycle.workspace_id
    objectives = {
        o.id: o
        for o in (
            await session.execute(
                select(Objective)
                .where(
                    Objective.workspace_id == ws,
                    Objective.cycle_id == cycle.id,
                    Objective.state == "active",
                )
                .order_by(Objective.ref_number)
            )
        ).scalars()
    }
    key_results, checkins = await active_key_results_with_checkins(
        session, workspace_ids=[ws], objective_ids=list(objectives)
    )
    grades = list(
        (
            await session.execute(
                select(Grade).where(Grade.workspace_id == ws, Grade.cycle_id == cycle.id)
            )
        ).scalars()
    )
    by_kr = {g.key_result_id: g for g in grades if g.key_result_id is not None}
    by_objective = {g.objective_id: g for g in grades if g.objective_id is not None}
    leads: dict[int, int | None] = {}
    for team_id, lead in await session.execute(
        select(Team.id, Team.lead_person_id).where(
            Team.workspace_id == ws,
            Team.id.in_({o.team_id for o in objectives.values() if o.team_id}),
        )
    ):
        leads[team_id] = lead
    active = frozenset(
        (
            await session.execute(
                select(Person.id).where(Person.workspace_id == ws, Person.is_deactivated.is_(False))
            )
        ).scalars()
    )
    facilitators = await facilitators_of(session, ws)
    found: list[GradedKeyResult] = []
    for kr in key_results:
        objective = objectives[kr.objective_id]
        periods = checkins.get(kr.id, {})
        values = [
            current.value
            for period in sorted(periods)
            if (current := value_for_period(periods[period])) is not None
        ]
        measured = measured_grade(key_result_progress(measure_of(kr), values))
        grader = grader_of(
            owner=kr.owner_person_id,
            active=active,
            team_lead=leads.get(objective.team_id) if objective.team_id else None,
            facilitators=facilitators,
        )
        found.append(GradedKeyResult(kr, objective, measured, by_kr.get(kr.id), grader))
    found.sort(key=lambda g: (g.objective.ref_number, g.key_result.ref_number))
    return CycleGrades(cycle, found, objectives, by_objective)
