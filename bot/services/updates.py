"""Keeping a round's prompt current: after answers it shows who has checked in, through one
coalescing `update` outbox row per message (at most one edit every 30 s, after prompts and
DMs). A change while the row is pending changes nothing; while it is being sent, `step`
counts the change so the sender arms the row again instead of marking it done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.checkin import build_prompt, fallback_text
from bot.models import OutboxItem, Prompt, PromptLine, Team
from bot.models.outbox_keys import Kind, priority, update_key
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services import prompts, retro_messages


@dataclass(frozen=True)
class UpdateMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


async def request_update(
    session: AsyncSession, *, prompt: Prompt, now: datetime, every_seconds: float = 30.0
) -> None:
    """Arm the prompt's update row: new, re-armed after a send, or marked changed mid-send."""
    if prompt.kind != "round":
        return
    await arm_update(
        session,
        workspace_id=prompt.workspace_id,
        channel=prompt.channel_id,
        ts=prompt.message_ts,
        period=prompt.period,
        now=now,
        every_seconds=every_seconds,
    )


async def arm_update(
    session: AsyncSession,
    *,
    workspace_id: int,
    channel: str,
    ts: str,
    period: str | None,
    now: datetime,
    every_seconds: float = 30.0,
) -> None:
    """Arm the coalescing update of one posted message (a round's prompt, a retro poll)."""
    key = update_key(workspace_id, channel, ts)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            OutboxItem,
            {
                "workspace_id": workspace_id,
                "kind": Kind.UPDATE,
                "idempotency_key": key,
                "target": channel,
                "period": period,
                "priority": priority(Kind.UPDATE),
                "state": "pending",
                "payload": {"channel": channel, "ts": ts},
                "attempts": 0,
                "next_attempt_at": now,
            },
            conflict_columns=["idempotency_key"],
        ).returning(OutboxItem.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return
    # Conditional updates: a sender may be finishing this row at the same moment.
    for _attempt in range(3):
        found = (
            await session.execute(
                select(OutboxItem.state, OutboxItem.sent_at).where(
                    OutboxItem.idempotency_key == key
                )
            )
        ).one()
        state, sent_at = found
        if state == "pending":
            return
        if state == "sending":  # counted: the sender arms it again when it finishes
            changed = (
                update(OutboxItem)
                .where(OutboxItem.idempotency_key == key, OutboxItem.state == "sending")
                .values(step=OutboxItem.step + 1)
            )
        else:
            after = max(now, (sent_at or now) + timedelta(seconds=every_seconds))
            changed = (
                update(OutboxItem)
                .where(OutboxItem.idempotency_key == key, OutboxItem.state == state)
                .values(state="pending", error=None, next_attempt_at=after)
            )
        if (await session.execute(changed.returning(OutboxItem.id))).first() is not None:
            return


async def refresh_rounds(
    session: AsyncSession,
    *,
    workspace_id: int,
    lines: set[tuple[int, str]],
    now: datetime,
    every_seconds: float = 30.0,
) -> int:
    """Arm the update of every round prompt that shows one of `lines` (key result, period):
    however a check-in arrives (thread, DM, modal, command), the channel sees it."""
    if not lines:
        return 0
    prompts_found = (
        await session.execute(
            select(Prompt)
            .join(PromptLine, PromptLine.prompt_id == Prompt.id)
            .where(
                Prompt.workspace_id == workspace_id,
                Prompt.kind == "round",
                PromptLine.key_result_id.in_({kr for kr, _ in lines}),
                PromptLine.period.in_({period for _, period in lines}),
            )
            .distinct()
        )
    ).scalars()
    count = 0
    for prompt in prompts_found:
        await request_update(session, prompt=prompt, now=now, every_seconds=every_seconds)
        count += 1
    return count


async def finish_update(
    session: AsyncSession,
    *,
    row_id: int,
    lease_until: datetime,
    now: datetime,
    claimed_step: int,
    every: float,
) -> None:
    """After a successful edit: done, or pending again when answers came in meanwhile (in
    one statement, so a concurrent `request_update` is never lost)."""
    unchanged = OutboxItem.step == claimed_step
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == row_id, OutboxItem.lease_until == lease_until)
        .values(
            state=case((unchanged, "sent"), else_="pending"),
            next_attempt_at=case(
                (unchanged, OutboxItem.next_attempt_at), else_=now + timedelta(seconds=every)
            ),
            sent_at=now,
            lease_until=None,
            error=None,
        )
    )


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
    if prompt is None:  # a retrospective poll's live count, else gone
        poll = await retro_messages.poll_update(session, item=item, channel=channel, ts=ts)
        return UpdateMessage(channel, ts, *poll) if poll is not None else None
    if prompt.team_id is None:
        return None
    team = await session.get(Team, prompt.team_id)
    numbered = [
        (row.line_no, (row.key_result_id, row.period))
        for row in (
            await session.execute(
                select(PromptLine)
                .where(PromptLine.prompt_id == prompt.id)
                .order_by(PromptLine.line_no)
            )
        ).scalars()
    ]
    live = await prompts.live_key_results(
        session, item.workspace_id, [kr for _, (kr, _p) in numbered]
    )
    numbered = [(n, line) for n, line in numbered if line[0] in live]
    if not numbered:
        return None
    lines = [line for _, line in numbered]
    done = await prompts.checked_in(session, workspace_id=item.workspace_id, lines=lines)
    message, _ = await prompts.message_for(
        session,
        workspace_id=item.workspace_id,
        kind=Kind.PROMPT,
        period=prompt.period,
        lines=lines,
        live=live,
        done=done,
        team=team,
        numbers=[n for n, _ in numbered],
    )
    return UpdateMessage(channel, ts, fallback_text(message), build_prompt(message))
