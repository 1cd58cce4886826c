"""`column IN (ids)` that costs the same however many ids: on PostgreSQL one array parameter
(`= ANY(...)`) instead of one parameter each, which the driver and the server would parse
anew for every list length (a batch's digests ask about hundreds of ids at once)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute


def among(
    session: AsyncSession,
    column: QueryableAttribute[Any] | ColumnElement[Any],
    ids: Collection[int],
) -> ColumnElement[bool]:
    """`column` is one of `ids` (an empty collection matches nothing)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return column == any_(literal(sorted(ids), ARRAY(Integer)))
    return column.in_(ids)
