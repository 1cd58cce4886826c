"""Grading in Slack: the grading DM's button opens the modal, the modal's submission saves
every grade at once (field errors in the ack), and `/okr grade KR12 0.7 [why]`."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.grading import (
    build_grading_modal,
    build_grading_refused,
    build_grading_saved,
    metadata_of,
)
from bot.blocks.help import CommandHelp
from bot.blocks.ids import Action, Callback
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, field_errors
from bot.services import grading
from bot.services.errors import DomainError, Invalid

GRADE_HELP = (
    CommandHelp("/okr grade KR12 0.7 [why]", "grade a key result of a cycle being graded"),
)


async def run_grade(call: CommandCall) -> None:
    if len(call.args) < 2:
        raise Invalid("Name the key result and its grade: `/okr grade KR12 0.7` (0.0 to 1.0).")
    actor = await call.actor()
    saved = await grading.grade_by_command(
        call.sessions,
        actor=actor,
        ref=call.args[0],
        text=call.args[1],
        reason=" ".join(call.args[2:]),
    )
    shown = ", ".join(f"{ref} {grade:.2f}" for ref, grade in saved.saved)
    tail = ""
    if saved.to_explain:
        tail = (
            f" {', '.join(saved.to_explain)} is committed and lands below 1.0: say why in the "
            "grading form (the button in your grading DM)."
        )
    await call.reply(f"Graded {shown} in `{saved.cycle}`.{tail}")


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        value = str(action.get("value") or "")
        try:
            actor = await actor_of(sessions, client, body)
            form = await grading.grading_form(
                sessions, actor=actor, cycle_id=int(value) if value.isdigit() else 0
            )
            view = build_grading_modal(form)
        except DomainError as exc:
            view = build_grading_refused(str(exc))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        values = view["state"]["values"]
        cycle_id, refs, objectives = metadata_of(view.get("private_metadata"))
        inputs = [
            grading.GradeInput(
                ref,
                entered(values, f"grade:{ref}", "grade"),
                entered(values, f"reason:{ref}", "reason"),
            )
            for ref in refs
        ]
        explanations = {
            ref: entered(values, f"explain:{ref}", "explain") or "" for ref in objectives
        }
        try:
            actor = await actor_of(sessions, client, body)
            saved = await grading.save_form(
                sessions, actor=actor, cycle_id=cycle_id, inputs=inputs, explanations=explanations
            )
        except DomainError as exc:
            default = f"grade:{refs[0]}" if refs else ""
            errors = field_errors(exc, view, default)
            if errors["errors"].get(""):
                await ack(response_action="update", view=build_grading_refused(str(exc)))
                return
            await ack(**errors)
            return
        await ack(response_action="update", view=build_grading_saved(saved.cycle, saved.saved))

    registry.action(Action.GRADING_OPEN, on_open)
    registry.view(Callback.GRADING, on_submit)
