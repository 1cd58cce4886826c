"""Engines and sessions: SQLite by default (WAL, foreign keys, BEGIN IMMEDIATE), PostgreSQL
through psycopg 3. The app uses the async engine; Alembic and subprocess tools the sync one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.config import DatabaseUrls

WRITER_OPTION = "okr_writer"


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(sync_engine: Engine, *, busy_timeout_seconds: float) -> None:
    """Foreign keys on every connection, WAL, and explicit transactions. Writers (sessions
    from `make_sessionmaker`) take the write lock up front with BEGIN IMMEDIATE, so two writers
    queue instead of failing mid-transaction; readers begin deferred and never wait in WAL.
    """

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITER_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _engine_kwargs(urls: DatabaseUrls, *, pool_timeout: float = 30.0) -> dict[str, Any]:
    # hide_parameters: a database error's text must not carry what people wrote into logs.
    if urls.dialect == "postgresql":
        return {"pool_pre_ping": True, "hide_parameters": True, "pool_timeout": pool_timeout}
    return {"hide_parameters": True}


def make_async_engine(
    urls: DatabaseUrls,
    *,
    busy_timeout_seconds: float = 15.0,
    pool_timeout_seconds: float = 30.0,
) -> AsyncEngine:
    """`pool_timeout_seconds`: how long a request waits for a free PostgreSQL connection; the
    app keeps it under Slack's 3 s so a busy pool answers "try again", not nothing."""
    if urls.dialect == "sqlite":
        _ensure_sqlite_dir(urls.async_url)
    engine = create_async_engine(
        urls.async_url, **_engine_kwargs(urls, pool_timeout=pool_timeout_seconds)
    )
    if urls.dialect == "sqlite":
        _configure_sqlite(engine.sync_engine, busy_timeout_seconds=busy_timeout_seconds)
    return engine


def make_sync_engine(urls: DatabaseUrls, *, busy_timeout_seconds: float = 15.0) -> Engine:
    if urls.dialect == "sqlite":
        _ensure_sqlite_dir(urls.sync_url)
    engine = create_engine(urls.sync_url, **_engine_kwargs(urls))
    if urls.dialect == "sqlite":
        _configure_sqlite(engine, busy_timeout_seconds=busy_timeout_seconds)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work that write (BEGIN IMMEDIATE on SQLite)."""
    return async_sessionmaker(
        engine.execution_options(**{WRITER_OPTION: True}), expire_on_commit=False
    )


def make_reader_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read: on SQLite they never wait for a writer. Never write with one."""
    return async_sessionmaker(engine, expire_on_commit=False)


def readers_for(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Reader sessions on the same engine as writer `sessions`."""
    bind = sessions.kw["bind"]
    return async_sessionmaker(
        bind.execution_options(**{WRITER_OPTION: False}), expire_on_commit=False
    )
