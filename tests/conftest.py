from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.config import Settings
from bot.db import make_async_engine
from tests.cli_env import SETTINGS_ENV_VARS
from tests.databases import (
    BACKENDS,
    Database,
    Template,
    clone,
    create_template,
    drop_template,
    require_backend,
)

pytest_plugins = ["tests.ceremony_fixtures", "tests.sandbox_fixtures"]

# Derandomized in CI, a capped number of examples, no example database on disk.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, database=None, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Tests never read a developer's .env or Slack settings from the environment.
for _name in SETTINGS_ENV_VARS:
    os.environ.pop(_name, None)
Settings.model_config["env_file"] = None


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("databases")


_templates: dict[str, Template] = {}


def template_for(backend: str, workdir: Path) -> Template:
    require_backend(backend)
    if backend not in _templates:
        _templates[backend] = create_template(backend, workdir)
    return _templates[backend]


_shared: dict[str, Database] = {}


def shared_database_for(backend: str, workdir: Path) -> Database:
    """One migrated database per backend for tests that roll back everything they write."""
    if backend not in _shared:
        _shared[backend] = clone(template_for(backend, workdir), backend, workdir)
    return _shared[backend]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for db in _shared.values():
        db.drop()
    for template in _templates.values():
        drop_template(template)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, workdir: Path) -> Iterator[Database]:
    """A migrated database of this test's own, on each backend."""
    db = clone(template_for(backend, workdir), backend, workdir)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def empty_database(backend: str, workdir: Path) -> Iterator[Database]:
    """An empty database (no tables), on each backend, for migration tests."""
    require_backend(backend)
    db = clone(None, backend, workdir)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(database.urls)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def session(backend: str, workdir: Path) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back: its commits become
    savepoints, and nothing it writes outlives the test."""
    shared_engine = make_async_engine(shared_database_for(backend, workdir).urls)
    async with shared_engine.connect() as connection:
        transaction = await connection.begin()
        db_session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db_session
        finally:
            await db_session.close()
            await transaction.rollback()
    await shared_engine.dispose()
