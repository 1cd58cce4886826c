"""`/okr new` and `/okr kr add O7`: the objective modal, then its key results, one at a time.
Submissions are validated and written in the ack: a field error comes back on its field."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.modals import (
    KEY_RESULT_CALLBACK,
    OBJECTIVE_CALLBACK,
    PARENT_ACTION,
    TEAM_ACTION,
    build_key_result_modal,
    build_objective_modal,
    option,
)
from bot.db import readers_for
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, entered_many, entered_number, field_errors
from bot.models import Cycle, Objective, Team
from bot.repository.workspaces import ensure_person
from bot.services import key_results, objectives, reading
from bot.services.actors import Actor
from bot.services.errors import DomainError, Invalid
from bot.services.okr_lookup import objective_by_ref, stewards_of
from bot.services.permissions import require_edit

log = logging.getLogger(__name__)

NEW_HELP = (CommandHelp("/okr new", "write an objective, then its key results"),)
KR_HELP = (CommandHelp("/okr kr add O7", "add a key result to O7"),)


def _today(actor: Actor) -> date:
    """Today in the workspace's time zone (it picks the first quarter)."""
    return clock.now().astimezone(ZoneInfo(actor.timezone)).date()


async def objective_modal_for(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    *,
    channel_id: str | None,
    channel_name: str | None = None,
) -> dict[str, Any]:
    async with readers_for(sessions)() as session:
        channel_team = None
        if channel_id:
            channel_team = await session.scalar(
                select(Team.id).where(
                    Team.workspace_id == actor.workspace_id, Team.channel_id == channel_id
                )
            )
        teams = (
            await session.execute(
                select(Team.id, Team.name)
                .where(Team.workspace_id == actor.workspace_id)
                .order_by(Team.name)
            )
        ).all()
        cycle = (
            await session.execute(
                select(Cycle.name).where(
                    Cycle.workspace_id == actor.workspace_id, Cycle.state == "active"
                )
            )
        ).scalar_one_or_none()
    note = f"Cycle {cycle}" if cycle else "No cycle yet: saving starts the current quarter."
    return build_objective_modal(
        teams=[(t.id, t.name) for t in teams],
        owner_slack_id=actor.slack_user_id,
        cycle_note=note,
        can_write_company=actor.is_facilitator,
        metadata={"channel": channel_id, "channel_name": channel_name},
        new_team_channel=(channel_id, channel_name)
        if channel_id and channel_name and channel_team is None
        else None,
    )


async def run_new(call: CommandCall) -> None:
    actor = await call.actor()
    channel_name = str(call.body.get("channel_name") or "")
    in_channel = channel_name not in ("", "directmessage", "privategroup")
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
    async with call.readers() as session:
        objective = await objective_by_ref(session, actor=actor, ref=call.args[1])
        require_edit(actor, await stewards_of(session, objective), what=objective.ref)
        ref, title = objective.ref, objective.title
    await call.open_modal(
        build_key_result_modal(
            objective_ref=ref, objective_title=title, owner_slack_id=call.slack_user_id
        )
    )


async def _suggestions(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, objective_ref: str
) -> list[str]:
    """The quality lint after a save (the count of key results is said by the modal itself)."""
    async with readers_for(sessions)() as session:
        page = await reading.objective_page(session, actor=actor, ref=objective_ref)
    return [w for w in page.warnings if "is usually measured by" not in w]


async def _team_for_channel(
    session: AsyncSession,
    client: AsyncWebClient,
    actor: Actor,
    body: dict[str, Any],
    channel_id: str,
) -> int:
    """First run: a team for the channel `/okr new` was typed in, led by whoever asked, with
    the workspace's default check-in (changed later with `/okr team setup`)."""
    from bot.listeners.team_commands import join_team_channel
    from bot.services import settings as workspace_settings
    from bot.services import teams

    meta = json.loads(body["view"].get("private_metadata") or "{}")
    await join_team_channel(client, channel_id)
    defaults = await workspace_settings.current(session, actor=actor)
    saved = await teams.setup_team(
        session,
        actor=actor,
        setup=teams.TeamSetup(
            name=str(meta.get("channel_name") or "team"),
            channel_id=channel_id,
            lead_slack_id=actor.slack_user_id,
            member_slack_ids=[actor.slack_user_id],
            parent_team_id=None,
            weekday=defaults.checkin_weekday,
            local_time=defaults.checkin_time,
            timezone=defaults.timezone,
            digest_delay_hours=48,
            reminder_delay_hours=24,
            anonymous_retros=False,
        ),
    )
    return saved.id


def _errors(exc: DomainError, view: dict[str, Any], default: str) -> dict[str, Any]:
    inputs = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    if exc.field == "team" and "team" not in inputs:
        no_team = Invalid(
            "No team is set up yet: choose Personal, or ask a team lead to set one up.",
            field="level",
        )
        return field_errors(no_team, view, default)
    return field_errors(exc, view, default)


