"""One tick of the clock: load the snapshot, work out what is due, insert it into the outbox.

Inserts skip rows whose idempotency key exists (ON CONFLICT DO NOTHING), so two ticks that
race, or a tick repeated after a crash, add nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.due import OutboxDue, due
from bot.jobs.snapshot import load_snapshot
from bot.models import OutboxItem
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.cycle_end import cycle_end_steps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickResult:
    considered: int
    inserted: int


def outbox_row(item: OutboxDue) -> dict[str, object]:
    return {
        "workspace_id": item.workspace_id,
        "kind": item.kind,
        "idempotency_key": item.key,
        "target": item.target,
        "period": item.period,
        "priority": item.priority,
        "state": "pending",
        "payload": item.payload(),
        "attempts": 0,
        "next_attempt_at": item.send_at,
    }


async def enqueue(session: AsyncSession, items: Iterable[OutboxDue]) -> int:
    """Insert outbox rows for `items`, skipping keys already there; returns how many are new."""
    rows = [outbox_row(item) for item in items]
    inserted = 0
    for start in range(0, len(rows), 500):
        statement = insert_ignoring_conflicts(
            session, OutboxItem, rows[start : start + 500], conflict_columns=["idempotency_key"]
        )
        result = await session.execute(statement.returning(OutboxItem.id))
        inserted += len(result.all())
    revived = await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.idempotency_key.in_([row["idempotency_key"] for row in rows]),
            OutboxItem.state == "cancelled",
        )
        .values(state="pending", error=None, attempts=0)
        .returning(OutboxItem.id)
    )
    return inserted + len(revived.all())


async def tick(
    session: AsyncSession,
    now: datetime,
    *,
    workspace_ids: Iterable[int] | None = None,
    started: dict[int, datetime] | None = None,
) -> TickResult:
    """Insert every prompt, DM and reminder owed at `now`. The caller commits."""
    scope = list(workspace_ids) if workspace_ids is not None else None
    await cycle_end_steps(session, now=now, workspace_ids=scope)
    snapshot = await load_snapshot(session, now=now, workspace_ids=scope, started=started)
    items = due(now, snapshot)
    inserted = await enqueue(session, items) if items else 0
    if inserted:
        log.info("tick queued", extra={"considered": len(items), "inserted": inserted})
    return TickResult(len(items), inserted)
