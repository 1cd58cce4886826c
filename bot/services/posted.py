"""Recording posted messages, a batch at a time: each row's outcome in one UPDATE that also
checks the sender still holds it, then one INSERT for the batch's prompt records and one for
their numbered lines (each one compiled statement run with the batch's rows), so that `#2`
in a reply means what that message showed (the DM's row stores each line's own round
period). Recording twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxItem, Person, Prompt, PromptLine
from bot.models.base import UTCDateTime
from bot.models.outbox_keys import CEREMONY_KINDS, Kind
from bot.repository.upsert import ignoring_conflicts


@dataclass(frozen=True)
class Posted:
    """A message Slack took (or one found posted by its key), to be recorded."""

    outbox_id: int
    lease_until: datetime  # the claim's: recorded only while that claim still holds the row
    kind: str
    workspace_id: int
    period: str
    person_id: int | None
    team_id: int | None
    channel: str
    ts: str
    lines: tuple[tuple[int, str], ...]
    known_im_channel: str | None = None  # the person's DM channel as known when composed
    error: str | None = None  # kept on the row (e.g. a duplicate check still owed)
    next_attempt_at: datetime | None = None  # when that check is due


async def record_posted(
    session: AsyncSession, *, posted: Sequence[Posted], now: datetime
) -> list[int]:
    """Mark each row sent and store what its message showed; returns the outbox ids recorded
    (a row another sender has taken over since is left to it)."""
    recorded = await _mark_sent(session, posted, now=now)
    ceremony = [one for one in recorded if one.kind in CEREMONY_KINDS]
    await _learn_dm_channels(session, ceremony)
    await _store_prompts(session, ceremony)
    return [one.outbox_id for one in recorded]


async def _mark_sent(
    session: AsyncSession, posted: Sequence[Posted], *, now: datetime
) -> list[Posted]:
    """Each row sent with its message, if its claim still holds it: one compiled UPDATE run
    with the batch's rows (the lease checked in its WHERE), then one read of which took."""
    if not posted:
        return []
    outbox = cast(Table, OutboxItem.__table__)
    await session.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"), outbox.c.lease_until == bindparam("held_until"))
        .values(
            state="sent",
            slack_channel=bindparam("channel"),
            slack_ts=bindparam("ts"),
            sent_at=now,
            lease_until=None,
            error=bindparam("row_error"),
            next_attempt_at=func.coalesce(
                bindparam("check_at", type_=UTCDateTime), outbox.c.next_attempt_at
            ),
        ),
        [
            {
                "row_id": one.outbox_id,
                "held_until": one.lease_until,
                "channel": one.channel,
                "ts": one.ts,
                "row_error": one.error,
                "check_at": one.next_attempt_at,
            }
            for one in posted
        ],
    )
    taken = {
        (row_id, channel, ts)
        for row_id, channel, ts in (
            await session.execute(
                select(OutboxItem.id, OutboxItem.slack_channel, OutboxItem.slack_ts).where(
                    OutboxItem.id.in_([one.outbox_id for one in posted]),
                    OutboxItem.state == "sent",
                )
            )
        ).all()
    }
    return [one for one in posted if (one.outbox_id, one.channel, one.ts) in taken]


async def _learn_dm_channels(session: AsyncSession, posted: Sequence[Posted]) -> None:
    changed = {
        one.person_id: one.channel
        for one in posted
        if one.kind != Kind.PROMPT
        and one.person_id is not None
        and one.channel != one.known_im_channel
    }
    if changed:
        await session.execute(
            update(Person),
            [{"id": person, "im_channel_id": channel} for person, channel in changed.items()],
        )


async def _store_prompts(session: AsyncSession, posted: Sequence[Posted]) -> None:
    if not posted:
        return
    rows = [
        {
            "workspace_id": one.workspace_id,
            "kind": "round" if one.kind == Kind.PROMPT else "dm",
            "outbox_id": one.outbox_id,
            "team_id": one.team_id if one.kind == Kind.PROMPT else None,
            "person_id": None if one.kind == Kind.PROMPT else one.person_id,
            "period": one.period,
            "channel_id": one.channel,
            "message_ts": one.ts,
        }
        for one in posted
    ]
    await session.execute(
        ignoring_conflicts(
            session, Prompt, conflict_columns=["workspace_id", "channel_id", "message_ts"]
        ),
        rows,
    )
    stored = await session.execute(
        select(Prompt.id, Prompt.channel_id, Prompt.message_ts).where(
            Prompt.outbox_id.in_([one.outbox_id for one in posted])
        )
    )
    prompt_ids = {(channel, ts): prompt_id for prompt_id, channel, ts in stored.all()}
    lines = [
        {
            "prompt_id": prompt_ids[(one.channel, one.ts)],
            "line_no": number,
            "workspace_id": one.workspace_id,
            "key_result_id": kr,
            "period": period,
        }
        for one in posted
        if (one.channel, one.ts) in prompt_ids
        for number, (kr, period) in enumerate(one.lines, start=1)
    ]
    if lines:
        await session.execute(ignoring_conflicts(session, PromptLine), lines)
