"""Run and inspect Alembic migrations (synchronously, outside any event loop)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.config import DatabaseUrls, project_root
from bot.db import make_sync_engine


class MigrationError(RuntimeError):
    """A migration left the database inconsistent (e.g. dangling foreign keys on SQLite)."""


def alembic_config() -> Config:
    root = project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """On SQLite, turn foreign keys off while a migration runs: batch mode recreates tables,
    and dropping a referenced table with foreign keys on would cascade deletes into its
    children. Checked afterwards. On PostgreSQL this does nothing.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = dbapi.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise MigrationError(f"foreign keys broken by the migration: {problems[:5]}")
    finally:
        dbapi.execute("PRAGMA foreign_keys=ON")


def run_on(connection: Connection, *, revision: str = "head", downgrade: bool = False) -> None:
    """Run Alembic on an open connection (no transaction begun yet)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    with foreign_keys_deferred(connection):
        if downgrade:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
        connection.commit()


def upgrade(urls: DatabaseUrls, *, revision: str = "head") -> None:
    """Migrate the database at `urls` to `revision` (nothing to do at head)."""
    engine = make_sync_engine(urls)
    try:
        with engine.connect() as connection:
            run_on(connection, revision=revision)
    finally:
        engine.dispose()
