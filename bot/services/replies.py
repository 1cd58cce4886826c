"""Which check-in message a threaded reply or a DM answers; `services/intake.py` records it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Prompt


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
