"""`/okr new` and `/okr kr add O7`: the objective modal, then its key results, one at a time.
Submissions are validated and written in the ack: a field error comes back on its field."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import CommandHelp
from bot.blocks.ids import Action, Callback, Field
from bot.blocks.key_result_modal import build_key_result_modal
from bot.blocks.modals import build_new_objective_modal, option
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.middleware import authorized_team
from bot.listeners.registry import ListenerRegistry
from bot.listeners.team_channel import join_team_channel
from bot.listeners.view_values import entered, entered_many, entered_number, field_errors
from bot.services import okr_forms
from bot.services.actors import Actor
from bot.services.errors import DomainError, Invalid

log = logging.getLogger(__name__)

NEW_HELP = (CommandHelp("/okr new", "write an objective, then its key results"),)
KR_HELP = (CommandHelp("/okr kr add O7", "add a key result to O7"),)
NEW_TEAM = "new:"  # the team picker's value for "a new team for this channel"
NOT_A_CHANNEL = ("", "directmessage", "privategroup")


async def objective_modal_for(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    *,
    channel_id: str | None,
    channel_name: str | None = None,
) -> dict[str, Any]:
    form = await okr_forms.objective_form(
        sessions, actor=actor, channel_id=channel_id, channel_name=channel_name
    )
    return build_new_objective_modal(form)


async def run_new(call: CommandCall) -> None:
    actor = await call.actor()
    channel_name = str(call.body.get("channel_name") or "")
    in_channel = channel_name not in NOT_A_CHANNEL
    view = await objective_modal_for(
        call.sessions,
        actor,
        channel_id=str(call.body.get("channel_id") or "") if in_channel else None,
        channel_name=channel_name if in_channel else None,
    )
    await call.open_modal(view)


async def run_kr(call: CommandCall) -> None:
    if len(call.args) != 2 or call.args[0].lower() != "add":
        raise Invalid(f"Try `{KR_HELP[0].usage}`.")
    actor = await call.actor()
    form = await okr_forms.key_result_form(call.sessions, actor=actor, objective_ref=call.args[1])
    await call.open_modal(build_key_result_modal(form))


def _errors(exc: DomainError, view: dict[str, Any]) -> dict[str, Any]:
    inputs = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    if exc.field == Field.TEAM and Field.TEAM not in inputs:
        no_team = Invalid(
            "No team is set up yet: choose Personal, or ask a team lead to set one up.",
            field=Field.LEVEL,
        )
        return field_errors(no_team, view, Field.TITLE)
    return field_errors(exc, view, Field.TITLE)


def objective_entry(body: dict[str, Any]) -> okr_forms.ObjectiveEntry:
    values = body["view"]["state"]["values"]
    meta = json.loads(body["view"].get("private_metadata") or "{}")
    team = entered(values, Field.TEAM)
    new_team = team[len(NEW_TEAM) :] if team and team.startswith(NEW_TEAM) else None
    return okr_forms.ObjectiveEntry(
        title=entered(values, Field.TITLE) or "",
        description=entered(values, Field.DESCRIPTION) or "",
        level=entered(values, Field.LEVEL) or "",
        team_id=int(team) if team and not new_team else None,
        owner_slack_id=entered(values, Field.OWNER),
        parent_ref=entered(values, Field.PARENT, Action.PARENT_OPTIONS),
        contributing_team_ids=tuple(int(t) for t in entered_many(values, Field.CONTRIBUTORS)),
        commitment=entered(values, Field.COMMITMENT) or "aspirational",
        new_team_channel=new_team,
        new_team_name=str(meta.get("channel_name") or ""),
    )


def key_result_entry(values: dict[str, Any]) -> okr_forms.KeyResultEntry:
    kind = entered(values, Field.KIND) or "number"
    start = entered_number(values, Field.START, label="start", default=0.0)
    target = entered_number(values, Field.TARGET, label="target")
    if target is None and kind != "milestone":
        raise Invalid("Give the target the key result should reach.", field=Field.TARGET)
    direction = entered(values, Field.DIRECTION)
    return okr_forms.KeyResultEntry(
        title=entered(values, Field.TITLE) or "",
        kind=kind,
        start=start or 0.0,
        target=target if target is not None else 1.0,
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
        try:
            actor = await actor_of(sessions, client, body)
            entry = objective_entry(body)
            if entry.new_team_channel:  # Slack first: no transaction is open yet
                await join_team_channel(client, entry.new_team_channel)
            written = await okr_forms.write_objective(sessions, actor=actor, entry=entry)
        except DomainError as exc:
            await ack(**_errors(exc, body["view"]))
            return
        await ack(response_action="update", view=build_key_result_modal(written.next_form))
        refresh_home_soon(sessions, client, actor)

    async def on_key_result(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        try:
            actor = await actor_of(sessions, client, body)
            written = await okr_forms.add_key_result(
                sessions,
                actor=actor,
                objective_ref=str(meta.get("objective")),
                objective_title=str(meta.get("title") or ""),
                added=tuple(meta.get("added", [])),
                entry=key_result_entry(body["view"]["state"]["values"]),
            )
        except DomainError as exc:
            await ack(**_errors(exc, body["view"]))
            return
        await ack(response_action="update", view=build_key_result_modal(written.next_form))
        refresh_home_soon(sessions, client, actor)

    async def parent_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        choices = await okr_forms.parent_choices(
            sessions,
            slack_team_id=authorized_team(body),
            typed=str(body.get("value") or "").strip(),
        )
        await ack(options=[option(ref, f"{ref} {title}") for ref, title in choices])

    async def team_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        choices = await okr_forms.team_choices(
            sessions,
            slack_team_id=authorized_team(body),
            typed=str(body.get("value") or "").strip(),
        )
        await ack(options=[option(str(i), name) for i, name in choices])

    registry.view(Callback.OBJECTIVE_NEW, on_objective)
    registry.view(Callback.KEY_RESULT_NEW, on_key_result)
    registry.options(Action.PARENT_OPTIONS, parent_options)
    registry.options(Action.TEAM_OPTIONS, team_options)
