"""The grading DM and its reminder, composed when sent: the key results the person grades, as
they stand then (None, so cancelled, once grading is over or nothing is left to grade)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.grading import build_grading_message, grading_fallback
from bot.models import Cycle, OutboxItem, Person
from bot.models.outbox_keys import Kind
from bot.services.grading import form_for
from bot.services.grading_reads import read_cycle_grades
from bot.services.prompts import Composed


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    person = await session.get(Person, int(item.payload["person_id"]))
    cycle = await session.get(Cycle, int(item.payload["cycle_id"]))
    if person is None or person.is_deactivated or cycle is None or cycle.state != "grading":
        return None
    if cycle.grading_ends_at is None or now >= cycle.grading_ends_at:
        return None
    reminder = item.kind == Kind.GRADING_REMINDER
    form = form_for(
        await read_cycle_grades(session, cycle=cycle), person.id, ungraded_only=reminder
    )
    if not form.lines and not (form.explain and not reminder):
        return None
    return Composed(
        person.slack_user_id,
        grading_fallback(form, reminder=reminder),
        build_grading_message(form, reminder=reminder),
        (),
        person_id=person.id,
    )
