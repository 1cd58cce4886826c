"""Carry-over: each unfinished key result (final grade below 1.0) of a closed cycle is offered
to its owner for the next cycle: keep, adjust the target, or drop, one click each (adjust
asks for the target). Nothing is carried without a yes. A carried key result keeps where it
came from (`carried_from_id`), and its objective comes along as a draft when the next cycle
lacks it (active straight away if that cycle is already under way); `/okr cycle start`
makes a planned cycle's carried drafts active. With no next cycle yet, the facilitators are
asked to create it (the next quarter by default, `carry_over_messages.create_next_cycle`);
the offers go out once it exists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.models import CarryOffer, Cycle, Grade, KeyResult, Objective
from bot.okr.numbers import TARGET, NumberProblem, read_number
from bot.repository import audit
from bot.repository.refs import next_ref_number
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid, NotFound
from bot.services.grading_reads import CycleGrades
from bot.services.key_results import check_measure

DECISIONS = ("kept", "adjusted", "dropped")


@dataclass(frozen=True)
class Decided:
    text: str
    carried_ref: str | None = None


async def create_offers(session: AsyncSession, *, found: CycleGrades) -> int:
    """One offer per unfinished key result, to whoever graded it (its owner, or the stand-in
    for a deactivated owner)."""
    rows = [
        {
            "workspace_id": found.cycle.workspace_id, "cycle_id": found.cycle.id,
            "key_result_id": g.key_result.id, "person_id": g.grader_id, "decision": "offered",
        }
        for g in found.key_results
        if g.grader_id is not None and g.grade is not None and g.grade.score_hundredths < 100
    ]  # fmt: skip
    if rows:
        await session.execute(
            insert_ignoring_conflicts(session, CarryOffer, rows, conflict_columns=["key_result_id"])
        )
    return len(rows)


async def next_cycle(session: AsyncSession, *, cycle: Cycle) -> Cycle | None:
    """The cycle after `cycle`: the first planned or active one starting after it ends."""
    return (
        await session.execute(
            select(Cycle)
            .where(
                Cycle.workspace_id == cycle.workspace_id,
                Cycle.state.in_(("planning", "active")),
                Cycle.starts_on > cycle.ends_on,
            )
            .order_by(Cycle.starts_on, Cycle.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def _offer(session: AsyncSession, *, actor: Actor, offer_id: int) -> CarryOffer:
    offer = await session.get(CarryOffer, offer_id, with_for_update=True)
    if offer is None or offer.workspace_id != actor.workspace_id:
        raise NotFound("That offer is not here any more.")
    if offer.person_id != actor.person_id:
        raise Forbidden("This offer is for the key result's owner to decide.")
    if offer.decision != "offered":
        kept = await session.get(KeyResult, offer.carried_key_result_id or 0)
        where = f" as {kept.ref}" if kept else ""
        raise Invalid(f"You chose already: {offer.decision}{where}. Nothing changed.")
    return offer


async def _carried_objective(
    session: AsyncSession, *, actor: Actor, old: Objective, into: Cycle
) -> Objective:
    found = (
        await session.execute(
            select(Objective).where(
                Objective.workspace_id == old.workspace_id,
                Objective.cycle_id == into.id,
                Objective.carried_from_id == old.id,
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    carried = Objective(
        workspace_id=old.workspace_id,
        ref_number=await next_ref_number(session, workspace_id=old.workspace_id, kind="O"),
        cycle_id=into.id, level=old.level, team_id=old.team_id,
        owner_person_id=old.owner_person_id, title=old.title, description=old.description,
        state="draft" if into.state == "planning" else "active", commitment=old.commitment,
        carried_from_id=old.id, created_by_person_id=actor.person_id,
    )  # fmt: skip
    session.add(carried)
    await session.flush()
    return carried


async def decide(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    offer_id: int,
    decision: str,
    target_text: str | None = None,
) -> Decided:
    """Keep, adjust (with `target_text`, the one number grammar) or drop one offer."""
    if decision not in DECISIONS:
        raise Invalid("Choose keep, adjust target or drop.")
    async with sessions.begin() as session:
        offer = await _offer(session, actor=actor, offer_id=offer_id)
        old = await session.get_one(KeyResult, offer.key_result_id)
        if decision == "dropped":
            await _record(session, actor, offer, "dropped", None)
            return Decided(f"Dropped {old.ref}: it stays in its cycle's history.")
        cycle = await session.get_one(Cycle, offer.cycle_id)
        into = await next_cycle(session, cycle=cycle)
        if into is None:
            raise Invalid("There is no next cycle yet: a facilitator creates it first.")
        target = old.target_value
        if decision == "adjusted":
            try:
                target = read_number(target_text or "", TARGET)
            except NumberProblem as problem:
                raise Invalid(problem.reason, field="target") from None
        direction, comparator = check_measure(
            kind=old.kind, direction=old.direction, start=old.start_value, target=target,
            comparator=old.comparator,
        )  # fmt: skip
        objective = await _carried_objective(
            session, actor=actor, old=await session.get_one(Objective, old.objective_id), into=into
        )
        carried = KeyResult(
            workspace_id=old.workspace_id,
            ref_number=await next_ref_number(session, workspace_id=old.workspace_id, kind="KR"),
            objective_id=objective.id, owner_person_id=old.owner_person_id, title=old.title,
            kind=old.kind, unit=old.unit, start_value=old.start_value, target_value=target,
            direction=direction, comparator=comparator, weight=old.weight, state="active",
            carried_from_id=old.id,
        )  # fmt: skip
        session.add(carried)
        await session.flush()
        await _record(session, actor, offer, decision, carried.id)
        draft = " (a draft until the cycle starts)" if objective.state == "draft" else ""
        return Decided(
            f"Carried {old.ref} into {into.name} as {carried.ref}, under {objective.ref}{draft}.",
            carried.ref,
        )


async def _record(
    session: AsyncSession, actor: Actor, offer: CarryOffer, decision: str, carried: int | None
) -> None:
    offer.decision = decision
    offer.carried_key_result_id = carried
    offer.decided_at = clock.now()
    await audit.record(
        session, workspace_id=actor.workspace_id, action=f"carry_over.{decision}",
        entity="key_result", entity_id=offer.key_result_id, source="button",
        actor_person_id=actor.person_id, changes={"carried": carried},
    )  # fmt: skip


async def unfinished(session: AsyncSession, *, cycle: Cycle) -> int:
    """How many key results of the cycle ended below 1.0."""
    rows = await session.execute(
        select(Grade.id).where(
            Grade.workspace_id == cycle.workspace_id,
            Grade.cycle_id == cycle.id,
            Grade.key_result_id.is_not(None),
            Grade.score_hundredths < 100,
        )
    )
    return len(rows.all())
