"""`/okr edit O7|KR12`: the same fields as when it was written, prefilled; saved in the ack."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import CommandHelp
from bot.blocks.modals import COMPARATOR_LABELS, DIRECTION_LABELS, option
from bot.blocks.text import plain, section
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, entered_number, field_errors
from bot.models import Objective, Person
from bot.repository.workspaces import ensure_person
from bot.services import key_results, objectives
from bot.services.errors import DomainError, Invalid
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref, stewards_of
from bot.services.permissions import require_edit

EDIT_HELP = (CommandHelp("/okr edit O7|KR12", "change an objective or a key result"),)
OBJECTIVE_EDIT, KEY_RESULT_EDIT = "objective_edit", "key_result_edit"


def _text(
    block: str,
    label: str,
    value: str,
    *,
    multiline: bool = False,
    limit: int = 300,
    optional: bool = False,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block,
        "multiline": multiline,
        "max_length": limit,
    }
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }


def _owner(slack_id: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select", "action_id": "owner"}
    if slack_id:
        element["initial_user"] = slack_id
    return {"type": "input", "block_id": "owner", "label": plain("Owner"), "element": element}


def _select(
    block: str, label: str, labels: dict[str, str], initial: str | None, optional: bool = False
) -> dict[str, Any]:
    options = [option(k, v) for k, v in labels.items()]
    element: dict[str, Any] = {"type": "static_select", "action_id": block, "options": options}
    chosen = [o for o in options if o["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    return {
        "type": "input",
        "block_id": block,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }


def _modal(callback: str, title: str, ref: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "title": plain(title),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"ref": ref}),
        "blocks": blocks,
    }


async def run_edit(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{EDIT_HELP[0].usage}`.")
    actor = await call.actor()
    ref = call.args[0].strip().upper()
    async with call.readers() as session:
        if ref.startswith("KR"):
            kr = await key_result_by_ref(session, actor=actor, ref=ref)
            objective = await session.get(Objective, kr.objective_id)
            assert objective is not None
            require_edit(actor, await stewards_of(session, objective), what=kr.ref)
            owner = await _slack_id(session, kr.owner_person_id)
            fields = [
                _text("title", "Key result", kr.title),
                _text("start", "Start", f"{kr.start_value:g}", limit=30),
                _text("target", "Target", f"{kr.target_value:g}", limit=30),
                _text("unit", "Unit", kr.unit, limit=20, optional=True),
                _select("direction", "Direction", DIRECTION_LABELS, kr.direction),
                _select("comparator", "For hold", COMPARATOR_LABELS, kr.comparator, optional=True),
                _owner(owner),
                _text("weight", "Weight", f"{kr.weight:g}", limit=10, optional=True),
            ]
            view = _modal(KEY_RESULT_EDIT, f"Edit {kr.ref}", kr.ref, fields)
        else:
            objective = await objective_by_ref(session, actor=actor, ref=ref)
            require_edit(actor, await stewards_of(session, objective), what=objective.ref)
            owner = await _slack_id(session, objective.owner_person_id)
            fields = [
                _text("title", "Objective", objective.title),
                _text(
                    "description",
                    "Why it matters",
                    objective.description,
                    multiline=True,
                    limit=3000,
                    optional=True,
                ),
                _owner(owner),
            ]
            view = _modal(OBJECTIVE_EDIT, f"Edit {objective.ref}", objective.ref, fields)
    await call.open_modal(view)


async def _slack_id(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return await session.scalar(select(Person.slack_user_id).where(Person.id == person_id))


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def owner_id(
        session: AsyncSession, workspace_id: int, slack_id: str | None
    ) -> int | None:
        if slack_id is None:
            return None
        return (await ensure_person(session, workspace_id=workspace_id, slack_user_id=slack_id)).id

    async def done(ack: AsyncAck, ref: str) -> None:
        await ack(
            response_action="update",
            view={
                "type": "modal",
                "title": plain(f"Edit {ref}"),
                "close": plain("Done"),
                "blocks": [section(f"Saved {ref}. `/okr show {ref}` shows it.")],
            },
        )

    async def on_objective(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values, ref = (
            body["view"]["state"]["values"],
            json.loads(body["view"]["private_metadata"])["ref"],
        )
        try:
            actor = await actor_of(sessions, client, body)
            async with sessions.begin() as session:
                await objectives.edit_objective(
                    session,
                    actor=actor,
                    ref=ref,
                    title=entered(values, "title") or "",
                    description=entered(values, "description") or "",
                    owner_person_id=await owner_id(
                        session, actor.workspace_id, entered(values, "owner")
                    ),
                )
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], "title"))
            return
        await done(ack, ref)
        refresh_home_soon(sessions, client, actor)

    async def on_key_result(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values, ref = (
            body["view"]["state"]["values"],
            json.loads(body["view"]["private_metadata"])["ref"],
        )
        try:
            actor = await actor_of(sessions, client, body)
            direction = entered(values, "direction")
            async with sessions.begin() as session:
                await key_results.edit_key_result(
                    session,
                    actor=actor,
                    ref=ref,
                    title=entered(values, "title") or "",
                    start=entered_number(values, "start", label="start", default=0.0) or 0.0,
                    target=entered_number(values, "target", label="target", default=0.0) or 0.0,
                    unit=entered(values, "unit") or "",
                    direction=None if direction in (None, "auto") else direction,
                    comparator=entered(values, "comparator"),
                    owner_person_id=await owner_id(
                        session, actor.workspace_id, entered(values, "owner")
                    ),
                    weight=entered_number(values, "weight", label="weight", default=1.0) or 1.0,
                )
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], "title"))
            return
        await done(ack, ref)
        refresh_home_soon(sessions, client, actor)

    registry.view(OBJECTIVE_EDIT, on_objective)
    registry.view(KEY_RESULT_EDIT, on_key_result)
