"""Finishing a cycle's grading at its deadline: what nobody graded takes its measured
progress (marked as such), each objective gets the weighted mean of its key results' grades
(`okr.grading`), the retros close, the summaries are kept, and the cycle is closed. The move
to closed is one conditional UPDATE made first, so two clocks finish it once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Cycle, Grade, Retro
from bot.okr.grading import objective_grade
from bot.repository import audit
from bot.services import carry_over, summary
from bot.services.grading_reads import CycleGrades, read_cycle_grades
from bot.services.retro import refresh_poll
from bot.services.retro_seal import seal_anonymous


def _score(grade: Grade) -> Decimal:
    return Decimal(grade.score_hundredths) / 100


async def finish_grading(session: AsyncSession, *, cycle: Cycle, now: datetime) -> bool:
    """False when another clock finished it first (nothing changed)."""
    closed = await session.execute(
        update(Cycle)
        .where(
            Cycle.workspace_id == cycle.workspace_id,
            Cycle.id == cycle.id,
            Cycle.state == "grading",
        )
        .values(state="closed")
        .returning(Cycle.id)
        .execution_options(synchronize_session=False)
    )
    if closed.first() is None:
        return False
    await session.refresh(cycle)
    found = await read_cycle_grades(session, cycle=cycle)
    await _measured_for_ungraded(session, found)
    await _objective_grades(session, found)
    final = await read_cycle_grades(session, cycle=cycle)
    await summary.write_summaries(session, found=final)
    await carry_over.create_offers(session, found=final)
    await session.execute(
        update(Retro)
        .where(Retro.workspace_id == cycle.workspace_id, Retro.cycle_id == cycle.id)
        .values(state="closed")
        .execution_options(synchronize_session=False)
    )
    retros = list(
        (
            await session.execute(
                select(Retro).where(
                    Retro.workspace_id == cycle.workspace_id, Retro.cycle_id == cycle.id
                )
            )
        ).scalars()
    )
    await seal_anonymous(session, retros=retros)
    for retro in retros:
        await refresh_poll(session, retro, now, every=0)  # the poll shows it closed
    await audit.record(
        session,
        workspace_id=cycle.workspace_id,
        action="cycle.finish",
        entity="cycle",
        entity_id=cycle.id,
        source="clock",
        changes={"state": "closed"},
    )
    await session.flush()
    return True


async def _measured_for_ungraded(session: AsyncSession, found: CycleGrades) -> None:
    for graded in found.key_results:
        if graded.grade is not None:
            continue
        hundredths = int(graded.measured * 100)
        session.add(
            Grade(
                workspace_id=found.cycle.workspace_id,
                cycle_id=found.cycle.id,
                key_result_id=graded.key_result.id,
                score_hundredths=hundredths,
                measured_hundredths=hundredths,
                from_measured=True,
            )
        )
    await session.flush()


async def _objective_grades(session: AsyncSession, found: CycleGrades) -> None:
    """Each objective's grade from its key results' final grades (read again: some were just
    filled from measured progress)."""
    final = await read_cycle_grades(session, cycle=found.cycle)
    for objective in final.objectives.values():
        parts = [
            (_score(g.grade), g.key_result.weight)
            for g in final.key_results
            if g.objective.id == objective.id and g.grade is not None
        ]
        grade = objective_grade(parts)
        if grade is None:
            continue
        row = final.objective_grades.get(objective.id) or Grade(
            workspace_id=objective.workspace_id, cycle_id=objective.cycle_id,
            objective_id=objective.id,
        )  # fmt: skip
        row.score_hundredths = int(grade * 100)
        session.add(row)
    await session.flush()
