"""Recording posted messages: the records of one moment are written in one transaction, and
outside the sender's send slots, so a slow commit (a SQLite checkpoint) never holds up the
next posts. A crash before the commit leaves rows that reconciliation finds posted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.jobs.outbox_rows import VERIFY, Claim
from bot.models import OutboxItem
from bot.services import prompts

Lines = tuple[tuple[int, str], ...]


class Recorder:
    def __init__(
        self,
        *,
        writing: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        verify_after_seconds: float,
    ) -> None:
        self._writing = writing
        self._verify_after = timedelta(seconds=verify_after_seconds)
        self._records: list[tuple[Claim, str, str, Lines, bool, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def add(self, claim: Claim, channel: str, ts: str, lines: Lines, *, verify: bool) -> None:
        """Queue the record of a posted message; `written(claim)` waits for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._records.append((claim, channel, ts, lines, verify, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        self._waiting[claim.id] = done

    async def written(self, claim: Claim) -> None:
        waiting = self._waiting.pop(claim.id, None)
        if waiting is not None:
            await waiting

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the sends answered in this moment join the batch
        while self._records:
            batch, self._records = self._records, []
            now = clock.now()
            try:
                async with self._writing() as session:
                    for claim, channel, ts, lines, verify, _done in batch:
                        row = await session.get(OutboxItem, claim.id)
                        if row is None or row.lease_until != claim.lease_until:
                            continue  # another sender holds it now: it reconciles and records
                        await prompts.record_posted(
                            session, item=row, channel=channel, ts=ts, lines=lines, now=now
                        )
                        if verify:
                            row.error = VERIFY
                            row.next_attempt_at = now + self._verify_after
            except Exception as exc:  # noqa: BLE001 - each waiting send handles it
                for *_rest, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_rest, done in batch:
                if not done.done():
                    done.set_result(None)
