"""The audit trail: who changed what, when, from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Audit


async def record(
    session: AsyncSession,
    *,
    workspace_id: int,
    action: str,
    entity: str,
    entity_id: int | None,
    source: str,
    actor_person_id: int | None = None,
    actor_slack_id: str | None = None,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
) -> Audit:
    row = Audit(
        workspace_id=workspace_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        source=source,
        actor_person_id=actor_person_id,
        actor_slack_id=actor_slack_id,
        changes=changes or {},
        note=note,
    )
    session.add(row)
    return row
