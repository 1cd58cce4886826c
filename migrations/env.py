"""Alembic environment: runs synchronously, never inside an event loop.

The connection comes from, in order: `config.attributes["connection"]` (a connection from
`bot.migrate`, or an engine from pytest-alembic), `-x url=...`, or DATABASE_URL through
bot.config.Settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, Engine

from bot.config import database_urls, load_settings
from bot.db import make_sync_engine
from bot.migrate import foreign_keys_deferred
from bot.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure(given)
        return
    if isinstance(given, Engine):  # pytest-alembic hands over an engine
        with given.connect() as conn, foreign_keys_deferred(conn):
            _configure(conn)
            conn.commit()
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    urls = database_urls(url) if url else load_settings().database
    engine = make_sync_engine(urls)
    try:
        with engine.connect() as conn, foreign_keys_deferred(conn):
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
