"""Declarative base, naming convention and the column types every table shares."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on both databases (SQLite keeps no zone; naive input is refused)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored: use bot.clock.now() or an aware datetime")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column: str, values: Iterable[str], *, name: str | None = None) -> CheckConstraint:
    """A CHECK that a text column holds one of `values` (portable stand-in for an enum)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_allowed")


def workspace_fk(**kwargs: Any) -> Mapped[int]:
    """Every row belongs to one workspace; purging the workspace removes the row."""
    return mapped_column(
        Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, **kwargs
    )


def _now() -> datetime:
    from bot import clock

    return clock.now()


def created_column() -> Mapped[datetime]:
    """When a row was written, from `bot.clock` (not the database's clock)."""
    return mapped_column(UTCDateTime, default=_now, nullable=False)


def updated_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=_now, onupdate=_now, nullable=False)


__all__ = [
    "Base",
    "UTCDateTime",
    "created_column",
    "one_of",
    "updated_column",
    "workspace_fk",
    "UTC",
]


def scoped_fk(column: str, parent: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A reference to `parent` *in the same workspace*: (workspace_id, column) must match a
    parent's (workspace_id, id), so no row can point across workspaces. Rows are never
    hard-deleted except by purging their workspace, so most references take no ON DELETE
    action; parts of a parent (members, lines, answers) go with it (CASCADE)."""
    return ForeignKeyConstraint(
        ["workspace_id", column], [f"{parent}.workspace_id", f"{parent}.id"], ondelete=ondelete
    )
