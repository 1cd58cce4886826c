"""Pacing sends per workspace: a token bucket at the configured messages a minute, and a
hold after a 429 that lasts Slack's `Retry-After` for that workspace only."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot import clock

Admitted = Literal["now", "waited"]  # within the burst, or after waiting for the budget
BURST = 3  # small: evens out our own loop's jitter, never a burst that meets a 429


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Pacer:
    per_minute: float
    burst: int = BURST
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _held_until: dict[int, datetime] = field(default_factory=dict)

    def hold(self, workspace_id: int, seconds: float, *, now: datetime) -> None:
        until = now + timedelta(seconds=seconds)
        self._held_until[workspace_id] = max(until, self._held_until.get(workspace_id, until))
        bucket = self._buckets.get(workspace_id)
        if bucket is not None:
            bucket.tokens = min(bucket.tokens, 0.0)

    def held_workspaces(self, now: datetime) -> list[int]:
        return [ws for ws, until in self._held_until.items() if until > now]

    def held_for(self, workspace_id: int, now: datetime) -> float:
        """Seconds left of this workspace's hold (0.0 when it is not held)."""
        until = self._held_until.get(workspace_id)
        return max(0.0, (until - now).total_seconds()) if until else 0.0

    async def wait(self, workspace_id: int) -> bool:
        """True when one more message may go to this workspace now; False, at once, while
        Slack holds the workspace (the caller puts the message back for later)."""
        return await self.admit(workspace_id) is not None

    async def admit(self, workspace_id: int) -> Admitted | None:
        """As `wait`, saying whether the send had to wait for the budget (None: held).

        Each caller reserves the next slot and sleeps once until it (a bucket that may go
        below zero), instead of every waiter waking at each new token to find it taken."""
        if self._is_held(workspace_id):
            return None
        now = time.monotonic()
        rate = self.per_minute / 60.0
        bucket = self._buckets.setdefault(workspace_id, _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        bucket.tokens -= 1
        if bucket.tokens >= 0:
            return "now"
        await asyncio.sleep(-bucket.tokens / rate)
        if self._is_held(workspace_id):  # a 429 came while this one waited
            bucket.tokens += 1  # its slot goes back
            return None
        return "waited"

    def _is_held(self, workspace_id: int) -> bool:
        held = self._held_until.get(workspace_id)
        return held is not None and held > clock.now()
