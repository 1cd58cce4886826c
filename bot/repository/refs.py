"""Short public ids (`O7`, `KR12`): one counter per workspace and kind, never reused."""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import RefCounter
from bot.repository.upsert import insert_ignoring_conflicts

RefKind = Literal["O", "KR"]
_REF = re.compile(r"^\s*(KR|O)\s*-?\s*(\d{1,9})\s*$", re.IGNORECASE)


async def next_ref_number(session: AsyncSession, *, workspace_id: int, kind: RefKind) -> int:
    """The next number for `kind` in the workspace; concurrent callers never get the same."""
    await session.execute(
        insert_ignoring_conflicts(
            session,
            RefCounter,
            {"workspace_id": workspace_id, "kind": kind, "last_value": 0},
            conflict_columns=["workspace_id", "kind"],
        )
    )
    result = await session.execute(
        update(RefCounter)
        .where(RefCounter.workspace_id == workspace_id, RefCounter.kind == kind)
        .values(last_value=RefCounter.last_value + 1)
        .returning(RefCounter.last_value)
    )
    return int(result.scalar_one())


def parse_ref(text: str) -> tuple[RefKind, int] | None:
    """`O7`, `kr12`, `KR-12` -> ("KR", 12); anything else -> None."""
    match = _REF.match(text)
    if match is None:
        return None
    kind: RefKind = "KR" if match.group(1).upper() == "KR" else "O"
    return kind, int(match.group(2))
