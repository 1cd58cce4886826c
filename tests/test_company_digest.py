"""The company digest over the emulator: once, at the weekly report's instant, in the company
channel (by DM to each facilitator when none is set, nothing for a paused workspace); each
company objective with its own progress and beside it its aligned teams' roll-up, the at-risk
and off-track key results under it, participation by team (figures worked out here from the
seeded plan); hostile titles escaped; the same statements for 3 and 30 teams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.blocks.company_digest import attention_line
from bot.jobs.clock import Ceremony
from bot.models import KeyResult, Objective, OutboxItem, Person, Workspace
from bot.okr.period import monday_of
from bot.repository.checkins import CheckinRow, insert_checkins
from bot.repository.refs import next_ref_number
from bot.sandbox.emulator import User
from bot.sandbox.emulator.blockkit import validate_message
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from bot.services.actors import actor_for
from bot.services.company_digest import read_company_digest
from bot.services.report import read_report
from tests.ceremony_fixtures import clocked_stack
from tests.databases import Database
from tests.statements import counting_statements

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # the day after Monday's default round
CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
EVIL = "<!channel> Grow <https://evil|fast> & more"
EVIL_KR = "<@U0BOSS> revenue & <!here>"
WEEK = "2026-W48"  # the latest week whose digest time (Wednesday 10:00) has passed on TUESDAY

# The plan: (team, owner) -> value checked in for WEEK (None: no check-in). Team key results
# are `Signups from 0 to 100` (owner 0) and `NPS 30 to 50` (owner 1).
TEAM_VALUES = {(0, 0): 50.0, (0, 1): 45.0, (1, 0): 80.0, (1, 1): None}
COMPANY_VALUE = 400.0  # of a key result going from 0 to 1000


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def tuesday() -> Iterator[None]:
    before = clock.offset()
    set_now(TUESDAY)
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database) as running:
        yield running


def expected_figures() -> dict[str, Any]:
    """Worked out from the plan, not by the bot's code."""
    elapsed = (TUESDAY - datetime(2026, 10, 1, tzinfo=UTC)) / timedelta(days=92)
    team_progress = {
        (0, 0): 50 / 100,
        (0, 1): (45 - 30) / (50 - 30),
        (1, 0): 80 / 100,
        (1, 1): 0.0,
    }
    behind = {k for k, p in team_progress.items() if p < elapsed - 0.10}  # not on track
    return {
        "expected": elapsed,  # 0.667…
        "company": COMPANY_VALUE / 1000,  # 40 %: off track (below expected - 0.25)
        "rollup": sum(team_progress.values()) / len(team_progress),  # 51.25 %
        "behind": behind,  # (0, 0) at risk, (1, 1) off track
        "participation": {
            team: (sum(1 for (t, _), v in TEAM_VALUES.items() if t == team and v is not None), 2)
            for team in (0, 1)
        },
    }


