"""Rate limits as Slack enforces them: per method tier, per workspace, per minute; about one
message a second per channel with short bursts; a workspace-wide message budget.

Token buckets on the emulator's clock. `time_scale` > 1 speeds every limit up (benchmarks).
Off unless `enabled`. A refused call is not charged to any bucket.
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
POSTING_METHODS = {"chat.postMessage"}
HISTORY_METHODS = {"conversations.history", "conversations.replies"}
HISTORY_PAGE_LIMIT = 15  # the page size Slack allows under the 1-a-minute history rule


@dataclass
class Bucket:
    per_second: float  # at time scale 1
    capacity: float
    tokens: float
    updated: float

    def wait(self, now: float, scale: float) -> float:
        """Seconds until a token is free (0: one is free now)."""
        rate = self.per_second * scale
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * rate)
        self.updated = max(self.updated, now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate


@dataclass
class RateLimiter:
    clock: Callable[[], float]
    enabled: bool = False
    time_scale: float = 1.0
    history_per_minute: int | None = None  # 1 for apps outside the Marketplace
    workspace_messages_per_minute: int = WORKSPACE_MESSAGES_PER_MINUTE
    workspace_message_burst: int = WORKSPACE_MESSAGE_BURST
    _buckets: dict[tuple[str, ...], Bucket] = field(default_factory=dict)

    def _bucket(self, key: tuple[str, ...], per_second: float, burst: float, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(per_second=per_second, capacity=burst, tokens=burst, updated=now)
            self._buckets[key] = bucket
        return bucket

    def history_page_limit(self) -> int | None:
        """The largest page history and replies may return now, if limited."""
        if self.enabled and self.history_per_minute is not None:
            return HISTORY_PAGE_LIMIT
        return None

    def check(self, *, team_id: str, method: str, tier: int | None, channel: str | None) -> int:
        """0 when the call may go ahead, else the Retry-After seconds to answer with 429."""
        if not self.enabled:
            return 0
        now = self.clock()
        buckets: list[Bucket] = []
        if method in POSTING_METHODS:
            if channel:
                key = ("channel", team_id, channel)
                buckets.append(self._bucket(key, CHANNEL_MESSAGES_PER_SECOND, CHANNEL_BURST, now))
            buckets.append(
                self._bucket(
                    ("messages", team_id),
                    self.workspace_messages_per_minute / 60,
                    self.workspace_message_burst,
                    now,
                )
            )
        elif method in HISTORY_METHODS and self.history_per_minute is not None:
            key = ("history", team_id, method)
            buckets.append(self._bucket(key, self.history_per_minute / 60, 1, now))
        elif tier is not None:
            key = ("tier", team_id, method)
            buckets.append(self._bucket(key, TIER_PER_MINUTE[tier] / 60, TIER_BURST[tier], now))
        wait = max((b.wait(now, self.time_scale) for b in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return 0
