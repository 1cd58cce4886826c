"""Carry-over clicks: keep and drop decide at once (the answer goes to the person only),
"Adjust target" opens the target modal, whose submission carries the key result; the
facilitators' "Create <quarter>" makes the next cycle."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.carry_over import build_adjust_modal, offer_of, with_decision
from bot.blocks.ids import Action, Callback
from bot.blocks.retro import build_retro_note
from bot.blocks.text import escape
from bot.listeners.command_call import actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, field_errors
from bot.services import carry_over, carry_over_messages
from bot.services.errors import DomainError


def _value(body: dict[str, Any]) -> int:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    return int(value) if value.isdigit() else 0


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    def on_decision(decision: str) -> Any:
        async def decided(
            ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await ack()
            try:
                actor = await actor_of(sessions, client, body)
                said = await carry_over.decide(
                    sessions, actor=actor, offer_id=_value(body), decision=decision
                )
            except DomainError as exc:
                await respond(
                    response_type="ephemeral", replace_original=False, text=escape(str(exc))
                )
                return
            message = body.get("message") or {}
            if message.get("blocks"):
                await respond(
                    replace_original=True,
                    text=str(message.get("text") or ""),
                    blocks=with_decision(message["blocks"], _value(body), said.text),
                )
            await respond(response_type="ephemeral", replace_original=False, text=escape(said.text))

        return decided

    async def on_adjust(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            actor = await actor_of(sessions, client, body)
            async with sessions() as session:
                line, into = await carry_over_messages.offer_line(
                    session, offer_id=_value(body), person_id=actor.person_id,
                    workspace_id=actor.workspace_id,
                )  # fmt: skip
            view = build_adjust_modal(line, into)
        except DomainError as exc:
            view = build_retro_note(escape(str(exc)))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_adjusted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        try:
            actor = await actor_of(sessions, client, body)
            said = await carry_over.decide(
                sessions, actor=actor, offer_id=offer_of(view.get("private_metadata")),
                decision="adjusted", target_text=entered(view["state"]["values"], "target"),
            )  # fmt: skip
        except DomainError as exc:
            if exc.field:
                await ack(**field_errors(exc, view, "target"))
            else:
                await ack(response_action="update", view=build_retro_note(escape(str(exc))))
            return
        await ack(response_action="update", view=build_retro_note(escape(said.text)))

    async def on_create_cycle(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            actor = await actor_of(sessions, client, body)
            text = await carry_over_messages.create_next_cycle(
                sessions, actor=actor, cycle_id=_value(body)
            )
        except DomainError as exc:
            text = str(exc)
        await respond(response_type="ephemeral", replace_original=False, text=text)

    registry.action(Action.CARRY_KEEP, on_decision("kept"))
    registry.action(Action.CARRY_DROP, on_decision("dropped"))
    registry.action(Action.CARRY_ADJUST, on_adjust)
    registry.view(Callback.CARRY_ADJUST, on_adjusted)
    registry.action(Action.CARRY_CREATE_CYCLE, on_create_cycle)