async def seed(
    stack: SandboxStack, *, teams: int = 2, company_channel: bool = True
) -> tuple[World, User, str | None, list[int]]:
    """Teams of two owners each with a team objective aligned to a company objective (title
    hostile) whose own key result the facilitator owns; check-ins by the plan for WEEK."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=teams, cycle=CYCLE)
    fac = stack.slack.add_user(stack.ws, "fac")
    channel = stack.slack.add_channel(stack.ws, "company", members=[fac]).id
    created = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=fac.id)
        (await session.get_one(Person, actor.person_id)).role = "facilitator"
        workspace = await session.get_one(Workspace, world.workspace_id)
        if company_channel:
            workspace.settings = {**(workspace.settings or {}), "company_channel": channel}
        cycle_id = await session.scalar(select(Objective.cycle_id).limit(1))
        company = Objective(
            workspace_id=world.workspace_id, cycle_id=cycle_id, level="company", title=EVIL,
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="O"),
            owner_person_id=actor.person_id,
        )  # fmt: skip
        session.add(company)
        await session.flush()
        revenue = KeyResult(
            workspace_id=world.workspace_id, objective_id=company.id, title=EVIL_KR,
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="KR"),
            owner_person_id=actor.person_id, start_value=0.0, target_value=1000.0,
        )  # fmt: skip
        session.add(revenue)
        await session.flush()
        await session.execute(
            update(Objective)
            .where(Objective.level == "team")
            .values(parent_objective_id=company.id)
        )
        await session.execute(update(KeyResult).values(created_at=created))
        at = datetime.combine(monday_of(WEEK), datetime.min.time(), UTC) + timedelta(hours=12)
        rows = [
            CheckinRow(
                workspace_id=world.workspace_id, key_result_id=revenue.id, period=WEEK,
                value=COMPANY_VALUE, author_person_id=actor.person_id, recorded_at=at,
                source="command", source_ref="revenue",
            )
        ]  # fmt: skip
        for (team, owner), value in TEAM_VALUES.items():
            if value is None or team >= len(world.teams):
                continue
            user = world.teams[team].owners[owner]
            rows.append(CheckinRow(
                workspace_id=world.workspace_id,
                key_result_id=world.teams[team].key_result_ids[owner], period=WEEK,
                value=value, author_person_id=world.person(user), recorded_at=at,
                source="command", source_ref=f"{WEEK}:{user.id}",
            ))  # fmt: skip
        await insert_checkins(session, rows)
    return world, fac, channel if company_channel else None, [revenue.id]


async def run_ticks(stack: SandboxStack, *instants: datetime) -> None:
    assert stack.app is not None
    ceremony = Ceremony(stack.app)
    for at in instants:
        set_now(at)
        await ceremony.tick()
        await ceremony.sender.drain()


def digests_in(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.bot_id and "Company digest" in m.text]


def text_of(message: Message) -> str:
    validate_message({"text": message.text, "blocks": message.blocks})  # Slack's limits
    return "\n".join(
        str(b.get("text", {}).get("text", "")) if b["type"] != "context"
        else " ".join(e.get("text", "") for e in b["elements"])
        for b in message.blocks
    )  # fmt: skip


async def company_rows(stack: SandboxStack) -> list[tuple[str, str]]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = await session.execute(
            select(OutboxItem.idempotency_key, OutboxItem.state).where(
                OutboxItem.kind == "company_digest"
            )
        )
        return [(key, state) for key, state in rows]


async def test_the_company_digest_goes_once_to_the_company_channel(stack: SandboxStack) -> None:
    world, fac, channel, _ = await seed(stack)
    assert channel is not None
    await run_ticks(stack, TUESDAY - timedelta(minutes=1))
    assert digests_in(stack.slack.channel_messages(channel)) == []  # not before its time
    await run_ticks(stack, TUESDAY, TUESDAY + timedelta(hours=3))  # a repeated tick adds nothing
    [digest] = digests_in(stack.slack.channel_messages(channel))
    assert not digests_in(stack.slack.dms(fac.id))  # a channel is set: no DM
    assert await company_rows(stack) == [
        (f"company_digest:{world.workspace_id}:2026-12-01", "sent")
    ]
    text = text_of(digest)
    figures = expected_figures()
    expected, company, rollup = (round(figures[k] * 100) for k in ("expected", "company", "rollup"))
    assert (expected, company, rollup) == (67, 40, 51)  # the plan's sense
    objective = text.split("*O3*")[1]
    assert f"{company}% · {company} % done, {expected} % of the cycle gone: behind" in objective
    assert f"Beside it, aligned (2 team objectives): {rollup} %" in objective
    # At risk and off track, under the company objective: its own, and the teams'.
    attention = objective.split("Participation")[0]
    assert "🔴 off track *KR5*" in attention and f"<@{fac.id}>" in attention
    for team, owner in sorted(figures["behind"]):
        kr = f"KR{team * 2 + owner + 1}"
        label = "🔴 off track" if (team, owner) == (1, 1) else "🟡 at risk"
        assert f"{label} *{kr}*" in attention
        assert f"(via *O{team + 1}*)" in attention
        assert f"<@{world.teams[team].owners[owner].id}>" in attention
    assert "KR2" not in attention and "KR3" not in attention  # on track
    # Participation by team for WEEK.
    for team, (checked, due) in figures["participation"].items():
        assert f"Team {team} · {WEEK}: {checked}/{due} checked in" in text
    assert f"no team · {WEEK}: 1/1 checked in" in text  # the facilitator's company key result
    # Hostile titles are escaped; nobody is pinged.
    assert "&lt;!channel&gt; Grow &lt;https://evil|fast&gt; &amp; more" in text
    assert "&lt;@U0BOSS&gt; revenue &amp; &lt;!here&gt;" in text
    for bad in ("<!channel>", "<!here>", "<@U0BOSS>", "<https"):
        assert bad not in text and bad not in digest.text


async def test_without_a_company_channel_it_goes_to_each_facilitator(
    stack: SandboxStack,
) -> None:
    assert stack.ws is not None
    world, fac, _, _ = await seed(stack, company_channel=False)
    other = stack.slack.add_user(stack.ws, "fac2")
    assert stack.app is not None
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=other.id)
        (await session.get_one(Person, actor.person_id)).role = "facilitator"
        fac_id = await session.scalar(select(Person.id).where(Person.slack_user_id == fac.id))
    await run_ticks(stack, TUESDAY, TUESDAY + timedelta(hours=1))
    for user in (fac, other):
        [dm] = digests_in(stack.slack.dms(user.id))
        assert "*O3*" in text_of(dm)
    keys = sorted(key for key, state in await company_rows(stack) if state == "sent")
    assert keys == sorted(
        f"company_digest:{world.workspace_id}:2026-12-01:{p}" for p in (fac_id, actor.person_id)
    )


async def test_nothing_for_a_paused_workspace(stack: SandboxStack) -> None:
    world, fac, channel, _ = await seed(stack)
    assert stack.app is not None and channel is not None
    async with stack.app.sessions.begin() as session:
        (await session.get_one(Workspace, world.workspace_id)).state = "paused"
    await run_ticks(stack, TUESDAY, TUESDAY + timedelta(hours=1))
    assert digests_in(stack.slack.channel_messages(channel)) == []
    assert await company_rows(stack) == []


async def test_an_outdated_key_result_counts_as_at_risk(stack: SandboxStack) -> None:
    """Team 1's NPS key result was last checked in two weeks before this one, reported on
    track at 90 %: outdated now, so it is listed as at risk (and marked outdated) whatever
    its owner said; the others keep their status."""
    world, _, _, _ = await seed(stack)
    assert stack.app is not None
    nps = world.teams[1].key_result_ids[1]
    owner = world.person(world.teams[1].owners[1])
    async with stack.app.sessions.begin() as session:
        await insert_checkins(session, [CheckinRow(
            workspace_id=world.workspace_id, key_result_id=nps, period="2026-W47", value=48.0,
            status="on_track", confidence=9, author_person_id=owner,
            recorded_at=datetime(2026, 11, 17, 12, 0, tzinfo=UTC), source="command",
            source_ref="W47:nps",
        )])  # fmt: skip
        ref = f"KR{(await session.get_one(KeyResult, nps)).ref_number}"
    async with stack.app.sessions() as session:
        found = await read_company_digest(session, workspace_id=world.workspace_id, now=TUESDAY)
    assert found is not None
    listed = {kr.ref: kr for kr in found.objectives[0].attention}
    assert listed[ref].status == "at_risk" and listed[ref].outdated
    assert listed[ref].progress == pytest.approx(0.9)
    assert [kr.ref for kr in listed.values() if kr.outdated] == [ref]
    assert "KR5" in listed and listed["KR5"].status == "off_track"  # checked in this week
    line = attention_line(listed[ref])
    assert line.startswith(f"• 🟡 at risk *{ref}*") and line.endswith("⏳ outdated")


async def test_everyone_counts_a_person_in_two_teams_once(stack: SandboxStack) -> None:
    """Team 0's first owner also owns team 1's signups key result (and checked it in): the
    team lines say 2/2, 1/2 and 1/1 (no team), 4/5 if summed; everyone is four people, three
    of whom checked in on everything they owned. The facilitator's report counts the same."""
    world, _, channel, _ = await seed(stack)
    assert stack.app is not None and channel is not None
    both = world.person(world.teams[0].owners[0])
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(KeyResult)
            .where(KeyResult.id == world.teams[1].key_result_ids[0])
            .values(owner_person_id=both)
        )
    async with stack.app.sessions() as session:
        found = await read_company_digest(session, workspace_id=world.workspace_id, now=TUESDAY)
        report = await read_report(session, workspace_id=world.workspace_id, now=TUESDAY)
    assert found is not None
    lines = {t.name: (t.week, t.checked, t.due) for t in found.participation}
    assert lines == {"Team 0": (WEEK, 2, 2), "Team 1": (WEEK, 1, 2), "no team": (WEEK, 1, 1)}
    assert found.everyone is not None
    assert (found.everyone.name, found.everyone.week) == ("everyone", WEEK)
    assert (found.everyone.checked, found.everyone.due) == (3, 4)
    week = report.periods.index(WEEK)
    assert report.total[week].text() == "3/4"
    assert sum(row.cells[week].due for row in report.teams) == 5  # not what everyone says
    await run_ticks(stack, TUESDAY)
    [digest] = digests_in(stack.slack.channel_messages(channel))
    text = text_of(digest)
    assert text.index("Team 1 · ") < text.index(f"*everyone · {WEEK}: 3/4 checked in (75 %)*")


