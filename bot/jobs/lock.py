"""Only one clock acts: a PostgreSQL session-level advisory lock on a connection of its own
(a crashed holder frees it), or an OS lock on a file beside the SQLite database. The lock is
checked every tick; a clock that lost it stops acting until it wins it back."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

CLOCK_LOCK_ID = 0x6F6B72  # "okr": one advisory lock id for the clock
WORKER_LOCK_SUFFIX = ".worker.lock"
CLOCK_LOCK_SUFFIX = ".clock.lock"


class SingletonLock:
    def __init__(self, engine: AsyncEngine, *, lock_id: int = CLOCK_LOCK_ID, suffix: str) -> None:
        self._engine = engine
        self._lock_id = lock_id
        self._suffix = suffix
        self._connection: AsyncConnection | None = None
        self._fd: int | None = None
        # The sender's lanes and the tick ask at once; one connection takes one query at a
        # time, so they take turns (a refused overlap would read as a lost lock).
        self._asking = asyncio.Lock()

    @property
    def is_postgresql(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def _path(self) -> Path:
        database = self._engine.url.database or "okr.db"
        return Path(f"{database}{self._suffix}")

    async def acquire(self) -> bool:
        """True when this process holds the lock (now or already)."""
        async with self._asking:
            return await self._acquire()

    async def _acquire(self) -> bool:
        if await self._held():
            return True
        if self.is_postgresql:
            connection = await self._engine.connect()
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:id)"), {"id": self._lock_id}
                )
            ).scalar_one()
            await connection.commit()
            if got:
                self._connection = connection
                return True
            await connection.close()
            return False
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    async def held(self) -> bool:
        """Still ours? On PostgreSQL this asks the server over the lock's own connection."""
        if self._fd is not None:
            return True
        async with self._asking:
            return await self._held()

    async def _held(self) -> bool:
        if self._fd is not None:
            return True
        if self._connection is None:
            return False
        try:
            count = (
                await self._connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = :id AND pid = pg_backend_pid() AND granted"
                    ),
                    {"id": self._lock_id},
                )
            ).scalar_one()
            await self._connection.commit()
        except Exception:  # noqa: BLE001 - a dead connection means the lock is gone
            log.warning("clock lock connection lost")
            await self._drop_connection()
            return False
        if not count:
            await self._drop_connection()
        return bool(count)

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # noqa: BLE001
                pass

    async def release(self) -> None:
        async with self._asking:
            await self._release()

    async def _release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": self._lock_id}
                )
                await self._connection.commit()
            finally:
                await self._connection.close()
                self._connection = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
