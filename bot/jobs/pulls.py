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
from bot.services import metric_pulls
from bot.services.metric_pulls import PullJob
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
        """Claim a batch, fetch it (`concurrency` at once, no transaction open), and record
        it in one transaction (a savepoint each); returns how many were claimed."""
        ids = await self.claim(clock.now(), batch=self.concurrency * 4)
        if not ids:
            return 0
        async with self.readers() as session:
            rows = (
                await session.execute(select(OutboxItem).where(OutboxItem.id.in_(ids)))
            ).scalars()
            jobs = [
                await metric_pulls.pull_job(session, item=row, cipher=self.cipher) for row in rows
            ]
        results = await asyncio.gather(*(self._fetch(job) for job in jobs))
        await self._finish(list(zip(jobs, results, strict=True)))
        return len(ids)

    async def drain(self, *, lanes: int = 2) -> int:
        """Pull until nothing is ready (tests, benchmarks). Two lanes overlap: one records
        while the other fetches."""
        total = 0

        async def lane() -> None:
            nonlocal total
            while handled := await self.run_once():
                total += handled

        await asyncio.gather(*(lane() for _ in range(lanes)))
        return total

    async def _fetch(self, job: PullJob) -> PullResult:
        if job.error is not None:
            return PullResult(error=job.error)
        if job.spec is None:
            return PullResult(error="This key result has no source any more.")
        try:
            async with self._gate:
                return await self.source.pull(job.spec, secret=job.secret)
        except Exception:
            log.exception("pull failed", extra={"outbox_key": job.key})
            return PullResult(error="The pull failed unexpectedly; it is tried again next round.")

    async def _finish(self, done: list[tuple[PullJob, PullResult]]) -> None:
        """The batch's records in one transaction; if one fails unexpectedly, each again in a
        transaction of its own, so one bad row never holds back the others."""
        try:
            async with self.sessions.begin() as session:
                held = await metric_pulls.hold_batch(
                    session, key_result_ids=[job.key_result_id for job, _ in done]
                )
                errors: list[str | None] = [
                    await self._record(session, job, result) for job, result in done
                ]
                del held
        except Exception:
            log.exception("recording a batch of pulls failed; recording them one by one")
            errors = []
            for job, result in done:
                try:
                    async with self.sessions.begin() as session:
                        errors.append(await self._record(session, job, result))
                except Exception:
                    log.exception("recording a pull failed", extra={"outbox_key": job.key})
                    async with self.sessions.begin() as session:
                        failure = "The pulled value could not be recorded."
                        await self._end(session, job, failure, clock.now())
                        errors.append(failure)
        for job, error in zip((job for job, _ in done), errors, strict=True):
            if error:
                self.failed += 1
                log.info("pull gave no value", extra={"outbox_key": job.key})
            else:
                self.pulled += 1

    async def _record(self, session: AsyncSession, job: PullJob, result: PullResult) -> str | None:
        now = clock.now()
        error = await metric_pulls.record_pull(session, job=job, result=result, now=now)
        await self._end(session, job, error, now)
        return error

    @staticmethod
    async def _end(session: AsyncSession, job: PullJob, error: str | None, now: datetime) -> None:
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
