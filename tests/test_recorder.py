"""The sender's recorder: records of paced sends share a transaction; a record of a send that
did not wait is written at once (nothing waits for a batch that is not coming)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.jobs import recorder as recorder_module
from bot.jobs.recorder import GATHER_SECONDS, Recorder
from bot.services.posted import Posted

LEASE = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)


def posted(n: int) -> Posted:
    return Posted(n, LEASE, "dm", 1, "2026-W49", n, None, f"D{n}", f"1.{n}", ())


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    written: list[list[int]] = []

    async def record(_session: Any, *, posted: list[Posted], now: datetime) -> list[int]:
        written.append([one.outbox_id for one in posted])
        return [one.outbox_id for one in posted]

    monkeypatch.setattr(recorder_module, "record_posted", record)
    return written


@asynccontextmanager
async def writing() -> AsyncIterator[Any]:
    yield None


async def test_paced_records_share_one_transaction(transactions: list[list[int]]) -> None:
    recorder = Recorder(writing=writing, verify_after_seconds=60)
    for n in range(3):
        recorder.add(posted(n), verify=False, gather=True)
        await asyncio.sleep(GATHER_SECONDS / 10)
    await asyncio.gather(*(recorder.written(n) for n in range(3)))
    assert transactions == [[0, 1, 2]]


async def test_a_send_that_did_not_wait_is_recorded_at_once(
    transactions: list[list[int]],
) -> None:
    recorder = Recorder(writing=writing, verify_after_seconds=60)
    recorder.add(posted(1), verify=False, gather=False)
    await asyncio.wait_for(recorder.written(1), timeout=GATHER_SECONDS / 2)
    assert transactions == [[1]]
    recorder.add(posted(2), verify=False, gather=True)
    recorder.add(posted(3), verify=False, gather=False)  # joins, and nobody waits
    await asyncio.wait_for(recorder.written(2), timeout=GATHER_SECONDS / 2)
    assert transactions == [[1], [2, 3]]
