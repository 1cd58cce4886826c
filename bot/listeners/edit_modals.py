"""`/okr edit O7|KR12`: the same fields as when it was written, prefilled; saved in the ack."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.edit_modals import (
    ObjectiveEditForm,
    build_edit_saved,
    build_key_result_edit_modal,
    build_objective_edit_modal,
)
from bot.blocks.help import CommandHelp
from bot.blocks.ids import Callback, Field
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, entered_number, field_errors
from bot.services import okr_edits
from bot.services.errors import DomainError, Invalid
from bot.services.okr_forms import KeyResultEntry

EDIT_HELP = (CommandHelp("/okr edit O7|KR12", "change an objective or a key result"),)


async def run_edit(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{EDIT_HELP[0].usage}`.")
    actor = await call.actor()
    form = await okr_edits.edit_form(call.sessions, actor=actor, ref=call.args[0])
    if isinstance(form, ObjectiveEditForm):
        await call.open_modal(build_objective_edit_modal(form))
    else:
        await call.open_modal(build_key_result_edit_modal(form))


def _key_result_entry(values: dict[str, Any]) -> KeyResultEntry:
    direction = entered(values, Field.DIRECTION)
    return KeyResultEntry(
        title=entered(values, Field.TITLE) or "",
        kind="",  # an edit keeps the kind
        start=entered_number(values, Field.START, label="start", default=0.0) or 0.0,
        target=entered_number(values, Field.TARGET, label="target", default=0.0) or 0.0,
        unit=entered(values, Field.UNIT) or "",
        direction=None if direction in (None, "auto") else direction,
        comparator=entered(values, Field.COMPARATOR),
        owner_slack_id=entered(values, Field.OWNER),
        weight=entered_number(values, Field.WEIGHT, label="weight", default=1.0) or 1.0,
        source_url=entered(values, Field.SOURCE_URL),
        source_path=entered(values, Field.SOURCE_PATH),
    )


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_objective(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        ref = json.loads(body["view"]["private_metadata"])["ref"]
        try:
            actor = await actor_of(sessions, client, body)
            await okr_edits.save_objective(
                sessions,
                actor=actor,
                ref=ref,
                title=entered(values, Field.TITLE) or "",
                description=entered(values, Field.DESCRIPTION) or "",
                owner_slack_id=entered(values, Field.OWNER),
            )
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], Field.TITLE))
            return
        await ack(response_action="update", view=build_edit_saved(ref))
        refresh_home_soon(sessions, client, actor)

    async def on_key_result(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        ref = json.loads(body["view"]["private_metadata"])["ref"]
        try:
            actor = await actor_of(sessions, client, body)
            entry = _key_result_entry(body["view"]["state"]["values"])
            await okr_edits.save_key_result(sessions, actor=actor, ref=ref, entry=entry)
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], Field.TITLE))
            return
        await ack(response_action="update", view=build_edit_saved(ref))
        refresh_home_soon(sessions, client, actor)

    registry.view(Callback.OBJECTIVE_EDIT, on_objective)
    registry.view(Callback.KEY_RESULT_EDIT, on_key_result)
