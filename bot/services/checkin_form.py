"""The weekly check-in form (`/okr checkin`, App Home, a prompt's "Check in" button): which
key results it shows, what it shows for each, and saving one page through the intake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.checkin_form import CheckinFormPage, CheckinFormRow
from bot.blocks.ids import CheckinField
from bot.db import readers_for
from bot.models import Cycle, KeyResult, Objective, Prompt, PromptLine
from bot.repository.checkins import current_values
from bot.services.actors import Actor
from bot.services.checkin_targets import may_check_in_on
from bot.services.errors import Invalid, NotFound
from bot.services.intake import CheckinInput, Source, record_checkin, replaced

PAGE = 10


async def my_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor
) -> CheckinFormPage | None:
    """The first page of the person's form: every active key result they own; None if none."""
    async with readers_for(sessions)() as session:
        refs = [
            f"KR{number}"
            for number in (
                await session.execute(
                    select(KeyResult.ref_number)
                    .join(Objective, Objective.id == KeyResult.objective_id)
                    .join(Cycle, Cycle.id == Objective.cycle_id)
                    .where(
                        KeyResult.workspace_id == actor.workspace_id,
                        KeyResult.owner_person_id == actor.person_id,
                        KeyResult.state == "active",
                        Objective.state == "active",
                        Cycle.state == "active",
                    )
                    .order_by(KeyResult.ref_number)
                )
            ).scalars()
        ]
        if not refs:
            return None
        return await _page(session, actor, refs=refs, page=0, saved=0, period=None)


async def prompt_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, channel: str, ts: str
) -> CheckinFormPage:
    """The form a prompt's "Check in" button opens: its key results this person may check in
    on (the intake's permission rule), recording to the prompt's period."""
    async with readers_for(sessions)() as session:
        prompt = (
            await session.execute(
                select(Prompt).where(
                    Prompt.workspace_id == actor.workspace_id,
                    Prompt.channel_id == channel,
                    Prompt.message_ts == ts,
                )
            )
        ).scalar_one_or_none()
        if prompt is None:
            raise NotFound("This check-in is no longer known. `/okr checkin` opens yours.")
        if (why := await replaced(session, prompt)) is not None:  # as a reply there would be
            raise Invalid(why.replace("Nothing was recorded.", "`/okr checkin` opens yours."))
        rows = await session.execute(
            select(KeyResult, Objective)
            .join(PromptLine, PromptLine.key_result_id == KeyResult.id)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .where(PromptLine.prompt_id == prompt.id, KeyResult.state == "active")
            .order_by(PromptLine.line_no)
        )
        refs = [
            kr.ref
            for kr, objective in rows.all()
            if await may_check_in_on(session, actor=actor, key_result=kr, objective=objective)
        ]
        if not refs:
            raise Invalid("None of the key results in this check-in are yours to update.")
        return await _page(session, actor, refs=refs, page=0, saved=0, period=prompt.period)


async def _page(
    session: AsyncSession,
    actor: Actor,
    *,
    refs: Sequence[str],
    page: int,
    saved: int,
    period: str | None,
) -> CheckinFormPage:
    chosen = list(refs[page * PAGE : (page + 1) * PAGE])
    found = {
        kr.ref: kr
        for kr in (
            await session.execute(
                select(KeyResult).where(
                    KeyResult.workspace_id == actor.workspace_id,
                    KeyResult.ref_number.in_([int(r[2:]) for r in chosen]),
                )
            )
        ).scalars()
    }
    values = await current_values(
        session, workspace_id=actor.workspace_id, key_result_ids=[kr.id for kr in found.values()]
    )
    rows = []
    for ref in chosen:
        kr = found.get(ref)
        if kr is None:
            continue
        now = values.get(kr.id)
        rows.append(
            CheckinFormRow(
                ref=kr.ref,
                title=kr.title,
                unit=kr.unit,
                start=kr.start_value,
                target=kr.target_value,
                current=now.value if now else None,
                confidence=now.confidence if now else None,
            )
        )
    return CheckinFormPage(
        refs=tuple(refs),
        page=page,
        pages=(len(refs) + PAGE - 1) // PAGE,
        saved=saved,
        period=period,
        rows=tuple(rows),
    )


@dataclass(frozen=True)
class FormRowInput:
    """One key result's row as submitted; empty fields are None."""

    ref: str
    value: str | None
    confidence: int | None
    status: str | None
    note: str | None

    @property
    def empty(self) -> bool:
        return all(x is None for x in (self.value, self.confidence, self.status, self.note))


@dataclass(frozen=True)
class FormSaved:
    saved: int
    next_page: CheckinFormPage | None


class RowRefused(Invalid):
    """A row the intake would not record; `field` is its value box. Nothing on the page is
    saved (the transaction rolls back) so the person can correct it and send again."""


async def save_page(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    form: CheckinFormPage,
    rows: Sequence[FormRowInput],
    view_id: str,
    now: datetime,
) -> FormSaved:
    """Record one page's rows through the intake, then build the next page if there is one."""
    saved = form.saved
    async with sessions.begin() as session:
        for row in rows:
            if row.empty:
                continue  # left empty: skipped this week
            typed = row.value
            if typed is not None and typed.strip() == form.shown.get(row.ref):
                typed = None  # sent as shown (`-15` would read as a change): the value stays
            outcome = await record_checkin(
                session,
                checkin=CheckinInput(
                    actor=actor,
                    text=f"{row.ref} {typed}" if typed is not None else "",
                    keep_value=row.ref if typed is None else None,
                    source=Source.MODAL,
                    source_ref=view_id,
                    at=now,
                    period=form.period,
                    confidence=row.confidence,
                    status=row.status,
                    note=row.note,
                ),
                now=now,
            )
            if outcome.refused or outcome.explanation:
                # The reason alone: its example is a reply line, not what goes in this box.
                message = outcome.refused[0].reason if outcome.refused else outcome.explanation
                raise RowRefused(str(message), field=f"{CheckinField.VALUE}:{row.ref}")
            saved += len(outcome.recorded)
        next_page = None
        if form.page + 1 < form.pages:
            next_page = await _page(
                session, actor, refs=form.refs, page=form.page + 1, saved=saved, period=form.period
            )
    return FormSaved(saved, next_page)
