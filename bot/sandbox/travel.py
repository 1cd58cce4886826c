"""Time travel for the sandbox: move `bot.clock` forward, stopping at every instant something
falls due on the way (a prompt, a DM, a reminder, a digest, a chart, a report, a coalesced
edit), and ticking and sending there, so a jump skips nothing and every message carries the
sandbox time it would have had.

Where to stop comes from the clock's own rule: `due(t, snapshot)` probed every
`CATCH_UP_GRACE` (an item seen that close to its instant keeps its own `send_at`), and the
outbox's next pending attempt. Nothing here decides what is owed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import clock
from bot.db import readers_for
from bot.jobs.clock import Ceremony
from bot.jobs.due import CATCH_UP_GRACE, due
from bot.jobs.due_data import Schedule, Snapshot
from bot.jobs.snapshot import load_snapshot
from bot.models import Cycle, OutboxItem, Workspace
from bot.okr.period import label, next_period, zone

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")

PROBE = CATCH_UP_GRACE
HORIZON = timedelta(hours=12)  # a snapshot holds the weeks near its instant: read it again
SETTLE_ROUNDS = 12  # ticks at one instant until nothing new is queued or sent
SETTLE_WAIT = 0.05  # seconds between those, for listeners Bolt runs after its ack


@dataclass(frozen=True)
class Journey:
    """What one jump did: where it ended and how many instants it stopped at."""

    arrived: datetime
    stops: int


def move_to(at: datetime) -> None:
    """Set the bot's now to `at` (the real clock keeps running from there)."""
    clock.set_offset(at - datetime.now(UTC))


class TimeMachine:
    """One jump at a time; the app's clock keeps ticking in real time between jumps."""

    def __init__(self, ceremony: Ceremony) -> None:
        self.ceremony = ceremony
        self.readers = readers_for(ceremony.sessions)
        self._lock = asyncio.Lock()

    async def travel_to(self, target: datetime) -> Journey:
        async with self._lock:
            stops = 0
            await self.settle()
            while clock.now() < target:
                now = clock.now()
                horizon = min(target, now + HORIZON)
                stop = await self._next_stop(now, horizon)
                move_to(stop or horizon)
                await self.settle()
                stops += 1 if stop is not None else 0
            return Journey(clock.now(), stops)

    async def travel(self, by: timedelta) -> Journey:
        return await self.travel_to(clock.now() + by)

    async def settle(self) -> None:
        """Tick and send at the current instant until nothing more is owed there. Twice at
        least: a tick's DM sweep can free a digest that only the next tick queues."""
        for round_number in range(SETTLE_ROUNDS):
            stats = self.ceremony.sender.stats
            before = stats.sent + stats.cancelled + stats.failed + stats.reconciled
            result = await self.ceremony.tick(clock.now())
            while (
                await self.ceremony.pulls.run_once()
            ):  # metric pulls due here, as the clock's lane
                pass
            await self.ceremony.sender.drain()
            after = stats.sent + stats.cancelled + stats.failed + stats.reconciled
            if round_number and not result.inserted and after == before:
                return
            await asyncio.sleep(SETTLE_WAIT)

    async def _next_stop(self, now: datetime, until: datetime) -> datetime | None:
        """The first instant in (now, until] at which something falls due, if any."""
        async with self.readers() as session:
            snapshot = await load_snapshot(session, now=now)
            pending = await session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(
                    OutboxItem.state == "pending", OutboxItem.next_attempt_at > now
                )
            )
        found = first_due(now, until, snapshot)
        if pending is not None:
            pending = pending if pending.tzinfo else pending.replace(tzinfo=UTC)
            if pending <= until and (found is None or pending < found):
                found = pending
        return found

    async def next_checkin(self) -> datetime | None:
        """The next instant a round opens (any team's, or the workspace default's)."""
        now = clock.now()
        async with self.readers() as session:
            snapshot = await load_snapshot(session, now=now)
        return next_round(now, snapshot)

    async def cycle_end(self) -> datetime | None:
        """The end of the open cycle that ends first: the midnight after its last day, in
        its workspace's zone."""
        now = clock.now()
        async with self.readers() as session:
            found = (
                await session.execute(
                    select(Cycle.ends_on, Workspace.timezone)
                    .join(Workspace, Workspace.id == Cycle.workspace_id)
                    .where(Cycle.state.in_(("active", "planning")), Cycle.ends_on >= now.date())
                    .order_by(Cycle.ends_on)
                    .limit(1)
                )
            ).first()
        if found is None:
            return None
        ends_on, tz = found
        end = datetime.combine(ends_on + timedelta(days=1), time(0, 0), tzinfo=zone(tz, UTC_ZONE))
        return end if end > now else None


def first_due(now: datetime, until: datetime, snapshot: Snapshot) -> datetime | None:
    """Probe `due` from `now` to `until`: the first item found, at its own instant (or at the
    probe's, for one that was held back until then)."""
    probe = now
    while probe < until:
        probe = min(probe + PROBE, until)
        items = due(probe, snapshot)
        if items:
            later = [item.send_at for item in items if item.send_at > now]
            return min(later) if later else probe
    return None


def _this_and_next(now: datetime, schedule: Schedule) -> tuple[str, str]:
    this_week = label(now.astimezone(schedule.tz).date())
    return this_week, next_period(this_week)


def next_round(now: datetime, snapshot: Snapshot) -> datetime | None:
    rounds = list(snapshot.teams.values()) + [w.default for w in snapshot.workspaces.values()]
    instants = [
        r.schedule.instant(week)
        for r in rounds
        if not r.paused
        for week in _this_and_next(now, r.schedule)
    ]
    later = [at for at in instants if at > now]
    return min(later) if later else None
