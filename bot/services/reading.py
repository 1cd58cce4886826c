"""Reading OKRs: one objective with its key results, progress and quality warnings."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.okrs import KeyResultLine, ObjectivePage
from bot.db import readers_for
from bot.models import Cycle, Grade, KeyResult, Objective, Person, Team
from bot.okr import lint
from bot.okr.progress import (
    Comparator,
    Direction,
    Kind,
    Measure,
    Weighted,
    clamp,
    key_result_progress,
    objective_progress,
)
from bot.repository.checkins import CurrentValue, current_values
from bot.services.actors import Actor
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref
from bot.services.round_periods import outdated_key_results


def measure_of(kr: KeyResult) -> Measure:
    return Measure(
        Kind(kr.kind),
        Direction(kr.direction),
        kr.start_value,
        kr.target_value,
        Comparator(kr.comparator) if kr.comparator else None,
    )


def key_result_line(
    kr: KeyResult,
    current: CurrentValue | None,
    owner_slack_id: str | None = None,
    *,
    outdated: bool = False,
) -> KeyResultLine:
    """A key result as shown: its current value and progress (clamped; none for hold, which
    needs the whole cycle), and whether it is outdated (`round_periods.outdated`)."""
    progress = None
    if current is not None and kr.direction != Direction.HOLD:
        progress = clamp(key_result_progress(measure_of(kr), [current.value]))
    return KeyResultLine(
        kr.ref,
        kr.title,
        kr.unit,
        kr.start_value,
        kr.target_value,
        current.value if current else None,
        progress,
        owner_slack_id,
        current.confidence if current else None,
        outdated,
    )


async def objective_page(session: AsyncSession, *, actor: Actor, ref: str) -> ObjectivePage:
    """`O7` shows the objective; `KR12` shows the objective it belongs to."""
    if ref.strip().upper().startswith("KR"):
        kr = await key_result_by_ref(session, actor=actor, ref=ref)
        objective = await session.get(Objective, kr.objective_id)
        assert objective is not None
    else:
        objective = await objective_by_ref(session, actor=actor, ref=ref)
    cycle = await session.get(Cycle, objective.cycle_id)
    assert cycle is not None
    team = await session.get(Team, objective.team_id) if objective.team_id else None
    parent = (
        await session.get(Objective, objective.parent_objective_id)
        if objective.parent_objective_id
        else None
    )
    key_results = (
        (
            await session.execute(
                select(KeyResult)
                .where(KeyResult.objective_id == objective.id, KeyResult.state == "active")
                .order_by(KeyResult.ref_number)
            )
        )
        .scalars()
        .all()
    )
    owner_ids = {kr.owner_person_id for kr in key_results} | {objective.owner_person_id}
    slack_ids = dict(
        (
            await session.execute(
                select(Person.id, Person.slack_user_id).where(
                    Person.id.in_([i for i in owner_ids if i is not None])
                )
            )
        ).all()
    )
    values = await current_values(
        session, workspace_id=actor.workspace_id, key_result_ids=[kr.id for kr in key_results]
    )
    stale = await outdated_key_results(
        session,
        workspace_id=actor.workspace_id,
        cycle=cycle,
        key_results=key_results,
        team_of_objective={objective.id: objective.team_id},
        values=values,
        at=clock.now(),
    )
    lines, weighted = [], []
    for kr in key_results:
        line = key_result_line(
            kr,
            values.get(kr.id),
            slack_ids.get(kr.owner_person_id) if kr.owner_person_id else None,
            outdated=kr.id in stale,
        )
        weighted.append(Weighted(kr.id, line.progress or 0.0, kr.weight))
        lines.append(line)
    facts = lint.ObjectiveFacts(
        objective.title,
        objective.level,
        objective.owner_person_id is not None,
        objective.parent_objective_id is not None,
        [
            lint.KeyResultFacts(
                kr.title, kr.kind, kr.start_value, kr.target_value, kr.owner_person_id is not None
            )
            for kr in key_results
        ],
        cycle.starts_on,
        cycle.ends_on,
    )
    final, note, kr_grades = await _final_grades(session, cycle, objective, key_results)
    return ObjectivePage(
        commitment=objective.commitment,
        final_grade=final,
        grade_note=note,
        key_result_grades=kr_grades,
        ref=objective.ref,
        title=objective.title,
        description=objective.description,
        level=objective.level,
        cycle=cycle.name,
        state=objective.state,
        owner_slack_id=slack_ids.get(objective.owner_person_id)
        if objective.owner_person_id
        else None,
        team_name=team.name if team else None,
        parent_ref=parent.ref if parent else None,
        progress=objective_progress(weighted),
        key_results=lines,
        warnings=[w.message for w in lint.lint_objective(facts)],
    )


async def _final_grades(
    session: AsyncSession, cycle: Cycle, objective: Objective, key_results: Sequence[KeyResult]
) -> tuple[Decimal | None, str | None, dict[str, tuple[Decimal, bool]]]:
    """A closed cycle's final grades of the objective and its key results."""
    if cycle.state != "closed":
        return None, None, {}
    refs = {kr.id: kr.ref for kr in key_results}
    rows = (
        await session.execute(
            select(Grade).where(
                Grade.workspace_id == objective.workspace_id,
                (Grade.objective_id == objective.id) | Grade.key_result_id.in_(list(refs)),
            )
        )
    ).scalars()
    final: Decimal | None = None
    note: str | None = None
    by_ref: dict[str, tuple[Decimal, bool]] = {}
    for row in rows:
        score = Decimal(row.score_hundredths) / 100
        if row.objective_id == objective.id:
            final, note = score, row.note
        elif row.key_result_id in refs:
            by_ref[refs[row.key_result_id]] = (score, row.from_measured)
    return final, note, by_ref


async def show(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str
) -> ObjectivePage:
    """`/okr show O7|KR12`, read in a session of its own."""
    async with readers_for(sessions)() as session:
        return await objective_page(session, actor=actor, ref=ref)
