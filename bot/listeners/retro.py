"""The retrospective poll's clicks: a rating button records the vote and answers only the
person (through the response URL); "Share your thoughts" opens the answer modal, whose
submission is saved in the ack path (field errors need it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.ids import Action, Callback
from bot.blocks.retro import (
    ANSWER_PARTS,
    build_retro_answer_modal,
    build_retro_note,
    retro_of,
    vote_action,
)
from bot.blocks.text import escape
from bot.listeners.command_call import actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, field_errors
from bot.okr.cycle_end import RATINGS
from bot.services import retro
from bot.services.errors import DomainError


def _retro_id(body: dict[str, Any]) -> int:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    return int(value) if value.isdigit() else 0


def register(
    registry: ListenerRegistry,
    *,
    sessions: async_sessionmaker[AsyncSession],
    update_every: float = 30.0,
) -> None:
    def on_vote(rating: int) -> Any:
        async def voted(
            ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await ack()
            try:
                actor = await actor_of(sessions, client, body)
                said = await retro.vote(
                    sessions, actor=actor, retro_id=_retro_id(body), rating=rating,
                    now=clock.now(), update_every=update_every,
                )  # fmt: skip
                text = said.text
            except DomainError as exc:
                text = str(exc)
            await respond(response_type="ephemeral", replace_original=False, text=escape(text))

        return voted

    async def on_answer_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            actor = await actor_of(sessions, client, body)
            form = await retro.answer_form(
                sessions, actor=actor, retro_id=_retro_id(body), now=clock.now()
            )
            view = build_retro_answer_modal(form)
        except DomainError as exc:
            view = build_retro_note(escape(str(exc)))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        values = view["state"]["values"]
        parts = {name: entered(values, name) for name, _label in ANSWER_PARTS}
        try:
            actor = await actor_of(sessions, client, body)
            said = await retro.save_answer(
                sessions, actor=actor, retro_id=retro_of(view.get("private_metadata")),
                parts=parts, now=clock.now(), update_every=update_every,
            )  # fmt: skip
        except DomainError as exc:
            if exc.field:
                await ack(**field_errors(exc, view, "went_well"))
            else:
                await ack(response_action="update", view=build_retro_note(escape(str(exc))))
            return
        await ack(response_action="update", view=build_retro_note(escape(said.text)))

    for rating in RATINGS:
        registry.action(vote_action(rating), on_vote(rating))
    registry.action(Action.RETRO_ANSWER, on_answer_button)
    registry.view(Callback.RETRO_ANSWER, on_answer)
