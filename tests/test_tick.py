"""`tick` on both databases: it inserts what is due under the idempotency keys, repeats add
nothing, and two ticks racing without the lock create no duplicates."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import make_sessionmaker
from bot.jobs.tick import tick
from bot.models import AwayPeriod, OutboxItem, TeamMember, TeamSkippedPeriod
from tests import factories as make

LA = ZoneInfo("America/Los_Angeles")
MONDAY_TEN_LA = datetime(2027, 1, 11, 10, 0, tzinfo=LA).astimezone(UTC)  # 2027-W02


async def seed_world(session: AsyncSession, *, teams: int = 2, owners_per_team: int = 3) -> int:
    ws = await make.workspace(session, timezone="UTC")
    cycle = await make.cycle(
        session, ws, state="active", starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31)
    )
    for t in range(teams):
        team = await make.team(
            session, ws, channel_id=f"C{t:05d}", checkin_time=time(10, 0), timezone=LA.key
        )
        objective = await make.objective(session, ws, cycle, level="team", team_id=team.id)
        for o in range(owners_per_team):
            owner = await make.person(session, ws, timezone="Europe/Berlin" if o else LA.key)
            session.add(TeamMember(team_id=team.id, person_id=owner.id, workspace_id=ws.id))
            await make.key_result(session, objective, owner_person_id=owner.id)
    await session.flush()
    return ws.id


async def outbox_keys(session: AsyncSession) -> list[str]:
    return list(
        (await session.execute(select(OutboxItem.idempotency_key).order_by(OutboxItem.id)))
        .scalars()
        .all()
    )


async def test_tick_inserts_once_and_a_repeat_adds_nothing(session: AsyncSession) -> None:
    ws = await seed_world(session)
    result = await tick(session, MONDAY_TEN_LA)
    keys = await outbox_keys(session)
    prompts = [k for k in keys if k.startswith("prompt:")]
    dms = [k for k in keys if k.startswith("dm:")]
    assert len(prompts) == 2 and all(k.endswith(":2027-W02") for k in prompts)
    # Berlin owners' 10:00 came first (and is still before their deadline); LA owners' now.
    assert len(dms) == 6 and result.inserted == 8
    again = await tick(session, MONDAY_TEN_LA + timedelta(minutes=1))
    assert again.inserted == 0 and await outbox_keys(session) == keys
    row = (
        await session.execute(select(OutboxItem).where(OutboxItem.idempotency_key == prompts[0]))
    ).scalar_one()
    assert (row.state, row.priority, row.workspace_id, row.period) == (
        "pending",
        10,
        ws,
        "2027-W02",
    )
    assert [line[1] for line in row.payload["lines"]] == ["2027-W02"] * 3


async def test_skipped_weeks_and_away_people_are_read_from_the_database(
    session: AsyncSession,
) -> None:
    ws = await seed_world(session, teams=1, owners_per_team=2)
    team_id = (await session.execute(select(TeamMember.team_id))).scalars().first()
    people = (await session.execute(select(TeamMember.person_id))).scalars().all()
    assert team_id is not None
    session.add(TeamSkippedPeriod(team_id=team_id, period="2027-W02", workspace_id=ws))
    session.add(
        AwayPeriod(
            workspace_id=ws,
            person_id=people[0],
            starts_on=date(2027, 1, 18),
            ends_on=date(2027, 1, 22),
        )
    )
    await session.flush()
    assert (await tick(session, MONDAY_TEN_LA)).inserted == 0
    await tick(session, MONDAY_TEN_LA + timedelta(days=7))
    keys = await outbox_keys(session)
    assert f"prompt:{ws}:{team_id}:2027-W03" in keys
    assert f"dm:{ws}:{people[0]}:2027-W03" not in keys
    assert f"dm:{ws}:{people[1]}:2027-W03" in keys


async def test_ticks_racing_without_the_lock_create_no_duplicates(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await seed_world(session, teams=20, owners_per_team=5)

    async def one_tick() -> int:
        async with sessions.begin() as session:
            return (await tick(session, MONDAY_TEN_LA)).inserted

    results = await asyncio.gather(*(one_tick() for _ in range(4)))
    async with sessions() as session:
        total = (await session.execute(select(func.count()).select_from(OutboxItem))).scalar_one()
        distinct = (
            await session.execute(select(func.count(func.distinct(OutboxItem.idempotency_key))))
        ).scalar_one()
    assert total == distinct == sum(results) == 20 + 100
