"""Rate limits as Slack enforces them: per method tier, per workspace, per minute; about one
message a second per channel with short bursts; a workspace-wide message budget.

Token buckets on the emulator's clock. `time_scale` > 1 speeds every limit up (benchmarks).
Off unless `enabled`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

# Requests a minute per tier (Slack's documented minimums: Tier 1 1+, Tier 2 20+, ...).
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIER_BURST = {1: 1, 2: 5, 3: 10, 4: 20}
CHANNEL_MESSAGES_PER_SECOND = 1.0
CHANNEL_BURST = 3
WORKSPACE_MESSAGES_PER_MINUTE = 300
WORKSPACE_MESSAGE_BURST = 10
POSTING_METHODS = {"chat.postMessage", "chat.postEphemeral"}


@dataclass
class Bucket:
    rate: float  # tokens a second
    capacity: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0: one is free now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    clock: Callable[[], float]
    enabled: bool = False
    time_scale: float = 1.0
    history_per_minute: int | None = None  # 1 for apps outside the Marketplace
    workspace_messages_per_minute: int = WORKSPACE_MESSAGES_PER_MINUTE
    workspace_message_burst: int = WORKSPACE_MESSAGE_BURST
    _buckets: dict[tuple[str, ...], Bucket] = field(default_factory=dict)

    def _bucket(self, key: tuple[str, ...], per_second: float, burst: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = per_second * self.time_scale
            bucket = Bucket(rate=rate, capacity=burst, tokens=burst, updated=self.clock())
            self._buckets[key] = bucket
        return bucket

    def check(self, *, team_id: str, method: str, tier: int | None, channel: str | None) -> int:
        """0 when the call may go ahead, else the Retry-After seconds to answer with 429."""
        if not self.enabled:
            return 0
        now = self.clock()
        buckets: list[Bucket] = []
        if method in POSTING_METHODS:
            if channel:
                buckets.append(
                    self._bucket(
                        ("channel", team_id, channel), CHANNEL_MESSAGES_PER_SECOND, CHANNEL_BURST
                    )
                )
            buckets.append(
                self._bucket(
                    ("messages", team_id),
                    self.workspace_messages_per_minute / 60,
                    self.workspace_message_burst,
                )
            )
        elif method in ("conversations.history", "conversations.replies") and (
            self.history_per_minute is not None
        ):
            buckets.append(
                self._bucket(("history", team_id, method), self.history_per_minute / 60, 1)
            )
        elif tier is not None:
            buckets.append(
                self._bucket(
                    ("tier", team_id, method), TIER_PER_MINUTE[tier] / 60, TIER_BURST[tier]
                )
            )
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))  # refused: no bucket is charged
        for bucket in buckets:
            bucket.tokens -= 1
        return 0
