"""Pacing a workspace's sends: the configured rate, one sleep per waiting send (not a wake-up
for every token), and a 429 hold that sends every waiter back."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import clock
from bot.jobs import pacing
from bot.jobs.pacing import Pacer


async def test_waiters_go_at_the_rate_each_after_one_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = 0
    real_sleep = asyncio.sleep

    async def counted(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        await real_sleep(seconds)

    monkeypatch.setattr(pacing.asyncio, "sleep", counted)
    pacer = Pacer(per_minute=60 * 200)  # 200 a second, a burst of 3
    started = time.monotonic()
    went = await asyncio.gather(*(pacer.wait(1) for _ in range(43)))
    elapsed = time.monotonic() - started
    assert went == [True] * 43
    assert sleeps == 40  # the 3 of the burst never sleep; each other one sleeps once
    assert 0.19 <= elapsed < 0.6  # 40 more at 200 a second
    assert await pacer.wait(2)  # another workspace has its own budget


async def test_a_hold_while_waiting_sends_the_waiters_back_and_returns_their_slots() -> None:
    pacer = Pacer(per_minute=60 * 20)  # 20 a second
    for _ in range(3):
        assert await pacer.wait(1)  # the burst
    waiting = [asyncio.create_task(pacer.wait(1)) for _ in range(5)]
    await asyncio.sleep(0)
    pacer.hold(1, 0.3, now=clock.now())
    assert await asyncio.gather(*waiting) == [False] * 5
    assert not await pacer.wait(1)  # still held: back at once
    await asyncio.sleep(0.35)
    started = time.monotonic()
    assert await pacer.wait(1)
    assert time.monotonic() - started < 0.2  # the slots given back: no debt after the hold
