"""Deterministic fault injection: fail the next N calls of a method, hold the Nth call until
released, or fail a seeded fraction at random."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    HTTP_500 = "http_500"  # HTTP 500, nothing done
    HTTP_503 = "http_503"
    RATELIMITED = "ratelimited"  # HTTP 429 with Retry-After, nothing done
    FATAL_ERROR = "fatal_error"  # {"ok": false, "error": "fatal_error"}, nothing done
    DROP = "drop"  # connection cut before anything is done
    SLOW = "slow"  # done at once, answered after `delay` seconds (past the client's timeout)
    ACCEPT_THEN_DROP = "accept_then_drop"  # done and recorded, then the connection is cut


@dataclass
class Planned:
    fault: Fault
    remaining: int
    delay: float = 0.0
    retry_after: int = 1


@dataclass
class Hold:
    """The `nth` call of a method waits until `release()`; `arrived` is set when it waits."""

    nth: int
    seen: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class RandomFaults:
    fault: Fault
    fraction: float
    rng: random.Random
    methods: frozenset[str] | None  # None: every method
    delay: float = 0.0


class FaultPlan:
    def __init__(self) -> None:
        self._planned: dict[str, list[Planned]] = {}
        self._holds: dict[str, list[Hold]] = {}
        self._random: list[RandomFaults] = []

    def fail(
        self,
        method: str,
        fault: Fault | str,
        *,
        times: int = 1,
        delay: float = 0.0,
        retry_after: int = 1,
    ) -> None:
        """The next `times` calls of `method` meet `fault`."""
        if Fault(fault) is Fault.SLOW and delay <= 0:
            raise ValueError("a slow answer needs a delay in seconds")
        self._planned.setdefault(method, []).append(
            Planned(Fault(fault), times, delay=delay, retry_after=retry_after)
        )

    def hold(self, method: str, *, nth: int = 1) -> Hold:
        hold = Hold(nth=nth)
        self._holds.setdefault(method, []).append(hold)
        return hold

    def randomly(
        self,
        fault: Fault | str,
        *,
        fraction: float,
        seed: int,
        methods: set[str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Each call (of `methods`, or any) meets `fault` with probability `fraction`."""
        if Fault(fault) is Fault.SLOW and delay <= 0:
            raise ValueError("a slow answer needs a delay in seconds")
        self._random.append(
            RandomFaults(
                Fault(fault),
                fraction,
                random.Random(seed),
                frozenset(methods) if methods is not None else None,
                delay,
            )
        )

    def clear(self) -> None:
        self._planned.clear()
        self._holds.clear()
        self._random.clear()

    def next_fault(self, method: str) -> Planned | None:
        planned = self._planned.get(method, [])
        while planned:
            head = planned[0]
            if head.remaining > 0:
                head.remaining -= 1
                return head
            planned.pop(0)
        for rule in self._random:
            if rule.methods is not None and method not in rule.methods:
                continue
            if rule.rng.random() < rule.fraction:
                return Planned(rule.fault, 0, delay=rule.delay)
        return None

    async def wait_if_held(self, method: str) -> None:
        for hold in self._holds.get(method, []):
            hold.seen += 1
            if hold.seen == hold.nth:
                hold.arrived.set()
                await hold.released.wait()
