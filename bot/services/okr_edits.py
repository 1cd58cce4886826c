"""`/okr edit O7|KR12`: the form as the objective or key result is now, and saving it.

Each function owns its transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.edit_modals import KeyResultEditForm, ObjectiveEditForm
from bot.db import readers_for
from bot.models import Objective, Person
from bot.services import key_results, metric_sources, objectives
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.okr_forms import KeyResultEntry, owner_id
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref, stewards_of
from bot.services.permissions import require_edit


async def _slack_id(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return await session.scalar(select(Person.slack_user_id).where(Person.id == person_id))


async def edit_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str
) -> ObjectiveEditForm | KeyResultEditForm:
    """The form for `ref` (an objective or a key result), for those who may edit it."""
    ref = ref.strip().upper()
    async with readers_for(sessions)() as session:
        if ref.startswith("KR"):
            kr = await key_result_by_ref(session, actor=actor, ref=ref)
            objective = await session.get(Objective, kr.objective_id)
            assert objective is not None
            require_edit(actor, await stewards_of(session, objective), what=kr.ref)
            source = metric_sources.spec_of(kr)
            return KeyResultEditForm(
                ref=kr.ref,
                title=kr.title,
                start=kr.start_value,
                target=kr.target_value,
                unit=kr.unit,
                direction=kr.direction,
                comparator=kr.comparator,
                owner_slack_id=await _slack_id(session, kr.owner_person_id),
                weight=kr.weight,
                source_url=source.url if source else "",
                source_path=source.path if source else "",
            )
        objective = await objective_by_ref(session, actor=actor, ref=ref)
        require_edit(actor, await stewards_of(session, objective), what=objective.ref)
        return ObjectiveEditForm(
            ref=objective.ref,
            title=objective.title,
            description=objective.description,
            owner_slack_id=await _slack_id(session, objective.owner_person_id),
        )


async def save_objective(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    ref: str,
    title: str,
    description: str,
    owner_slack_id: str | None,
) -> str:
    async with sessions.begin() as session:
        return await objectives.edit_objective(
            session,
            actor=actor,
            ref=ref,
            title=title,
            description=description,
            owner_person_id=await owner_id(session, actor, owner_slack_id),
        )


async def save_key_result(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str, entry: KeyResultEntry
) -> str:
    """`entry.kind` is not changed by an edit (the form does not offer it)."""
    async with sessions.begin() as session:
        saved = await key_results.edit_key_result(
            session,
            actor=actor,
            ref=ref,
            title=entry.title,
            start=entry.start,
            target=entry.target,
            unit=entry.unit,
            direction=entry.direction,
            comparator=entry.comparator,
            owner_person_id=await owner_id(session, actor, entry.owner_slack_id),
            weight=entry.weight,
        )
        try:
            await metric_sources.edit_source(
                session, actor=actor, ref=ref, url=entry.source_url, path=entry.source_path
            )
        except Invalid as exc:  # name the form's field
            field = {"url": "source_url", "path": "source_path"}.get(exc.field or "", exc.field)
            raise Invalid(str(exc), field=field) from None
        return saved
