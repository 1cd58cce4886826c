"""Two clocks and a person closing the same cycle at the same moment start one grading: one
grading DM a person, one retro poll a team; and two clocks at the deadline post one summary
a team."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Audit, Cycle, OutboxItem, Retro
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from tests.ceremony_fixtures import clocked_stack
from tests.cycle_end_fixtures import poll_in, set_now, summary_in
from tests.databases import Database

CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
END = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(END - timedelta(hours=1))
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database) as running:
        yield running


async def test_two_clocks_and_a_person_close_once(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(
        stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=2, cycle=CYCLE
    )
    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    await stack.driver.command(fac, "cycle list")  # known before the race
    first, second = Ceremony(stack.app), Ceremony(stack.app)
    set_now(END)
    closed = await asyncio.gather(
        first.tick(), second.tick(), stack.driver.command(fac, "cycle close 2026-Q4")
    )
    assert closed[2].status == 200
    await asyncio.gather(first.sender.drain(), second.sender.drain())
    await asyncio.gather(first.tick(), second.tick())  # and again, once sent
    await asyncio.gather(first.sender.drain(), second.sender.drain())
    for team in world.teams:
        assert len(poll_in(stack, team.channel.id)) == 1
        for owner in team.owners:
            dms = [m for m in stack.slack.dms(owner.id) if "Grade my key results" in str(m.blocks)]
            assert len(dms) == 1
    async with stack.app.sessions() as session:
        cycle = (await session.execute(select(Cycle))).scalar_one()
        moves = await session.scalar(
            select(func.count()).select_from(Audit).where(Audit.action == "cycle.close")
        )
        retros = await session.scalar(select(func.count()).select_from(Retro))
    assert (cycle.state, moves, retros) == ("grading", 1, 2)
    assert cycle.grading_ends_at is not None
    set_now(cycle.grading_ends_at)
    await asyncio.gather(first.tick(), second.tick())
    await asyncio.gather(first.sender.drain(), second.sender.drain())
    await asyncio.gather(first.tick(), second.tick())
    await asyncio.gather(first.sender.drain(), second.sender.drain())
    for team in world.teams:
        assert len(summary_in(stack, team.channel.id)) == 1
    async with stack.app.sessions() as session:
        kinds = dict(
            (
                await session.execute(
                    select(OutboxItem.kind, func.count())
                    .where(OutboxItem.kind.in_(("grading", "retro", "summary")))
                    .group_by(OutboxItem.kind)
                )
            ).all()
        )
    assert kinds == {"grading": 4, "retro": 2, "summary": 2}
