"""The sandbox's time machine over the demo company: a jump stops at every instant something
falls due, so each message goes out at its own time (its ts is sandbox time), nothing owed
is left behind, and the demo loads as the YAML says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot import clock
from bot.jobs.clock import Ceremony
from bot.jobs.due import due
from bot.jobs.snapshot import load_snapshot
from bot.models import (
    AwayPeriod,
    Checkin,
    KeyResult,
    Objective,
    ObjectiveContributor,
    Person,
    Workspace,
)
from bot.sandbox.emulator.state import Channel, Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.travel import TimeMachine
from tests.sandbox_fixtures import DEMO

PLATFORM_P = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 10:00 in Berlin
GROWTH_P = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
SUPPORT_P = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)  # Tuesday 11:00 in Kolkata


def channel(stack: SandboxStack, name: str) -> Channel:
    return next(c for c in stack.slack.state.channels.values() if c.name == name)


def posted(stack: SandboxStack, name: str, starting: str) -> list[Message]:
    return [
        m
        for m in stack.slack.channel_messages(channel(stack, name).id)
        if m.blocks and str(m.blocks[0].get("text", {}).get("text", "")).startswith(starting)
    ]


async def test_the_demo_company_is_what_the_yaml_says(demo_company: SandboxStack) -> None:
    assert demo_company.app is not None
    async with demo_company.app.sessions() as session:
        levels = (
            await session.execute(select(Objective.level, func.count()).group_by(Objective.level))
        ).all()
        assert dict(levels) == {"company": 1, "team": 3, "personal": 1}
        parents = await session.scalar(
            select(func.count()).where(Objective.parent_objective_id.is_not(None))
        )
        assert parents == 3  # every team objective serves the company objective
        assert await session.scalar(select(func.count()).select_from(ObjectiveContributor)) == 1
        zones = set((await session.scalars(select(Person.timezone))).all())
        assert {"Europe/Berlin", "Asia/Kolkata", "America/New_York"} <= zones
        assert await session.scalar(select(func.count()).select_from(AwayPeriod)) == 1
        weeks = set((await session.scalars(select(Checkin.period))).all())
        assert weeks == {"2026-W45", "2026-W46", "2026-W47", "2026-W48"}
        at_risk = await session.scalar(select(func.count()).where(Checkin.status == "at_risk"))
        assert at_risk == 1
        workspace = await session.scalar(select(Workspace))
        assert workspace is not None and workspace.timezone == "Europe/Berlin"
        assert workspace.settings["company_channel"] == channel(demo_company, "general").id
        refs = sorted((await session.scalars(select(KeyResult.ref_number))).all())
        assert refs == list(range(1, 8))
    assert clock.now() - DEMO.starts_at < timedelta(minutes=1)


async def test_a_week_jump_sends_each_message_at_its_own_instant(
    demo_company: SandboxStack,
) -> None:
    assert demo_company.app is not None
    machine = TimeMachine(Ceremony(demo_company.app))
    assert await machine.next_checkin() == PLATFORM_P
    assert await machine.cycle_end() == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # Berlin

    journey = await machine.travel(timedelta(weeks=1))

    assert journey.arrived >= DEMO.starts_at + timedelta(weeks=1)
    for name, p in (("platform", PLATFORM_P), ("growth", GROWTH_P), ("support", SUPPORT_P)):
        [prompt] = posted(demo_company, name, "Weekly check-in")
        assert abs(float(prompt.ts) - p.timestamp()) < 30, (name, prompt.ts)  # sandbox time
        [digest] = posted(demo_company, name, "📊")
        assert abs(float(digest.ts) - (p + timedelta(hours=48)).timestamp()) < 30
        [chart] = [
            m
            for m in demo_company.slack.thread(digest.channel, digest.ts)
            if demo_company.slack.files_shown(m)
        ]
        assert float(chart.ts) >= float(digest.ts)
    lena = next(u for u in demo_company.slack.state.users.values() if u.name == "lena")
    assert demo_company.slack.dms(lena.id) == []  # away this week: no check-in DM, no reminder
    async with demo_company.app.sessions() as session:
        left = due(clock.now(), await load_snapshot(session, now=clock.now()))
    assert left == []  # nothing owed was skipped on the way


async def test_a_jump_to_the_next_check_in_stops_there(demo_company: SandboxStack) -> None:
    assert demo_company.app is not None
    machine = TimeMachine(Ceremony(demo_company.app))
    journey = await machine.travel_to(PLATFORM_P)
    assert journey.arrived - PLATFORM_P < timedelta(seconds=30)
    assert len(posted(demo_company, "platform", "Weekly check-in")) == 1
    assert posted(demo_company, "growth", "Weekly check-in") == []  # its round is later today

    # A reply in its thread is recorded at sandbox time, from the reply's ts.
    [prompt] = posted(demo_company, "platform", "Weekly check-in")
    arjun = next(u for u in demo_company.slack.state.users.values() if u.name == "arjun")
    assert demo_company.driver is not None
    reply = await demo_company.driver.say(
        arjun, "KR2 99.9 conf 8", channel=channel(demo_company, "platform"), thread_ts=prompt.ts
    )
    async with demo_company.app.sessions() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.source == "thread"))
    assert checkin is not None and checkin.period == "2026-W49" and checkin.value == 99.9
    recorded = checkin.recorded_at.replace(tzinfo=checkin.recorded_at.tzinfo or UTC)
    assert abs((recorded - PLATFORM_P).total_seconds()) < 60, recorded
    assert abs(float(reply.ts) - PLATFORM_P.timestamp()) < 60


async def test_the_cycle_end_jump_opens_grading_and_the_retrospective(
    demo_company: SandboxStack,
) -> None:
    """From the last evening of the demo's cycle, the cycle-end jump lands at its end: each
    key-result owner gets the grading DM and each team channel its retrospective poll."""
    from bot.models import Cycle
    from bot.sandbox.travel import move_to

    assert demo_company.app is not None
    machine = TimeMachine(Ceremony(demo_company.app))
    end = await machine.cycle_end()
    assert end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    move_to(end - timedelta(hours=2))
    journey = await machine.travel_to(end + timedelta(minutes=1))
    assert journey.arrived >= end
    async with demo_company.app.sessions() as session:
        owners = set(
            (
                await session.scalars(
                    select(KeyResult.owner_person_id).where(KeyResult.state == "active")
                )
            ).all()
        )
        assert (await session.scalars(select(Cycle.state))).all() == ["grading"]
    graded = [
        u
        for u in demo_company.slack.state.users.values()
        if any("Grade your key results of" in m.text for m in demo_company.slack.dms(u.id))
    ]
    assert len(graded) == len(owners)
    for name in ("platform", "growth", "support"):
        polls = [
            m
            for m in demo_company.slack.channel_messages(channel(demo_company, name).id)
            if "Rate it from 1 to 5" in str(m.blocks)
        ]
        assert len(polls) == 1, name
