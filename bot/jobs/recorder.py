"""Recording posted messages: the records of one moment are written in one transaction, and
outside the sender's send slots, so a slow commit (a SQLite checkpoint) never holds up the
next posts. A crash before the commit leaves rows that reconciliation finds posted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.jobs.outbox_rows import VERIFY
from bot.services.posted import Posted, record_posted

GATHER_SECONDS = 0.05


class Recorder:
    def __init__(
        self,
        *,
        writing: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        verify_after_seconds: float,
    ) -> None:
        self._writing = writing
        self._verify_after = timedelta(seconds=verify_after_seconds)
        self._records: list[tuple[Posted, bool, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._now = asyncio.Event()

    def add(self, posted: Posted, *, verify: bool, gather: bool = False) -> None:
        """Queue the record of a posted message; `written(outbox_id)` waits for it. With
        `verify`, a check for a duplicate stays owed (the post went out unverified). With
        `gather` (sends are being paced, so more answers come within moments) it waits up to
        GATHER_SECONDS for them to share its transaction; otherwise it is written now."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._records.append((posted, verify, done))
        if not gather:
            self._now.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        self._waiting[posted.outbox_id] = done

    async def written(self, outbox_id: int) -> None:
        waiting = self._waiting.pop(outbox_id, None)
        if waiting is not None:
            await waiting

    async def _flush(self) -> None:
        # Let the sends answered about now join the batch: paced sends answer one at a time,
        # and a transaction per message was most of the sender's database work. Only records
        # of sends that waited for their workspace's budget wait here (more answers follow
        # within moments); a crash in the wait leaves those messages to reconciliation, which
        # finds each by its key.
        if not self._now.is_set():
            try:
                await asyncio.wait_for(self._now.wait(), timeout=GATHER_SECONDS)
            except TimeoutError:
                pass
        else:
            await asyncio.sleep(0)  # the sends answered in this same moment join it
        self._now.clear()
        while self._records:
            batch, self._records = self._records, []
            now = clock.now()
            posted = [
                dataclasses.replace(one, error=VERIFY, next_attempt_at=now + self._verify_after)
                if verify
                else one
                for one, verify, _done in batch
            ]
            try:
                async with self._writing() as session:
                    await record_posted(session, posted=posted, now=now)
            except Exception as exc:  # noqa: BLE001 - each waiting send handles it
                for *_rest, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_rest, done in batch:
                if not done.done():
                    done.set_result(None)
