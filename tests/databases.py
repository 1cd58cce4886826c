"""Test databases: migrate once per run into a template, then clone it cheaply.

PostgreSQL: `CREATE DATABASE t_<n> TEMPLATE okr_template_<pid>`; SQLite: copy the migrated
file. `TEST_DATABASE_URL` selects the server; `REQUIRE_POSTGRES=1` turns "unreachable" into
a failure instead of a skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import migrate
from bot.config import DatabaseUrls, database_urls

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count(1)


def postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = create_engine(database_urls(postgres_admin_url()).sync_url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def require_backend(backend: str) -> None:
    if backend != "postgresql":
        return
    problem = postgres_available()
    if problem is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (REQUIRE_POSTGRES=1) but unreachable: {problem}")
    pytest.skip(f"PostgreSQL unreachable: {problem}")


def _admin_execute(statement: str) -> None:
    urls = database_urls(postgres_admin_url())
    engine = create_engine(urls.sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _postgres_urls(name: str) -> DatabaseUrls:
    base = make_url(database_urls(postgres_admin_url()).sync_url)
    return database_urls(base.set(database=name).render_as_string(hide_password=False))


@dataclass
class Template:
    backend: str
    location: str  # SQLite file path or PostgreSQL database name


def create_template(backend: str, workdir: Path) -> Template:
    if backend == "sqlite":
        path = workdir / "template.db"
        migrate.upgrade(database_urls(f"sqlite:///{path}"))
        return Template(backend, str(path))
    name = f"okr_template_{os.getpid()}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(_postgres_urls(name))
    return Template(backend, name)


def drop_template(template: Template) -> None:
    if template.backend == "postgresql":
        _admin_execute(f'DROP DATABASE IF EXISTS "{template.location}" WITH (FORCE)')


@dataclass
class Database:
    backend: str
    urls: DatabaseUrls
    name: str

    def drop(self) -> None:
        if self.backend == "postgresql":
            _admin_execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)


def clone(template: Template | None, backend: str, workdir: Path) -> Database:
    """A database of its own: a copy of the migrated template, or empty if template is None."""
    n = next(_counter)
    if backend == "sqlite":
        path = workdir / f"db_{n}.db"
        if template is not None:
            shutil.copyfile(template.location, path)
        return Database(backend, database_urls(f"sqlite:///{path}"), str(path))
    name = f"t_{os.getpid()}_{n}"
    if template is None:
        _admin_execute(f'CREATE DATABASE "{name}"')
    else:
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.location}"')
    return Database(backend, _postgres_urls(name), name)
