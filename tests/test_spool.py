"""The event spool shared by several web processes: appends from any, one drain at a time,
each event handed over once and in order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.spool import Spool


async def test_a_second_drain_waits_its_turn_and_no_event_is_handed_over_twice(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool" / "slack-events.jsonl"
    first, second = Spool(path), Spool(path)  # as two web processes open it
    for n in range(3):
        (first if n % 2 else second).append({"n": n})
    handed: list[int] = []
    release = asyncio.Event()

    async def slow_keep(record: dict[str, Any]) -> None:
        await release.wait()
        handed.append(record["n"])

    async def keep(record: dict[str, Any]) -> None:
        handed.append(record["n"])

    draining = asyncio.create_task(first.drain(slow_keep))
    await asyncio.sleep(0.05)
    assert await second.drain(keep) == 0  # the other process is draining
    second.append({"n": 3})  # an append is never held up by a drain
    release.set()
    assert await draining == 3
    assert await second.drain(keep) == 1
    assert handed == [0, 1, 2, 3]
    assert first.pending() == second.pending() == 0


async def test_a_failed_keep_leaves_that_event_and_the_rest_for_the_next_drain(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "slack-events.jsonl")
    for n in range(3):
        spool.append({"n": n})
    handed: list[int] = []

    async def keep_until_one(record: dict[str, Any]) -> None:
        if record["n"] == 1:
            raise ConnectionError("database away")
        handed.append(record["n"])

    assert await spool.drain(keep_until_one) == 1
    assert spool.pending() == 2

    async def keep(record: dict[str, Any]) -> None:
        handed.append(record["n"])

    assert await spool.drain(keep) == 2
    assert handed == [0, 1, 2]
