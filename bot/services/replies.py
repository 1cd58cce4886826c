"""Which check-in message a threaded reply or a DM answers; `services/intake.py` records it."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxItem, Prompt
from bot.models.outbox_keys import Kind


async def prompt_for(
    session: AsyncSession,
    *,
    workspace_id: int,
    channel: str,
    thread_ts: str | None,
    person_id: int | None,
    is_dm: bool,
    message_ts: str | None = None,
) -> Prompt | None:
    """The prompt a message answers: its thread's parent, or in a DM the latest DM prompt
    posted before the message (so an edit still answers what the message first answered)."""
    if thread_ts:
        found = (
            await session.execute(
                select(Prompt).where(
                    Prompt.workspace_id == workspace_id,
                    Prompt.channel_id == channel,
                    Prompt.message_ts == thread_ts,
                )
            )
        ).scalar_one_or_none()
        if found is not None or not is_dm:
            return found
    if not is_dm or person_id is None:
        return None
    return (
        await session.execute(
            select(Prompt)
            .where(
                Prompt.workspace_id == workspace_id,
                Prompt.kind == "dm",
                Prompt.person_id == person_id,
                Prompt.channel_id == channel,
                *([Prompt.message_ts < message_ts] if message_ts else []),
            )
            .order_by(Prompt.message_ts.desc(), Prompt.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def dm_not_recorded_yet(session: AsyncSession, *, workspace_id: int, person_id: int) -> bool:
    """Whether a check-in DM or reminder to this person may be posted but not recorded yet
    (its outbox row is still `sending`): a reply in the DM then waits for the record, so that
    `#1` means a line of the message the person sees, not of last week's."""
    prefixes = [
        f"{Kind.DM}:{workspace_id}:{person_id}:",
        f"{Kind.REMINDER}:{workspace_id}:{person_id}:",
    ]
    found = await session.execute(
        select(OutboxItem.id)
        .where(
            OutboxItem.state == "sending",
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.kind.in_((Kind.DM, Kind.REMINDER)),
            or_(*(OutboxItem.idempotency_key.startswith(p, autoescape=True) for p in prefixes)),
        )
        .limit(1)
    )
    return found.first() is not None
