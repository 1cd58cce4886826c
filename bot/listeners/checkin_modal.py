"""`/okr checkin`: a modal with my key results, prefilled with the last values, at most 10 a
page; each page is saved as it is submitted and the next one follows."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.checkin import CHECKIN_BUTTON
from bot.blocks.modals import option
from bot.blocks.okrs import number
from bot.blocks.text import context, escape, plain, section
from bot.db import readers_for
from bot.listeners.command_call import actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered
from bot.models import Cycle, KeyResult, Objective
from bot.repository.checkins import current_values
from bot.services import checkins, rounds
from bot.services.actors import Actor
from bot.services.errors import DomainError

CHECKIN_CALLBACK = "checkin"
PAGE = 10
STATUSES = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}


async def my_key_results(session: AsyncSession, actor: Actor) -> list[KeyResult]:
    return list(
        (
            await session.execute(
                select(KeyResult)
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
    )


async def build_page(
    session: AsyncSession,
    actor: Actor,
    refs: list[str],
    page: int,
    saved: int,
    period: str | None = None,
) -> dict[str, Any]:
    chosen = refs[page * PAGE : (page + 1) * PAGE]
    rows = {
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
        session, workspace_id=actor.workspace_id, key_result_ids=[kr.id for kr in rows.values()]
    )
    pages = (len(refs) + PAGE - 1) // PAGE
    note = f"Page {page + 1} of {pages}." if pages > 1 else ""
    if period:
        note = f"For {period}. {note}".strip()
    if saved:
        note = f"Saved {saved} check-in{'s' if saved != 1 else ''}. {note}"
    blocks: list[dict[str, Any]] = [context(note or "Leave a value empty to skip it this week.")]
    confidences = [option(str(i), str(i)) for i in range(11)]
    statuses = [option(k, v) for k, v in STATUSES.items()]
    for ref in chosen:
        kr = rows[ref]
        now = values.get(kr.id)
        value: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": 30}
        if now is not None:
            value["initial_value"] = f"{now.value:g}"
        confidence: dict[str, Any] = {
            "type": "static_select",
            "action_id": "confidence",
            "options": confidences,
        }
        if now is not None and now.confidence is not None:
            confidence["initial_option"] = confidences[now.confidence]
        blocks += [
            section(
                f"*{kr.ref}* {escape(kr.title)}\nfrom {number(kr.start_value, kr.unit)} "
                f"to {number(kr.target_value, kr.unit)}"
            ),
            {
                "type": "input",
                "block_id": f"value:{ref}",
                "label": plain("Value now"),
                "optional": True,
                "element": value,
            },
            {
                "type": "input",
                "block_id": f"confidence:{ref}",
                "label": plain("Confidence (0–10)"),
                "optional": True,
                "element": confidence,
            },
            {
                "type": "input",
                "block_id": f"status:{ref}",
                "label": plain("Status"),
                "optional": True,
                "element": {"type": "static_select", "action_id": "status", "options": statuses},
            },
            {
                "type": "input",
                "block_id": f"note:{ref}",
                "label": plain("Note"),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "note", "max_length": 2000},
            },
        ]
    last = page + 1 >= pages
    return {
        "type": "modal",
        "callback_id": CHECKIN_CALLBACK,
        "title": plain("Weekly check-in"),
        "submit": plain("Save" if last else "Save and next"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"refs": refs, "page": page, "period": period}),
        "blocks": blocks,
    }


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        container = body.get("container") or {}
        actor = await actor_of(sessions, client, body)
        try:
            async with readers_for(sessions)() as session:
                found = await rounds.checkin_from_prompt(
                    session,
                    actor=actor,
                    channel=str(container.get("channel_id") or ""),
                    ts=str(container.get("message_ts") or ""),
                )
                view = await build_page(session, actor, found.refs, 0, 0, period=found.period)
        except DomainError as exc:
            view = {
                "type": "modal",
                "title": plain("Weekly check-in"),
                "close": plain("Close"),
                "blocks": [section(escape(str(exc)))],
            }
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        values = view["state"]["values"]
        meta = json.loads(view.get("private_metadata") or "{}")
        refs, page = list(meta.get("refs") or []), int(meta.get("page") or 0)
        period = meta.get("period") or None
        chosen = refs[page * PAGE : (page + 1) * PAGE]
        saved = 0
        try:
            actor = await actor_of(sessions, client, body)
            async with sessions.begin() as session:
                for ref in chosen:
                    typed = entered(values, f"value:{ref}", "value")
                    if typed is None:
                        continue
                    confidence = entered(values, f"confidence:{ref}", "confidence")
                    try:
                        await checkins.record_update(
                            session,
                            actor=actor,
                            key_result_ref=ref,
                            value_text=typed,
                            note=entered(values, f"note:{ref}", "note") or "",
                            source_ref=str(view["id"]),
                            now=clock.now(),
                            source="modal",
                            confidence=int(confidence) if confidence is not None else None,
                            status=entered(values, f"status:{ref}", "status"),
                            period=period,
                        )
                    except DomainError as exc:
                        exc.field = f"value:{ref}"
                        raise
                    saved += 1
                if page + 1 < (len(refs) + PAGE - 1) // PAGE:
                    next_view = await build_page(
                        session, actor, refs, page + 1, saved, period=period
                    )
                else:
                    next_view = None
        except DomainError as exc:
            await ack(
                response_action="errors", errors={exc.field or f"value:{chosen[0]}": str(exc)}
            )
            return
        refresh_home_soon(sessions, client, actor)
        if next_view is not None:
            await ack(response_action="update", view=next_view)
        else:
            await ack(
                response_action="update",
                view={
                    "type": "modal",
                    "title": plain("Weekly check-in"),
                    "close": plain("Done"),
                    "blocks": [
                        section(f"Saved {saved} check-in{'s' if saved != 1 else ''}. Thank you!")
                    ],
                },
            )

    registry.view(CHECKIN_CALLBACK, on_submit)
    registry.action(CHECKIN_BUTTON, on_button)
