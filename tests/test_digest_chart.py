"""The team digest's chart: one PNG a team round, uploaded unshared and posted in the digest's
thread as an image block by its own outbox row (`chart:<ws>:<team>:<period>`), so a crash or a
timeout between the upload and the post still ends with one chart message and one live file;
none for a digest posted by hand or a team with no objectives; the migration that allows the
kind, both ways, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from bot import migrate
from bot.db import make_sync_engine
from bot.models.outbox_keys import OUTBOX_KINDS
from tests.databases import Database

REFUSED = "ck_outbox_kind_allowed"


def _insert_chart_row(connection: Connection, *, workspace: bool = True) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    if workspace:
        connection.execute(
            text(
                "INSERT INTO workspace (id, slack_team_id, name, timezone, settings, state,"
                " created_at, updated_at)"
                " VALUES (1, 'T1', 'Acme', 'UTC', '{}', 'active', :now, :now)"
            ),
            {"now": now},
        )
    connection.execute(
        text(
            "INSERT INTO outbox (workspace_id, kind, idempotency_key, target, period, priority,"
            " state, step, payload, attempts, next_attempt_at, created_at, updated_at)"
            " VALUES (1, 'chart', 'chart:1:1:2026-W49', '1', '2026-W49', 70, 'pending', 0,"
            " '{}', 0, :now, :now, :now)"
        ),
        {"now": now},
    )


def test_the_migration_allows_chart_rows_and_takes_them_back(empty_database: Database) -> None:
    engine = make_sync_engine(empty_database.urls)
    try:
        with engine.connect() as connection:
            migrate.run_on(connection, revision="0002")
            with pytest.raises(IntegrityError, match=REFUSED), connection.begin():
                _insert_chart_row(connection)
        with engine.connect() as connection:
            migrate.run_on(connection, revision="head")
            with connection.begin():
                _insert_chart_row(connection)
        with engine.connect() as connection:
            migrate.run_on(connection, revision="0002", downgrade=True)
            with connection.begin():
                assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
            with pytest.raises(IntegrityError, match=REFUSED), connection.begin():
                _insert_chart_row(connection, workspace=False)
    finally:
        engine.dispose()


def test_every_kind_of_the_model_is_allowed_at_head(database: Database) -> None:
    """Alembic's drift check does not compare CHECK constraints: this does, for the kinds."""
    engine = make_sync_engine(database.urls)
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    try:
        with engine.connect() as connection, connection.begin():
            _insert_chart_row(connection)
            for n, kind in enumerate(OUTBOX_KINDS):
                connection.execute(
                    text(
                        "INSERT INTO outbox (workspace_id, kind, idempotency_key, target,"
                        " priority, state, step, payload, attempts, next_attempt_at,"
                        " created_at, updated_at) VALUES (1, :kind, :key, '1', 1, 'pending',"
                        " 0, '{}', 0, :now, :now, :now)"
                    ),
                    {"kind": kind, "key": f"{kind}:{n}", "now": now},
                )
    finally:
        engine.dispose()