async def _person_id(session: AsyncSession, actor: Actor, slack_user_id: str | None) -> int | None:
    if slack_user_id is None:
        return None
    person = await ensure_person(
        session, workspace_id=actor.workspace_id, slack_user_id=slack_user_id
    )
    return person.id


def make_view_handlers(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[Any, Any, Any, Any]:
    async def on_objective(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        try:
            actor = await actor_of(sessions, client, body)
            async with sessions.begin() as session:
                team = entered(values, "team")
                if team and team.startswith("new:"):
                    team = str(await _team_for_channel(session, client, actor, body, team[4:]))
                saved = await objectives.create_objective(
                    session,
                    actor=actor,
                    title=entered(values, "title") or "",
                    description=entered(values, "description") or "",
                    level=entered(values, "level") or "",
                    team_id=int(team) if team else None,
                    owner_person_id=await _person_id(session, actor, entered(values, "owner")),
                    parent_ref=entered(values, "parent", PARENT_ACTION),
                    contributing_team_ids=tuple(
                        int(t) for t in entered_many(values, "contributors")
                    ),
                    today=_today(actor),
                )
        except DomainError as exc:
            await ack(**_errors(exc, body["view"], "title"))
            return
        view = build_key_result_modal(
            objective_ref=saved.ref,
            objective_title=saved.title,
            owner_slack_id=body["user"]["id"],
            suggestions=await _suggestions(sessions, actor, saved.ref),
            notice=f"This started the cycle {saved.cycle_name} (the current quarter)."
            if saved.cycle_created
            else "",
        )
        await ack(response_action="update", view=view)
        refresh_home_soon(sessions, client, actor)

    async def on_key_result(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        try:
            actor = await actor_of(sessions, client, body)
            kind = entered(values, "kind") or "number"
            start = entered_number(values, "start", label="start", default=0.0)
            target = entered_number(values, "target", label="target")
            if target is None and kind != "milestone":
                raise Invalid("Give the target the key result should reach.", field="target")
            direction = entered(values, "direction")
            async with sessions.begin() as session:
                saved = await key_results.add_key_result(
                    session,
                    actor=actor,
                    objective_ref=str(meta.get("objective")),
                    title=entered(values, "title") or "",
                    kind=kind,
                    start=start or 0.0,
                    target=target if target is not None else 1.0,
                    unit=entered(values, "unit") or "",
                    direction=None if direction in (None, "auto") else direction,
                    comparator=entered(values, "comparator"),
                    owner_person_id=await _person_id(session, actor, entered(values, "owner")),
                    weight=entered_number(values, "weight", label="weight", default=1.0) or 1.0,
                )
        except DomainError as exc:
            await ack(**_errors(exc, body["view"], "title"))
            return
        view = build_key_result_modal(
            objective_ref=saved.objective_ref,
            objective_title=str(meta.get("title") or ""),
            owner_slack_id=body["user"]["id"],
            added=[*meta.get("added", []), saved.ref],
            suggestions=await _suggestions(sessions, actor, saved.objective_ref),
        )
        await ack(response_action="update", view=view)
        refresh_home_soon(sessions, client, actor)

    async def parent_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        typed = str(body.get("value") or "").strip()
        async with readers_for(sessions)() as session:
            workspace_id = await _workspace_id(session, body["team"]["id"])
            query = (
                select(Objective.ref_number, Objective.title)
                .join(Cycle, Cycle.id == Objective.cycle_id)
                .where(
                    Objective.workspace_id == workspace_id,
                    Cycle.state == "active",
                    Objective.state == "active",
                )
                .order_by(Objective.ref_number)
                .limit(100)
            )
            if typed:
                number = typed.upper().removeprefix("O")
                clauses: list[ColumnElement[bool]] = [Objective.title.ilike(f"%{typed}%")]
                if number.isdigit():
                    clauses.append(Objective.ref_number == int(number))
                query = query.where(or_(*clauses))
            rows = (await session.execute(query)).all()
        await ack(options=[option(f"O{n}", f"O{n} {t}") for n, t in rows])

    async def team_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        typed = str(body.get("value") or "").strip()
        async with readers_for(sessions)() as session:
            workspace_id = await _workspace_id(session, body["team"]["id"])
            query = select(Team.id, Team.name).where(Team.workspace_id == workspace_id)
            if typed:
                query = query.where(Team.name.ilike(f"%{typed}%"))
            rows = (await session.execute(query.order_by(Team.name).limit(100))).all()
        await ack(options=[option(str(i), n) for i, n in rows])

    return on_objective, on_key_result, parent_options, team_options


async def _workspace_id(session: AsyncSession, slack_team_id: str) -> int:
    from bot.models import Workspace

    found = await session.scalar(
        select(Workspace.id).where(Workspace.slack_team_id == slack_team_id)
    )
    return int(found or 0)


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    on_objective, on_key_result, parent_options, team_options = make_view_handlers(sessions)
    registry.view(OBJECTIVE_CALLBACK, on_objective)
    registry.view(KEY_RESULT_CALLBACK, on_key_result)
    registry.options(PARENT_ACTION, parent_options)
    registry.options(TEAM_ACTION, team_options)
