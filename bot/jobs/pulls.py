"""The pull runner: drains the outbox's `pull` rows, apart from the Slack sender, so a slow
source never holds a message back. Paced by its own limit (`METRIC_PULL_CONCURRENCY` fetches
at once), not Slack's.

A row is claimed (state `sending`, a lease) and committed before its source is fetched; the
fetch runs with no transaction open; the value (through the check-in intake) or the error,
and the row's end, are committed together. A runner that dies mid-fetch leaves the lease to
run out, and the row is pulled again: the intake's key (the outbox key) makes that harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import readers_for
from bot.models import OutboxItem, Workspace
from bot.models.outbox_keys import Kind
from bot.services import metric_sources
from bot.services.metric_sources import PullJob
from bot.slack.tokens import TokenCipher
from bot.sources.fetch import MetricSource, PullResult

log = logging.getLogger(__name__)


class PullRunner:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        source: MetricSource,
        cipher: TokenCipher,
        concurrency: int = 16,
        lease_seconds: float = 120.0,
    ) -> None:
        self.sessions = sessions
        self.readers = readers_for(sessions)
        self.source = source
        self.cipher = cipher
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self._gate = asyncio.Semaphore(concurrency)
        self.pulled = 0
        self.failed = 0

    async def claim(self, now: datetime, *, batch: int) -> list[int]:
        lease = now + timedelta(seconds=self.lease_seconds)
        ready = or_(
            and_(OutboxItem.state == "pending", OutboxItem.next_attempt_at <= now),
            and_(OutboxItem.state == "sending", OutboxItem.lease_until < now),
        )
        acting = or_(Workspace.paused_until.is_(None), Workspace.paused_until <= now)
        async with self.sessions.begin() as session:
            query = (
                select(OutboxItem.id)
                .join(Workspace, Workspace.id == OutboxItem.workspace_id)
                .where(OutboxItem.kind == Kind.PULL, ready, Workspace.state == "active", acting)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=OutboxItem, skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if ids:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_(ids))
                    .values(state="sending", attempts=OutboxItem.attempts + 1, lease_until=lease)
                    .execution_options(synchronize_session=False)
                )
        return ids

    async def run_once(self) -> int:
        """Claim a batch and pull it (`concurrency` at once); returns how many were claimed."""
        ids = await self.claim(clock.now(), batch=self.concurrency * 4)
        if not ids:
            return 0
        async with self.readers() as session:
            rows = (
                await session.execute(select(OutboxItem).where(OutboxItem.id.in_(ids)))
            ).scalars()
            jobs = [
                await metric_sources.pull_job(session, item=row, cipher=self.cipher) for row in rows
            ]
        await asyncio.gather(*(self._pull(job) for job in jobs))
        return len(ids)

    async def drain(self) -> int:
        """Pull until nothing is ready (tests, benchmarks, `/okr refresh` in the sandbox)."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def _pull(self, job: PullJob) -> None:
        try:
            if job.error is not None:
                result = PullResult(error=job.error)
            elif job.spec is None:
                result = PullResult(error="This key result has no source any more.")
            else:
                async with self._gate:
                    result = await self.source.pull(job.spec, secret=job.secret)
            await self._finish(job, result)
        except Exception:
            log.exception("pull failed", extra={"outbox_key": job.key})

    async def _finish(self, job: PullJob, result: PullResult) -> None:
        now = clock.now()
        async with self.sessions.begin() as session:
            error = await metric_sources.record_pull(session, job=job, result=result, now=now)
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.idempotency_key == job.key)
                .values(
                    state="failed" if error else "sent",
                    error=error[:500] if error else None,
                    sent_at=now,
                    lease_until=None,
                )
            )
        if error:
            self.failed += 1
            log.info("pull gave no value", extra={"outbox_key": job.key})
        else:
            self.pulled += 1
