"""What the snapshot knows of metric pulls: which active key results have a source, and
which pull keys of the weeks near now are queued (any state: a failed pull is not retried by
the clock; `/okr refresh` asks again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import KeyResult, OutboxItem
from bot.models.outbox_keys import Kind


async def pull_rows(
    session: AsyncSession, workspace_ids: list[int], periods: list[str]
) -> dict[str, Any]:
    sourced = await session.execute(
        select(KeyResult.id).where(
            KeyResult.workspace_id.in_(workspace_ids),
            KeyResult.state == "active",
            KeyResult.metric_source.is_not(None),
        )
    )
    queued = await session.execute(
        select(OutboxItem.idempotency_key).where(
            OutboxItem.workspace_id.in_(workspace_ids),
            OutboxItem.kind == Kind.PULL,
            OutboxItem.period.in_(periods),
        )
    )
    return {"sourced": frozenset(sourced.scalars()), "pulls": frozenset(queued.scalars())}
