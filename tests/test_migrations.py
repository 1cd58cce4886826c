"""Migrations on SQLite and PostgreSQL: one head, up/down round trip, no model drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Column, Engine, MetaData, String, inspect

from bot import migrate
from bot.db import make_sync_engine
from bot.models import Base
from tests.databases import Database

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture
def alembic_config() -> object:
    return migrate.alembic_config()


@pytest.fixture
def alembic_engine(empty_database: Database) -> Iterator[Engine]:
    engine = make_sync_engine(empty_database.urls)
    try:
        yield engine
    finally:
        engine.dispose()


def _diff_against(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, metadata))


def test_drift_check_sees_a_column_added_without_a_migration(database: Database) -> None:
    """The check behind test_model_definitions_match_ddl would fail on a forgotten column."""
    engine = make_sync_engine(database.urls)
    try:
        assert _diff_against(engine, Base.metadata) == []
        changed = MetaData(naming_convention=Base.metadata.naming_convention)
        for table in Base.metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["key_result"].append_column(Column("forgotten", String(10)))
        diff = _diff_against(engine, changed)
        assert [(d[0], d[3].name) for d in diff if isinstance(d, tuple)] == [
            ("add_column", "forgotten")
        ]
    finally:
        engine.dispose()


def test_migrate_is_idempotent_at_head(database: Database) -> None:
    migrate.upgrade(database.urls)  # already at head: nothing to do, nothing breaks
    engine = make_sync_engine(database.urls)
    try:
        with engine.connect() as connection:
            assert migrate.current_revisions(connection) == migrate.head_revisions()
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()