async def test_the_same_statements_for_3_and_30_teams(stack: SandboxStack) -> None:
    """30 teams are made at once; at first 27 of them have no aligned objective in the cycle
    (archived), then all 30 are shown."""
    world, _, _, _ = await seed(stack, teams=30)
    assert stack.app is not None
    later = [team.id for team in world.teams[3:]]
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(Objective).where(Objective.team_id.in_(later)).values(state="archived")
        )

    async def statements() -> tuple[int, Any]:
        assert stack.app is not None
        async with stack.app.sessions() as session:
            with counting_statements(stack.app.engine) as seen:
                found = await read_company_digest(
                    session, workspace_id=world.workspace_id, now=TUESDAY
                )
        assert found is not None
        return len(seen), found

    three, found = await statements()
    assert found.objectives[0].aligned == 3
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Objective).values(state="active"))
    thirty, found = await statements()
    assert found.objectives[0].aligned == 30 and len(found.participation) == 31
    assert three == thirty, (three, thirty)


def test_due_owes_it_once_at_the_report_instant_only_with_an_open_cycle() -> None:
    """Pure: at 10:00 the day after the default round; not before, not once queued (the
    snapshot's keys), not with no open cycle; per facilitator with no company channel."""
    from zoneinfo import ZoneInfo

    from bot.jobs.due import FacilitatorDue, Round, Schedule, Snapshot, WorkspaceDue, due

    default = Round(None, Schedule(0, datetime.min.time().replace(hour=10), ZoneInfo("UTC")))

    def owed(now: datetime, **kwargs: Any) -> list[str]:
        queued = kwargs.pop("queued", frozenset())
        workspace = WorkspaceDue(1, default, **{"company_channel": "C1", **kwargs})
        snapshot = Snapshot(
            workspaces={1: workspace}, teams={}, people={}, key_results=(),
            facilitators=(FacilitatorDue(7, 1, "facilitator"), FacilitatorDue(8, 1, "admin")),
            company_digests=queued,
        )  # fmt: skip
        return [i.key for i in due(now, snapshot) if i.kind == "company_digest"]

    key = "company_digest:1:2026-12-01"
    assert owed(TUESDAY - timedelta(minutes=1)) == []
    assert owed(TUESDAY) == [key]
    assert owed(TUESDAY + timedelta(hours=13, minutes=59)) == [key]
    assert owed(TUESDAY + timedelta(hours=14)) == []  # the day is over
    assert owed(TUESDAY, queued=frozenset({key})) == []
    assert owed(TUESDAY, open_cycle=False) == []
    assert owed(TUESDAY, acting=False) == []
    assert owed(TUESDAY, company_channel=None) == [f"{key}:7"]  # the facilitator, not the admin


def test_a_long_company_digest_is_cut_within_slacks_limits() -> None:
    from bot.blocks.company_digest import (
        AttentionKeyResult,
        CompanyDigest,
        CompanyObjective,
        TeamWeek,
        build_company_digest,
    )

    krs = tuple(
        AttentionKeyResult(f"KR{i}", "x" * 300, "at_risk", 0.2, "U1", "O9") for i in range(40)
    )
    data = CompanyDigest(
        "Q4",
        "2026-12-01",
        0.5,
        tuple(CompanyObjective(f"O{i}", "y" * 300, 0.3, 0.4, 5, krs) for i in range(40)),
        tuple(TeamWeek(f"Team {i}", WEEK, 1, 2) for i in range(400)),
    )
    blocks = build_company_digest(data)
    validate_message({"text": "Company digest", "blocks": blocks})
    text = str(blocks)
    assert len(blocks) <= 50
    assert "more company objectives" in text and "more key results" in text
    assert "more teams" in text and "Participation by team" in text
