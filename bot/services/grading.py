"""Grading a cycle's key results: the form a person grades in, and saving grades from it or
from `/okr grade KR12 0.7`. One permission rule (`okr.cycle_end.grader_of`: the owner, or for
a deactivated owner the team lead, else a facilitator), one number grammar, one save."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.grading import GradingForm, GradingLine, ObjectiveToExplain
from bot.blocks.text import escape
from bot.db import readers_for
from bot.models import Cycle, Grade, KeyResult, Objective
from bot.okr.cycle_end import REASON_MAX, committed_missed, needs_reason
from bot.okr.grading import objective_grade, to_grade
from bot.okr.numbers import Bounds, NumberProblem, read_number
from bot.repository import audit
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid, NotFound
from bot.services.grading_reads import CycleGrades, GradedKeyResult, read_cycle_grades
from bot.services.okr_lookup import key_result_by_ref

GRADE = Bounds("grade", 0, 1)
GRADE_PERCENT = Bounds("grade", 0, 100)
MODAL_KEY_RESULTS = 24  # 3 blocks each, inside a modal's 100


@dataclass(frozen=True)
class GradeInput:
    ref: str
    text: str | None  # as typed; None: left empty (nothing changes)
    reason: str | None = None


@dataclass(frozen=True)
class SavedGrades:
    cycle: str
    saved: list[tuple[str, Decimal]]
    to_explain: list[str]  # committed objectives of theirs below 1.0 still unexplained


def read_grade(text: str, *, field: str | None = None) -> Decimal:
    """A grade in the one number grammar: `0.7`, `0,7` or `70%`; 0.0-1.0 only."""
    typed = text.strip()
    try:
        if typed.endswith("%"):
            return to_grade(read_number(typed[:-1].strip(), GRADE_PERCENT) / 100)
        return to_grade(read_number(typed, GRADE))
    except NumberProblem as problem:
        raise Invalid(
            f"{escape(problem.reason)} A grade goes from 0.0 to 1.0, like 0.7 (or 70%).",
            field=field,
        ) from None


async def _grading_cycle(
    session: AsyncSession, *, actor: Actor, cycle_id: int, lock: bool = False
) -> Cycle:
    """The cycle being graded; `lock` holds its row while grades are saved, so the deadline's
    finishing step (which moves the row first) cannot interleave with a save."""
    cycle = await session.get(Cycle, cycle_id, with_for_update=lock or None)
    if cycle is None or cycle.workspace_id != actor.workspace_id:
        raise NotFound("That cycle is not here any more.")
    _require_grading(cycle)
    return cycle


def _require_grading(cycle: Cycle) -> None:
    if cycle.state == "closed":
        raise Invalid(
            f"Grading of `{cycle.name}` ended on {cycle.grading_deadline}: its grades are final "
            f"(`/okr cycle show {cycle.name}`)."
        )
    if cycle.state != "grading":
        raise Invalid(f"`{cycle.name}` is {cycle.state}: it is graded once it has ended.")


def _standing(graded: GradedKeyResult, typed: dict[int, Decimal]) -> Decimal:
    if graded.key_result.id in typed:
        return typed[graded.key_result.id]
    if graded.grade is not None:
        return Decimal(graded.grade.score_hundredths) / 100
    return graded.measured


def _explain(found: CycleGrades, actor: Actor, typed: dict[int, Decimal]) -> list[Objective]:
    """Committed objectives the person owns whose grade, as things stand (typed grades, then
    saved ones, then measured progress), is below 1.0."""
    missed = []
    for objective in found.objectives.values():
        if objective.owner_person_id != actor.person_id or objective.commitment != "committed":
            continue
        parts = [
            (_standing(g, typed), g.key_result.weight)
            for g in found.key_results
            if g.objective.id == objective.id
        ]
        if committed_missed(objective.commitment, objective_grade(parts)):
            missed.append(objective)
    return missed


def _person_grade(graded: GradedKeyResult) -> Decimal | None:
    grade = graded.grade
    if grade is None or grade.from_measured:
        return None
    return Decimal(grade.score_hundredths) / 100


def form_for(found: CycleGrades, person_id: int, *, ungraded_only: bool = False) -> GradingForm:
    """What one person grades (only what they have not graded yet, for the reminder)."""
    mine = [
        g
        for g in found.graded_by(person_id)
        if not ungraded_only or g.grade is None or g.grade.from_measured
    ]
    lines = [
        GradingLine(
            g.key_result.ref,
            g.key_result.title,
            g.objective.ref,
            g.objective.commitment,
            g.measured,
            Decimal(g.grade.score_hundredths) / 100
            if g.grade and not g.grade.from_measured
            else None,
            g.grade.note if g.grade else None,
            g.key_result.owner_person_id != person_id,
        )
        for g in mine[:MODAL_KEY_RESULTS]
    ]
    explain = [
        ObjectiveToExplain(o.ref, o.title, (found.objective_grades.get(o.id) or Grade()).note)
        for o in found.objectives.values()
        if o.owner_person_id == person_id and o.commitment == "committed"
    ]
    assert found.cycle.grading_deadline is not None
    return GradingForm(
        found.cycle.id, found.cycle.name, found.cycle.grading_deadline, tuple(lines),
        tuple(explain), more=max(0, len(mine) - MODAL_KEY_RESULTS),
    )  # fmt: skip


async def grading_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, cycle_id: int
) -> GradingForm:
    """The key results this person grades in the cycle, prefilled, for the grading modal."""
    async with readers_for(sessions)() as session:
        cycle = await _grading_cycle(session, actor=actor, cycle_id=cycle_id)
        form = form_for(await read_cycle_grades(session, cycle=cycle), actor.person_id)
    if not form.lines and not form.explain:
        raise Invalid(f"You have no key results to grade in `{form.cycle}`.")
    return form


async def _save(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle: Cycle,
    inputs: list[GradeInput],
    explanations: dict[str, str] | None,
    source: str,
) -> SavedGrades:
    found = await read_cycle_grades(session, cycle=cycle)
    by_ref = {g.key_result.ref: g for g in found.key_results}
    typed: dict[int, Decimal] = {}
    chosen: list[tuple[GradedKeyResult, Decimal, str | None]] = []
    for entry in inputs:
        graded = by_ref.get(entry.ref)
        if graded is None:
            raise Invalid(f"{entry.ref} is not a key result of `{cycle.name}` to grade.")
        if graded.grader_id != actor.person_id:
            raise Forbidden(
                f"{entry.ref} is not yours to grade: its owner grades it (for a deactivated "
                "owner, the team lead, else a facilitator)."
            )
        if entry.text is None:
            continue
        grade = read_grade(entry.text, field=f"grade:{entry.ref}")
        reason = (entry.reason or "").strip() or None
        if reason is not None and len(reason) > REASON_MAX:
            raise Invalid(
                f"Keep the reason under {REASON_MAX} characters.", field=f"reason:{entry.ref}"
            )
        if needs_reason(grade, graded.measured) and reason is None:
            raise Invalid(
                f"{grade} is more than 0.3 away from the measured {graded.measured}: say why in "
                f"a few words" + (f" (`/okr grade {entry.ref} {grade} <why>`)." if source ==
                                  "command" else "."),
                field=f"reason:{entry.ref}",
            )  # fmt: skip
        typed[graded.key_result.id] = grade
        chosen.append((graded, grade, reason))
    missed = _explain(found, actor, typed)
    unexplained: list[str] = []
    for objective in missed:
        note = (explanations or {}).get(objective.ref, "").strip()
        if len(note) > REASON_MAX:
            raise Invalid(
                f"Keep the explanation under {REASON_MAX} characters.",
                field=f"explain:{objective.ref}",
            )
        saved_note = (found.objective_grades.get(objective.id) or Grade()).note
        if not note and not saved_note:
            if explanations is not None:
                raise Invalid(
                    f"{objective.ref} is committed and lands below 1.0: say in a sentence why.",
                    field=f"explain:{objective.ref}",
                )
            unexplained.append(objective.ref)
            continue
        if note:
            await _set_objective_note(session, cycle, objective, note)
    for graded, grade, reason in chosen:
        await _set_grade(session, actor=actor, graded=graded, grade=grade, reason=reason)
        await audit.record(
            session, workspace_id=actor.workspace_id, action="grade.set", entity="key_result",
            entity_id=graded.key_result.id, source=source, actor_person_id=actor.person_id,
            changes={"grade": str(grade), "measured": str(graded.measured)},
        )  # fmt: skip
    return SavedGrades(cycle.name, [(g.key_result.ref, d) for g, d, _ in chosen], unexplained)


async def _set_grade(
    session: AsyncSession,
    *,
    actor: Actor,
    graded: GradedKeyResult,
    grade: Decimal,
    reason: str | None,
) -> None:
    row = graded.grade or Grade(
        workspace_id=actor.workspace_id,
        cycle_id=graded.objective.cycle_id,
        key_result_id=graded.key_result.id,
    )
    row.score_hundredths = int(grade * 100)
    row.measured_hundredths = int(graded.measured * 100)
    row.note = reason
    row.from_measured = False
    row.graded_by_person_id = actor.person_id
    session.add(row)
    await session.flush()


async def _set_objective_note(
    session: AsyncSession, cycle: Cycle, objective: Objective, note: str
) -> None:
    """The committed objective's explanation; its score is settled at the deadline (until
    then it holds the grade as things stand)."""
    row = (
        await session.execute(select(Grade).where(Grade.objective_id == objective.id))
    ).scalar_one_or_none()
    if row is None:
        row = Grade(
            workspace_id=cycle.workspace_id, cycle_id=cycle.id, objective_id=objective.id,
            score_hundredths=0,
        )  # fmt: skip
    row.note = note
    session.add(row)
    await session.flush()


async def save_form(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    cycle_id: int,
    inputs: list[GradeInput],
    explanations: dict[str, str],
) -> SavedGrades:
    """The grading modal's submission: every grade and explanation, all or nothing."""
    async with sessions.begin() as session:
        cycle = await _grading_cycle(session, actor=actor, cycle_id=cycle_id, lock=True)
        return await _save(
            session, actor=actor, cycle=cycle, inputs=inputs, explanations=explanations,
            source="modal",
        )  # fmt: skip


async def grade_by_command(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str, text: str, reason: str
) -> SavedGrades:
    """`/okr grade KR12 0.7 [why]`."""
    async with sessions.begin() as session:
        key_result: KeyResult = await key_result_by_ref(session, actor=actor, ref=ref)
        objective = await session.get_one(Objective, key_result.objective_id)
        cycle = await _grading_cycle(session, actor=actor, cycle_id=objective.cycle_id, lock=True)
        return await _save(
            session, actor=actor, cycle=cycle,
            inputs=[GradeInput(key_result.ref, text, reason or None)], explanations=None,
            source="command",
        )  # fmt: skip
