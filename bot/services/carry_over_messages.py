"""The carry-over DM and the facilitators' request to create the next cycle, composed when
sent (None, so cancelled, once nothing is left to offer or the next cycle exists)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.carry_over import (
    CarryLine,
    build_carry_over,
    build_next_cycle_ask,
    carry_over_fallback,
)
from bot.blocks.text import escape
from bot.models import CarryOffer, Cycle, Grade, KeyResult, OutboxItem, Person
from bot.okr.quarters import quarter_of
from bot.services.actors import Actor
from bot.services.carry_over import next_cycle
from bot.services.cycles import create_cycle
from bot.services.errors import Forbidden, NotFound
from bot.services.prompts import Composed


async def offered_lines(
    session: AsyncSession, *, workspace_id: int, cycle_id: int, person_id: int
) -> list[CarryLine]:
    rows = (
        await session.execute(
            select(CarryOffer, KeyResult, Grade)
            .join(KeyResult, KeyResult.id == CarryOffer.key_result_id)
            .join(Grade, Grade.key_result_id == KeyResult.id)
            .where(
                CarryOffer.workspace_id == workspace_id,
                CarryOffer.cycle_id == cycle_id,
                CarryOffer.person_id == person_id,
                CarryOffer.decision == "offered",
            )
            .order_by(KeyResult.ref_number)
        )
    ).all()
    return [
        CarryLine(offer.id, kr.ref, kr.title, Decimal(grade.score_hundredths) / 100,
                  kr.start_value, kr.target_value, kr.unit)
        for offer, kr, grade in rows
    ]  # fmt: skip


async def offer_line(session: AsyncSession, *, offer_id: int, person_id: int, workspace_id: int
                     ) -> tuple[CarryLine, str]:  # fmt: skip
    """One offer as shown, with the next cycle's name (for the target modal)."""
    offer = await session.get(CarryOffer, offer_id)
    if offer is None or offer.workspace_id != workspace_id:
        raise NotFound("That offer is not here any more.")
    if offer.person_id != person_id:
        raise Forbidden("This offer is for the key result's owner to decide.")
    lines = await offered_lines(
        session, workspace_id=workspace_id, cycle_id=offer.cycle_id, person_id=person_id
    )
    line = next((line for line in lines if line.offer_id == offer_id), None)
    if line is None:
        raise NotFound("You decided on this offer already.")
    into = await next_cycle(session, cycle=await session.get_one(Cycle, offer.cycle_id))
    return line, into.name if into else "the next cycle"


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    person = await session.get(Person, int(item.payload["person_id"]))
    cycle = await session.get(Cycle, int(item.payload["cycle_id"]))
    if person is None or person.is_deactivated or cycle is None:
        return None
    into = await next_cycle(session, cycle=cycle)
    lines = await offered_lines(
        session, workspace_id=cycle.workspace_id, cycle_id=cycle.id, person_id=person.id
    )
    if into is None or not lines:
        return None
    return Composed(
        person.slack_user_id, carry_over_fallback(cycle.name, len(lines)),
        build_carry_over(cycle.name, into.name, lines), (), person_id=person.id,
    )  # fmt: skip


async def compose_ask(session: AsyncSession, *, item: OutboxItem) -> Composed | None:
    """The request to a facilitator to create the next cycle (None once it exists)."""
    person = await session.get(Person, int(item.payload["person_id"]))
    cycle = await session.get(Cycle, int(item.payload["cycle_id"]))
    if person is None or person.is_deactivated or cycle is None:
        return None
    if await next_cycle(session, cycle=cycle) is not None:
        return None
    waiting = (
        await session.execute(
            select(CarryOffer.id).where(
                CarryOffer.cycle_id == cycle.id, CarryOffer.decision == "offered"
            )
        )
    ).all()
    name = quarter_of(cycle.ends_on + timedelta(days=1))[0]
    return Composed(
        person.slack_user_id, escape(f"Create the cycle after {cycle.name}"),
        build_next_cycle_ask(cycle.id, cycle.name, name, len(waiting)), (), person_id=person.id,
    )  # fmt: skip


async def create_next_cycle(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, cycle_id: int
) -> str:
    """The facilitator's one click: the quarter after the closed cycle, in planning."""
    async with sessions() as session:
        cycle = await session.get(Cycle, cycle_id)
        if cycle is None or cycle.workspace_id != actor.workspace_id:
            raise NotFound("That cycle is not here any more.")
        following = await next_cycle(session, cycle=cycle)
        if following is not None:
            return f"{following.name} exists already: the offers go out for it."
        name, first, last = quarter_of(cycle.ends_on + timedelta(days=1))
    made = await create_cycle(sessions, actor=actor, name=name, starts_on=first, ends_on=last)
    return (
        f"Created {made.name} ({made.starts_on} → {made.ends_on}), in planning. The carry-over "
        f"offers go out now; start it with `/okr cycle start {made.name}`."
    )
