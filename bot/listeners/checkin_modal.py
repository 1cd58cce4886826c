"""The check-in form's clicks and submissions: the prompt's "Check in" button opens it, and
each page is saved as it is submitted (through the intake) with the next one following."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.checkin_form import (
    build_checkin_done,
    build_checkin_form,
    build_checkin_refused,
    form_from_metadata,
)
from bot.blocks.ids import Action, Callback, CheckinField
from bot.listeners.command_call import actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered
from bot.services import checkin_form
from bot.services.checkin_form import PAGE, FormRowInput
from bot.services.errors import DomainError


def submitted_rows(values: dict[str, Any], refs: tuple[str, ...]) -> list[FormRowInput]:
    rows = []
    for ref in refs:

        def field(name: CheckinField) -> str | None:
            return entered(values, f"{name}:{ref}", name)  # noqa: B023 - used at once

        confidence = field(CheckinField.CONFIDENCE)
        rows.append(
            FormRowInput(
                ref=ref,
                value=field(CheckinField.VALUE),
                confidence=int(confidence) if confidence and confidence.isdigit() else None,
                status=field(CheckinField.STATUS),
                note=field(CheckinField.NOTE),
            )
        )
    return rows


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        container = body.get("container") or {}
        actor = await actor_of(sessions, client, body)
        try:
            form = await checkin_form.prompt_form(
                sessions,
                actor=actor,
                channel=str(container.get("channel_id") or ""),
                ts=str(container.get("message_ts") or ""),
            )
            view = build_checkin_form(form)
        except DomainError as exc:
            view = build_checkin_refused(str(exc))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        form = form_from_metadata(view.get("private_metadata"), page_size=PAGE)
        chosen = form.refs[form.page * PAGE : (form.page + 1) * PAGE]
        try:
            actor = await actor_of(sessions, client, body)
            saved = await checkin_form.save_page(
                sessions,
                actor=actor,
                form=form,
                rows=submitted_rows(view["state"]["values"], chosen),
                view_id=str(view["id"]),
                now=clock.now(),
            )
        except DomainError as exc:
            block = exc.field or (f"{CheckinField.VALUE}:{chosen[0]}" if chosen else "")
            await ack(response_action="errors", errors={block: str(exc)})
            return
        refresh_home_soon(sessions, client, actor)
        if saved.next_page is not None:
            await ack(response_action="update", view=build_checkin_form(saved.next_page))
        else:
            await ack(response_action="update", view=build_checkin_done(saved.saved))

    registry.view(Callback.CHECKIN, on_submit)
    registry.action(Action.CHECKIN_FROM_PROMPT, on_button)
