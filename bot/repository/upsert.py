"""INSERT ... ON CONFLICT DO NOTHING on both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def ignoring_conflicts(
    session: AsyncSession, table: Any, *, conflict_columns: Sequence[str] | None = None
) -> Insert:
    """The same INSERT without values, executed with a list of rows (`session.execute(stmt,
    rows)`): one compiled statement for any number of rows, where a multi-row VALUES is
    compiled anew each time."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)  # type: ignore[no-any-return]


def insert_ignoring_conflicts(
    session: AsyncSession,
    table: Any,
    rows: Sequence[dict[str, Any]] | dict[str, Any],
    *,
    conflict_columns: Sequence[str] | None = None,
) -> Insert:
    """An INSERT that skips rows violating a unique key (all keys when no columns given)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(rows)
    return statement.on_conflict_do_nothing(index_elements=conflict_columns)  # type: ignore[no-any-return]
