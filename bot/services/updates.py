"""Keeping a round's prompt current: after answers it shows who has checked in, through one
coalescing `update` outbox row per message (at most one edit every 30 s, after prompts and
DMs). A change while the row is pending changes nothing; while it is being sent, `step`
counts the change so the sender arms the row again instead of marking it done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.checkin import build_prompt, fallback_text
from bot.jobs.due import PRIORITY
from bot.models import OutboxItem, Prompt, PromptLine, Team
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services import prompts


@dataclass(frozen=True)
class UpdateMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


def update_key(workspace_id: int, channel: str, ts: str) -> str:
    return f"update:{workspace_id}:{channel}:{ts}"


async def request_update(
    session: AsyncSession, *, prompt: Prompt, now: datetime, every_seconds: float = 30.0
) -> None:
    """Arm the prompt's update row: new, re-armed after a send, or marked changed mid-send."""
    if prompt.kind != "round":
        return
    key = update_key(prompt.workspace_id, prompt.channel_id, prompt.message_ts)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            OutboxItem,
            {
                "workspace_id": prompt.workspace_id,
                "kind": "update",
                "idempotency_key": key,
                "target": prompt.channel_id,
                "period": prompt.period,
                "priority": PRIORITY["update"],
                "state": "pending",
                "payload": {"channel": prompt.channel_id, "ts": prompt.message_ts},
                "attempts": 0,
                "next_attempt_at": now,
            },
            conflict_columns=["idempotency_key"],
        ).returning(OutboxItem.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return
    row = (
        await session.execute(select(OutboxItem).where(OutboxItem.idempotency_key == key))
    ).scalar_one()
    if row.state == "sending":
        row.step += 1
    elif row.state in ("sent", "failed", "cancelled", "uncertain"):
        row.state, row.error = "pending", None
        after = (row.sent_at or now) + timedelta(seconds=every_seconds)
        row.next_attempt_at = max(now, after)


def finish_update(row: OutboxItem, *, now: datetime, claimed_step: int, every: float) -> None:
    """After a successful edit: done, or pending again when answers came in meanwhile."""
    row.sent_at, row.lease_until, row.error = now, None, None
    if row.step != claimed_step:
        row.state, row.next_attempt_at = "pending", now + timedelta(seconds=every)
    else:
        row.state = "sent"


async def compose_update(session: AsyncSession, *, item: OutboxItem) -> UpdateMessage | None:
    channel, ts = str(item.payload.get("channel")), str(item.payload.get("ts"))
    prompt = (
        await session.execute(
            select(Prompt).where(
                Prompt.workspace_id == item.workspace_id,
                Prompt.channel_id == channel,
                Prompt.message_ts == ts,
            )
        )
    ).scalar_one_or_none()
    if prompt is None or prompt.team_id is None:
        return None
    team = await session.get(Team, prompt.team_id)
    lines = [
        (row.key_result_id, row.period)
        for row in (
            await session.execute(
                select(PromptLine)
                .where(PromptLine.prompt_id == prompt.id)
                .order_by(PromptLine.line_no)
            )
        ).scalars()
    ]
    live = await prompts.live_key_results(session, item.workspace_id, [kr for kr, _ in lines])
    lines = [line for line in lines if line[0] in live]
    if not lines:
        return None
    done = await prompts.checked_in(session, workspace_id=item.workspace_id, lines=lines)
    message, _ = await prompts.message_for(
        session,
        workspace_id=item.workspace_id,
        kind="prompt",
        period=prompt.period,
        lines=lines,
        live=live,
        done=done,
        team=team,
    )
    return UpdateMessage(channel, ts, fallback_text(message), build_prompt(message))
