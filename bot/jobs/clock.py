"""The clock process: APScheduler 3.x calls `tick` every `CLOCK_TICK_SECONDS`; the outbox
sender drains what the ticks queue (unless `OUTBOX_SENDER=worker`).

The scheduler remembers nothing: what is owed comes from the database each tick, so a
restart (or a run APScheduler dropped) loses nothing. Job options are explicit: one
instance, coalesced, no misfire grace limit, UTC.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import clock
from bot.app import OkrApp
from bot.db import readers_for
from bot.jobs.dm_sweep import sweep_dms
from bot.jobs.lock import CLOCK_LOCK_SUFFIX, WORKER_LOCK_SUFFIX, SingletonLock
from bot.jobs.outbox import OutboxSender
from bot.jobs.people_sync import learn_time_zones
from bot.jobs.pulls import PullRunner
from bot.jobs.replies import process_row
from bot.jobs.tick import TickResult, tick
from bot.services import api_checkins, inbox
from bot.slack.clients import WorkspaceClients
from bot.slack.tokens import TokenCipher
from bot.sources.fetch import HttpJsonSource
from bot.sources.safety import AddressPolicy, source_client

log = logging.getLogger(__name__)
TICK_JOB = "tick"


class Ceremony:
    """The weekly ceremony's moving parts for one app: ticks, the sender, inbox retries."""

    def __init__(self, app: OkrApp) -> None:
        self.app = app
        self.settings = app.settings
        self.sessions = app.sessions
        self.clients = WorkspaceClients(
            settings=app.settings,
            store=app.store,
            readers=readers_for(app.sessions),
            http=app.http,
        )
        self.sender = OutboxSender(
            sessions=app.sessions, settings=app.settings, clients=self.clients
        )
        self.missed = 0
        settings = app.settings
        self.source_http = source_client(
            policy=AddressPolicy(settings.metric_source_networks),
            timeout=settings.metric_pull_timeout_seconds,
            max_connections=settings.metric_pull_concurrency,
        )
        self.pulls = PullRunner(
            sessions=app.sessions,
            source=HttpJsonSource(
                self.source_http,
                timeout=settings.metric_pull_timeout_seconds,
                max_bytes=settings.metric_pull_max_bytes,
            ),
            cipher=TokenCipher(settings.encryption_keys()),
            concurrency=settings.metric_pull_concurrency,
            lease_seconds=settings.outbox_lease_seconds,
        )

    async def tick(self, now: datetime | None = None) -> TickResult:
        await learn_time_zones(self.sessions, self.clients)
        async with self.sessions.begin() as session:
            result = await tick(session, now or clock.now())
            await inbox.prune(session, now=now or clock.now())
            await api_checkins.prune_idempotency(session, now=now or clock.now())
        for row_id in await sweep_dms(self.sessions, self.clients, now=now or clock.now()):
            await process_row(
                self.sessions, None, row_id, clients=self.clients,
                update_every=self.settings.update_every_seconds,
            )  # fmt: skip
        await self.retry_inbox()
        return result

    async def retry_inbox(self) -> int:
        """Process inbox rows a listener did not finish (a crash, an error) by now."""
        async with readers_for(self.sessions)() as session:
            ids = await inbox.unprocessed(
                session, now=clock.now(), older_than_seconds=self.settings.inbox_retry_seconds
            )
        done = 0
        for row_id in ids:
            done += await process_row(
                self.sessions, None, row_id, clients=self.clients,
                update_every=self.settings.update_every_seconds,
            )  # fmt: skip
        return done

    async def send_forever(self, stop: asyncio.Event, lock: SingletonLock | None) -> None:
        """Slack sends and metric pulls, side by side: neither waits for the other."""
        try:
            await asyncio.gather(
                *(self._lane(stop, lock, self.sender.run_once) for _ in range(self.sender.lanes)),
                # Pulls are claimed under leases (and SKIP LOCKED on PostgreSQL), so the lane
                # needs no clock lock, and does not share the lock's one connection.
                self._lane(stop, None, self.pulls.run_once),
            )
        finally:
            await self.source_http.aclose()

    async def _lane(
        self,
        stop: asyncio.Event,
        lock: SingletonLock | None,
        run_once: Callable[[], Awaitable[int]],
    ) -> None:
        poll = self.settings.outbox_poll_seconds
        while not stop.is_set():
            handled = 0
            if lock is None or await lock.held():
                try:
                    handled = await run_once()
                except Exception:
                    log.exception("outbox round failed")
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=poll)
                except TimeoutError:
                    pass


def _listen(ceremony: Ceremony) -> object:
    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            ceremony.missed += 1
            log.warning("clock tick missed")
        elif event.exception is not None:
            log.error("clock tick failed", exc_info=event.exception)

    return on_event


def scheduler_for(ceremony: Ceremony, lock: SingletonLock) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def guarded_tick() -> None:
        if not await lock.acquire():
            log.info("another clock holds the lock; waiting")
            return
        await ceremony.tick()

    scheduler.add_job(
        guarded_tick,
        "interval",
        seconds=ceremony.settings.clock_tick_seconds,
        id=TICK_JOB,
        next_run_time=datetime.now(tz=clock.now().tzinfo),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
    scheduler.add_listener(_listen(ceremony), EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


async def run_clock(app: OkrApp, stop: asyncio.Event) -> None:
    """The `clock` process until `stop` is set."""
    ceremony = Ceremony(app)
    lock = SingletonLock(app.engine, suffix=CLOCK_LOCK_SUFFIX)
    scheduler = scheduler_for(ceremony, lock)
    scheduler.start()
    sender = None
    if app.settings.outbox_sender == "clock":
        sender = asyncio.create_task(ceremony.send_forever(stop, lock))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        # Each step of the stop runs whatever the one before did, so the process still
        # closes what it holds (and says what went wrong) instead of dying half-stopped.
        try:
            if sender is not None:
                await sender
        except Exception:
            log.exception("the sender stopped with an error")
        try:
            await lock.release()
        except Exception:  # the server frees a session lock with its connection anyway
            log.exception("clock lock not released cleanly")
        await app.http.close()


class WorkerLocked(Exception):
    """A second worker on SQLite: exactly one may drain the outbox there."""


async def run_worker(app: OkrApp, stop: asyncio.Event) -> None:
    """The `worker` process: drains the outbox (any number on PostgreSQL, one on SQLite)."""
    ceremony = Ceremony(app)
    lock = None
    if app.engine.dialect.name != "postgresql":
        lock = SingletonLock(app.engine, suffix=WORKER_LOCK_SUFFIX)
        if not await lock.acquire():
            raise WorkerLocked(
                "another worker is already sending from this SQLite database; "
                "run exactly one, or use PostgreSQL for more"
            )
    try:
        await ceremony.send_forever(stop, None)
    finally:
        if lock is not None:
            await lock.release()
