"""Sending from the outbox: claim, compose, post, record; exactly one live message per key.

A row is claimed (state `sending`, a lease) and committed before Slack is called. Slack's
answer and the record of it are committed together afterwards. A row found `sending` with
its lease run out, or `uncertain` after a timeout, reset, 5xx or `fatal_error`, may or may
not have been posted: it is reconciled first, by looking for the message that carries its
key in metadata; only when none is found is it posted again. When history cannot be read in
time the row is posted, and a later sweep deletes any duplicate it finds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.checkin import prompt_metadata
from bot.config import Settings
from bot.db import readers_for
from bot.jobs import chart_send, crashpoints
from bot.jobs.outbox_rows import VERIFY, Claim, Prepared, SendStats, claim_rows, prepare
from bot.jobs.pacing import Pacer
from bot.jobs.posting import find_posted, remove_duplicates
from bot.jobs.recorder import Recorder
from bot.models import OutboxItem, Workspace
from bot.models.outbox_keys import Kind
from bot.services import notices
from bot.services.posted import Posted
from bot.services.updates import UpdateMessage, finish_update
from bot.slack.clients import WorkspaceClients
from bot.slack.errors import Classified, Failure, classify

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


class OutboxSender:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clients: WorkspaceClients,
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.readers = readers_for(sessions)
        self.settings = settings
        self.clients = clients
        self.batch = batch
        self.pacer = Pacer(per_minute=settings.outbox_messages_per_minute)
        self.stats = SendStats()
        self._gate = asyncio.Semaphore(settings.outbox_concurrency)
        bind = sessions.kw.get("bind")
        self._sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()
        self.recorder = Recorder(
            writing=self._writing, verify_after_seconds=settings.outbox_lease_seconds
        )

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction. On SQLite, one at a time within this sender: the database
        allows one writer anyway, and waiting here is cheaper than its busy-retry sleeps."""
        if self._sqlite:
            async with self._write_lock, self.sessions.begin() as session:
                yield session
        else:
            async with self.sessions.begin() as session:
                yield session

    # --- claiming ---------------------------------------------------------------------------

    async def claim(self, now: datetime) -> list[Claim]:
        lease = now + timedelta(seconds=self.settings.outbox_lease_seconds)
        held = self.pacer.held_workspaces(now)
        async with self._writing() as session:
            claims = await claim_rows(session, now=now, lease=lease, held=held, batch=self.batch)
        if claims:
            crashpoints.reached("claimed")
        return claims

    # --- one round ----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were handled."""
        claims = await self.claim(clock.now())
        if claims:
            async with self.readers() as session:
                prepared = await prepare(session, claims, clock.now())
            await asyncio.gather(
                *(self._guarded(claim, prepared.get(claim.id)) for claim in claims)
            )
        return len(claims)

    async def drain(self, *, idle_rounds: int = 1, pause: float = 0.0) -> SendStats:
        """Send until nothing is ready (tests and benchmarks). With more than one message in
        flight allowed, two lanes overlap: one claims and composes while the other sends."""

        async def lane() -> None:
            idle = 0
            while idle < idle_rounds:
                idle = 0 if await self.run_once() else idle + 1
                if pause and idle:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(lane() for _ in range(self.lanes)))
        return self.stats

    @property
    def lanes(self) -> int:
        return 2 if self.settings.outbox_concurrency > 1 else 1

    async def _guarded(self, claim: Claim, prepared: Prepared | None) -> None:
        try:
            sends = prepared is not None and (
                prepared.composed is not None or prepared.chart is not None
            )
            paced = False
            if sends and not claim.reconcile:
                # Wait for this workspace's budget before taking a send slot, so a workspace
                # that must go slowly does not hold the slots other workspaces need.
                admitted = await self.pacer.admit(claim.workspace_id)
                if admitted is None:
                    await self._requeue_held(claim)
                    return
                # A send that waited for the budget is part of a paced stream: its record may
                # wait a moment to share a transaction with the next answers.
                paced = admitted == "waited"
            async with self._gate:
                if prepared is not None:
                    await self._send(claim, prepared, paced=paced)
            # The record is written with others of the moment, outside the gate: a slow
            # commit (a SQLite checkpoint) does not hold up the next posts.
            await self.recorder.written(claim.id)
        except crashpoints.SimulatedCrash:
            raise
        except Exception:
            log.exception("outbox row failed unexpectedly", extra={"outbox_id": claim.id})
            await self._finish(claim, state="uncertain", error="internal", delay=self._backoff(1))

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, claim: Claim, prepared: Prepared, *, paced: bool = False) -> None:
        key, verify, composed = prepared.key, prepared.verify, prepared.composed
        sent_channel, sent_ts = prepared.sent_channel, prepared.sent_ts
        update, channel_hint = prepared.update, prepared.channel_hint
        client = await self.clients.get(claim.workspace_id)
        if client is None:
            await self._workspace_fatal(claim, "no_installation")
            return
        if claim.kind == Kind.CHART:  # uploaded, then posted in the digest's thread
            await chart_send.send(self, claim, prepared, client)
            return
        if verify:
            assert sent_channel and sent_ts
            try:
                deleted = await remove_duplicates(client, sent_channel, key, keep=sent_ts)
            except Exception as exc:  # noqa: BLE001 - still unreadable: the row stays sent
                log.warning("duplicate check failed", extra={"error": classify(exc).error})
                await self._finish(claim, state="sent", error=VERIFY,
                                   delay=self.settings.outbox_lease_seconds)  # fmt: skip
                return
            self.stats.duplicates_deleted += deleted
            await self._finish(claim, state="sent", error=None)
            return
        if claim.kind == Kind.UPDATE:
            await self._send_update(claim, client, update)
            return
        if composed is None:
            if claim.reconcile and channel_hint:
                # It may have been posted before it stopped being owed: then it stays.
                try:
                    found = await find_posted(client, channel_hint, key)
                except Exception:  # noqa: BLE001 - unreadable: retried as uncertain
                    await self._finish(claim, state="uncertain", error="history unreadable",
                                       delay=self._backoff(1), refund=True)  # fmt: skip
                    return
                if found is not None:
                    await self._record(claim, prepared, found[0], found[1], found[2], verify=False)
                    self.stats.reconciled += 1
                    return
            await self._finish(claim, state="cancelled", error="no longer owed")
            self.stats.cancelled += 1
            return
        unverified = False
        if claim.reconcile:
            try:
                where = channel_hint or await self.clients.open_dm(client, composed.channel)
                found = await find_posted(client, where, key) if where else None
            except Exception as exc:  # noqa: BLE001 - any failure: history unreadable in time
                failure = classify(exc)
                if failure.failure is Failure.RATE_LIMITED and failure.retry_after <= 60:
                    # Slack says when history can be read: this row waits for it rather than
                    # risk a duplicate (a longer wait, as for unlisted apps, posts and checks
                    # later). Posting is a different limit: the workspace is not held.
                    await self._finish(claim, state="uncertain", error=None,
                                       delay=failure.retry_after, refund=True)  # fmt: skip
                    return
                log.warning("history unreadable", extra={"error": failure.error})
                found, unverified = None, True
            crashpoints.reached("reconciling")
            if found is not None:
                channel, ts, lines, extra = found
                self.stats.duplicates_deleted += len(extra)
                for duplicate in extra:
                    await client.chat_delete(channel=channel, ts=duplicate)
                await self._record(
                    claim, prepared, channel, ts, lines or composed.lines, verify=False
                )
                self.stats.reconciled += 1
                return
        # The others waited for the budget before taking their slot; a 429 may have come
        # while they waited for the slot.
        if claim.reconcile and not await self.pacer.wait(claim.workspace_id):
            await self._requeue_held(claim)
            return
        if self.pacer.held_for(claim.workspace_id, clock.now()) > 0:
            await self._requeue_held(claim)
            return
        if await self._too_late_to_post(claim):
            return
        try:
            response = await client.chat_postMessage(
                channel=composed.channel,
                text=composed.text,
                blocks=composed.blocks,
                metadata=prompt_metadata(key, composed.lines),
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            await self._failed(claim, classify(exc))
            return
        crashpoints.reached("answered")
        await self._record(
            claim, prepared, str(response["channel"]), str(response["ts"]), composed.lines,
            verify=unverified, gather=paced,
        )  # fmt: skip
        self.stats.sent += 1

    async def _too_late_to_post(self, claim: Claim) -> bool:
        """Too close to the lease's end: another sender may take the row over while a post
        is under way. Nothing was posted, so the row goes back to the queue."""
        margin = timedelta(
            seconds=min(
                self.settings.slack_http_timeout_seconds + 1,
                self.settings.outbox_lease_seconds / 2,
            )
        )
        if clock.now() + margin < claim.lease_until:
            return False
        await self._finish(claim, state="uncertain" if claim.reconcile else "pending",
                           error=None, refund=True)  # fmt: skip
        return True

    async def _requeue_held(self, claim: Claim) -> None:
        """A 429 holds the workspace since this row was claimed: back to the queue until the
        hold ends, rather than wait in a slot (not an attempt)."""
        await self._finish(
            claim, state="uncertain" if claim.reconcile else "pending", error=None,
            delay=self.pacer.held_for(claim.workspace_id, clock.now()), refund=True,
        )  # fmt: skip

    async def _send_update(
        self, claim: Claim, client: AsyncWebClient, update: UpdateMessage | None
    ) -> None:
        if update is None:
            await self._finish(claim, state="cancelled", error="prompt gone")
            return
        try:
            await client.chat_update(
                channel=update.channel, ts=update.ts, text=update.text, blocks=update.blocks
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            await self._failed(claim, classify(exc))
            return
        async with self._writing() as session:
            await finish_update(
                session, row_id=claim.id, lease_until=claim.lease_until, now=clock.now(),
                claimed_step=claim.step, every=self.settings.update_every_seconds,
            )  # fmt: skip
        self.stats.sent += 1

    async def _record(
        self,
        claim: Claim,
        prepared: Prepared,
        channel: str,
        ts: str,
        lines: tuple[tuple[int, str], ...] | list[tuple[int, str]],
        *,
        verify: bool,
        gather: bool = False,
    ) -> None:
        posted = Posted(
            outbox_id=claim.id,
            lease_until=claim.lease_until,
            kind=claim.kind,
            workspace_id=claim.workspace_id,
            period=prepared.period,
            person_id=prepared.person_id,
            team_id=prepared.team_id,
            channel=channel,
            ts=ts,
            lines=tuple(lines),
            known_im_channel=prepared.im_channel,
        )
        self.recorder.add(posted, verify=verify, gather=gather)

    # --- failures -----------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        return float(min(300.0, self.settings.outbox_poll_seconds * 2 ** min(attempts, 8)))

    async def _failed(self, claim: Claim, failure: Classified) -> None:
        self.stats.errors[failure.error] = self.stats.errors.get(failure.error, 0) + 1
        if failure.failure is Failure.RATE_LIMITED:
            self.stats.rate_limited += 1
            self.pacer.hold(claim.workspace_id, failure.retry_after, now=clock.now())
            await self._finish(
                claim, state="uncertain" if claim.reconcile else "pending",
                error=None, delay=failure.retry_after, refund=True,
            )  # fmt: skip
        elif failure.failure is Failure.UNCERTAIN:
            self.stats.retried += 1
            await self._finish(
                claim, state="uncertain", error=failure.error, delay=self._backoff(1),
                give_up_after=MAX_ATTEMPTS,
            )  # fmt: skip
        elif failure.failure is Failure.WORKSPACE_FATAL:
            await self._workspace_fatal(claim, failure.error)
        else:
            self.stats.failed += 1
            await self._finish(claim, state="failed", error=failure.error)
            async with self._writing() as session:
                row = await session.get(OutboxItem, claim.id)
                if row is not None:
                    await notices.report(session, item=row, failure=failure, now=clock.now())

    async def _workspace_fatal(self, claim: Claim, error: str, *, state: str = "pending") -> None:
        await self._finish(claim, state=state, error=error, refund=True, delay=0.0)
        await self._pause_workspace(claim.workspace_id, error)

    async def _pause_workspace(self, workspace_id: int, error: str) -> None:
        """`bot.slack.errors`: a workspace-fatal answer pauses the workspace (its rows wait)."""
        async with self._writing() as session:
            workspace = await session.get(Workspace, workspace_id)
            if workspace is not None and workspace.state == "active":
                workspace.state, workspace.pause_reason = "paused", error[:200]
                log.warning("workspace paused", extra={"error": error})
        self.clients.forget(workspace_id)

    async def _finish(
        self,
        claim: Claim,
        *,
        state: str,
        error: str | None,
        delay: float = 0.0,
        refund: bool = False,
        give_up_after: int | None = None,
    ) -> int:
        """Set the row's outcome if this sender still holds it; returns its attempts. With
        `give_up_after`, a row that has had that many attempts fails instead."""
        now = clock.now()
        async with self._writing() as session:
            row = await session.get(OutboxItem, claim.id)
            if row is None or row.lease_until != claim.lease_until:
                return 0
            if give_up_after is not None and row.attempts >= give_up_after:
                state, error = "failed", f"gave up: {error}"
                self.stats.failed += 1
            row.state, row.error, row.lease_until = state, error, None
            if refund and row.attempts > 0:
                row.attempts -= 1
            row.next_attempt_at = now + timedelta(seconds=delay)
            return row.attempts
