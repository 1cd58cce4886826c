"""`/okr report` and the weekly report DM over the emulator: participation per team and week
(figures worked out here from the seeded plan), people missing weeks in a row, stale key
results, quality findings, delivery problems; members refused; the same statements for 3 and
30 teams; hostile names escaped; the DM once a facilitator, at its time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import (
    AwayPeriod,
    Cycle,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamSkippedPeriod,
    Workspace,
)
from bot.okr.period import monday_of
from bot.repository.checkins import CheckinRow, insert_checkins
from bot.sandbox.conversation import Conversation, Reply
from bot.sandbox.emulator import User
from bot.sandbox.emulator.blockkit import validate_message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from bot.services import key_results, objectives
from bot.services.actors import actor_for
from tests.ceremony_fixtures import clocked_stack
from tests.databases import Database
from tests.statements import counting_statements

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 2026-W49, after its digest time
WEEKS = ("2026-W46", "2026-W47", "2026-W48", "2026-W49")
HOSTILE_TEAM = "<!here> & Ops"
EVIL = "<!channel> Grow <https://evil|fast> & more"


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def wednesday() -> Iterator[None]:
    before = clock.offset()
    set_now(WEDNESDAY_NOON)
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database) as running:
        yield running


# The plan: which weeks each owner checks in (team, owner index) -> weeks. Team 1 skips W47;
# owner 1-0 is away on W48's round day (Monday 2026-11-23).
CHECKED_IN = {
    (0, 0): WEEKS,
    (0, 1): ("2026-W46",),  # then missing W47, W48, W49: 3 in a row, and stale
    (1, 0): ("2026-W46", "2026-W47", "2026-W49"),
    (1, 1): ("2026-W48", "2026-W49"),  # missed W46 only (W47 skipped)
}
SKIPPED = {(1, "2026-W47")}
AWAY = {(1, 0): (date(2026, 11, 22), date(2026, 11, 24))}


def expected_cells() -> tuple[dict[int, list[str]], list[str]]:
    """The participation table worked out from the plan, not by the bot's code: per team,
    `checked/due` a week (away owners are not due; a skipped week says `skip`), and everyone
    counted once a week."""
    teams: dict[int, list[str]] = {}
    everyone: list[str] = []
    for week in WEEKS:
        due_people: dict[tuple[int, int], bool] = {}
        for team in (0, 1):
            if (team, week) in SKIPPED:
                teams.setdefault(team, []).append("skip")
                continue
            round_day = monday_of(week)
            checked = due = 0
            for owner in (0, 1):
                away = AWAY.get((team, owner))
                if away and away[0] <= round_day <= away[1]:
                    continue
                due += 1
                done = week in CHECKED_IN[(team, owner)]
                checked += done
                due_people[(team, owner)] = done
            teams.setdefault(team, []).append(f"{checked}/{due}")
        everyone.append(f"{sum(due_people.values())}/{len(due_people)}")
    return teams, everyone


async def seed(stack: SandboxStack) -> tuple[World, User, User]:
    """Two teams of two owners (key results created in W46), check-ins by the plan, team 1
    renamed to a hostile name, team 0 paused and needing attention, a failed prompt, a DM the
    sweep could not read, and an objective of the facilitator's with one poor key result."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2)
    fac = stack.slack.add_user(stack.ws, "fac")
    member = world.teams[0].owners[0]
    created = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    rows = []
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=fac.id)
        (await session.get_one(Person, actor.person_id)).role = "facilitator"
        await session.execute(update(KeyResult).values(created_at=created))
        team0 = await session.get_one(Team, world.teams[0].id)
        team0.paused, team0.needs_attention = True, "the bot was removed from its channel"
        (await session.get_one(Team, world.teams[1].id)).name = HOSTILE_TEAM
        for team, week in SKIPPED:
            session.add(TeamSkippedPeriod(workspace_id=world.workspace_id,
                                          team_id=world.teams[team].id, period=week))  # fmt: skip
        for (team, owner), (start, end) in AWAY.items():
            person = world.person(world.teams[team].owners[owner])
            session.add(AwayPeriod(workspace_id=world.workspace_id, person_id=person,
                                   starts_on=start, ends_on=end))  # fmt: skip
        for (team, owner), weeks in CHECKED_IN.items():
            user = world.teams[team].owners[owner]
            for week in weeks:
                rows.append(CheckinRow(
                    workspace_id=world.workspace_id,
                    key_result_id=world.teams[team].key_result_ids[owner],
                    period=week, value=10.0, author_person_id=world.person(user),
                    recorded_at=datetime.combine(monday_of(week), datetime.min.time(), UTC)
                    + timedelta(hours=12),
                    source="command", source_ref=f"{week}:{user.id}",
                ))  # fmt: skip
        await insert_checkins(session, rows)
        session.add_all([
            OutboxItem(
                workspace_id=world.workspace_id, kind="prompt", state="failed",
                idempotency_key=f"prompt:{world.workspace_id}:{world.teams[0].id}:2026-W48",
                target=str(world.teams[0].id), period="2026-W48", payload={},
                error="channel_not_found", next_attempt_at=WEDNESDAY_NOON,
                updated_at=WEDNESDAY_NOON - timedelta(days=2),
            ),
            OutboxItem(  # failed long ago: not shown
                workspace_id=world.workspace_id, kind="dm", state="failed",
                idempotency_key=f"dm:{world.workspace_id}:1:2026-W40", target="1",
                period="2026-W40", payload={}, error="user_disabled",
                next_attempt_at=WEDNESDAY_NOON, updated_at=WEDNESDAY_NOON - timedelta(days=50),
            ),
            OutboxItem(
                workspace_id=world.workspace_id, kind="dm", state="sent",
                idempotency_key=f"dm:{world.workspace_id}:{world.person(member)}:2026-W49",
                target=str(world.person(member)), period="2026-W49",
                payload={"person_id": world.person(member), "sweep_unchecked": "ratelimited"},
                next_attempt_at=WEDNESDAY_NOON,
            ),
        ])  # fmt: skip
        saved = await objectives.create_objective(
            session, actor=actor, title=EVIL, level="personal", today=clock.now().date()
        )
        await key_results.add_key_result(
            session, actor=actor, objective_ref=saved.ref, title="Ship the beta",
            kind="milestone", target=1,
        )  # fmt: skip
        await session.execute(  # nobody owns it: no one is due for it
            update(KeyResult).where(KeyResult.ref_number == 5).values(owner_person_id=None)
        )
    return world, fac, member


async def ask(stack: SandboxStack, who: User) -> Reply:
    assert stack.driver is not None
    reply = await Conversation(stack.driver).command(who, "report")
    assert reply.answer.status == 200, reply.answer.body
    return reply


def blocks_of(stack: SandboxStack, who: User) -> list[dict[str, Any]]:
    message = stack.slack.answers_to(who.id)[-1].message
    validate_message({"text": message.text, "blocks": message.blocks})  # Slack's limits
    return list(message.blocks)


def table_rows(blocks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The participation table: each row's cells by its (escaped) name."""
    found: dict[str, list[str]] = {}
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if not text.startswith("```"):
            continue
        for line in text.strip("`\n").splitlines():
            name, cells = line[:16].strip(), line[16:].split()
            escaped = line.startswith("&lt;")  # a hostile name is wider once escaped
            if escaped:
                name, cells = HOSTILE_TEAM_ESCAPED, line[len(HOSTILE_TEAM_ESCAPED) :].split()
            found[name] = cells
    return found


HOSTILE_TEAM_ESCAPED = "&lt;!here&gt; &amp; Ops"


async def test_the_report_shows_participation_stale_quality_and_delivery(
    stack: SandboxStack,
) -> None:
    world, fac, member = await seed(stack)
    reply = await ask(stack, fac)
    blocks = blocks_of(stack, fac)
    rows = table_rows(blocks)
    teams, everyone = expected_cells()
    assert rows["team"] == ["W46", "W47", "W48", "W49"]  # weeks before anyone was due: left out
    assert rows["Team 0 (paused)"] == teams[0]
    assert rows[HOSTILE_TEAM_ESCAPED] == teams[1]
    assert rows["everyone"] == everyone
    assert everyone == ["3/4", "1/2", "2/3", "3/4"] and teams[1][2] == "1/1"  # the plan's sense
    text = reply.text
    lagging = world.teams[0].owners[1]
    assert f"@{lagging.name}: 3 weeks, since 2026-W47" in text
    assert "owner1-1" not in text.split("Missing 2+ weeks in a row")[1].split("Stale")[0]
    stale = text.split("Stale key results")[1].split("Quality")[0]
    assert "*KR2* NPS 30 to 50" in stale and "last check-in 2026-W46" in stale
    assert "KR1" not in stale and "KR3" not in stale and "KR4" not in stale
    quality = text.split("Quality:")[1].split("Delivery")[0]
    assert "*O1* Team 0 delights its customers: a number in the objective; not aligned" in quality
    assert (
        "*O3*" in quality
        and "too few key results; KR5: reads like an activity; KR5: no owner" in quality
    )
    delivery = text.split("*Delivery*")[1]
    assert "1 × `prompt` failed: `channel_not_found`" in delivery
    assert "user_disabled" not in delivery  # too old to matter
    assert "*Team 0* is paused" in delivery
    assert "*Team 0* needs attention: the bot was removed from its channel" in delivery
    assert f"2026-W49: could not read @{member.name}'s DM before the digest: ratelimited" in (
        delivery
    )
    # Hostile text is escaped wherever it is mrkdwn; nobody is pinged.
    for block in blocks:
        mrkdwn = (block.get("text") or {}).get("text", "") if block["type"] == "section" else ""
        assert "<!here>" not in mrkdwn and "<!channel>" not in mrkdwn and "<https" not in mrkdwn
    assert any("&lt;!channel&gt; Grow &lt;https://evil|fast&gt; &amp; more" in
               str(b) for b in blocks)  # fmt: skip
    # A paused workspace says so, with its reason.
    async with stack.app.sessions.begin() as session:  # type: ignore[union-attr]
        workspace = await session.get_one(Workspace, world.workspace_id)
        workspace.state, workspace.pause_reason = "paused", "token_revoked"
    reply = await ask(stack, fac)
    assert "The workspace is paused: token_revoked" in reply.text


async def test_a_member_is_refused_and_told_who_may(stack: SandboxStack) -> None:
    _, _, member = await seed(stack)
    reply = await ask(stack, member)
    assert "The report is for facilitators and admins" in reply.text
    assert "Participation" not in reply.text and "```" not in str(blocks_of(stack, member))


async def test_a_long_report_is_cut_within_slacks_limits(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=80)
    fac = stack.slack.add_user(stack.ws, "fac")
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=fac.id)
        (await session.get_one(Person, actor.person_id)).role = "admin"
        await session.execute(
            update(KeyResult).values(created_at=datetime(2026, 10, 5, tzinfo=UTC))
        )
    reply = await ask(stack, fac)
    blocks = blocks_of(stack, fac)  # validated against Slack's limits
    assert len(blocks) <= 50
    assert "more teams" in reply.text and "more key results" in reply.text
    assert len(world.teams) == 80


async def test_the_same_statements_for_3_and_30_teams(stack: SandboxStack) -> None:
    """30 teams are made at once; at first 27 of them have their objectives in another
    (closed) cycle, so the report shows 3; then all 30, with check-ins."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=30)
    fac = stack.slack.add_user(stack.ws, "fac")
    later = [team.id for team in world.teams[3:]]
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=fac.id)
        (await session.get_one(Person, actor.person_id)).role = "facilitator"
        aside = Cycle(workspace_id=world.workspace_id, name="aside", state="closed",
                      starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30))  # fmt: skip
        session.add(aside)
        await session.flush()
        first = await session.scalar(select(Cycle.id).where(Cycle.name == "2026-Q4"))
        await session.execute(
            update(Objective).where(Objective.team_id.in_(later)).values(cycle_id=aside.id)
        )
    await ask(stack, fac)  # known from now on

    async def statements() -> tuple[int, str]:
        assert stack.app is not None
        with counting_statements(stack.app.engine) as seen:
            reply = await ask(stack, fac)
        assert "OKR report" in reply.text
        return len(seen), reply.text

    three, shown = await statements()
    assert "Team 2 " in shown and "Team 3 " not in shown
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Objective).values(cycle_id=first))
        await insert_checkins(session, [
            CheckinRow(workspace_id=world.workspace_id, key_result_id=kr, period="2026-W49",
                       value=3.0, author_person_id=None, recorded_at=WEDNESDAY_NOON,
                       source="command", source_ref=f"r{kr}")
            for team in world.teams for kr in team.key_result_ids
        ])  # fmt: skip
    thirty, shown = await statements()
    assert "Team 29 " in shown
    assert three == thirty, (three, thirty)


async def test_the_weekly_report_dm_goes_to_each_facilitator_once(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None
    world, fac, _ = await seed(stack)
    gone = stack.slack.add_user(stack.ws, "gone")
    admin = stack.slack.add_user(stack.ws, "boss")
    async with stack.app.sessions.begin() as session:
        for user, role in ((gone, "facilitator"), (admin, "admin")):
            actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=user.id)
            person = await session.get_one(Person, actor.person_id)
            person.role, person.is_deactivated = role, user is gone
    ceremony = Ceremony(stack.app)
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # the day after Monday's default round
    set_now(tuesday - timedelta(minutes=1))
    await ceremony.tick()
    await ceremony.sender.drain()
    assert not [m for m in stack.slack.dms(fac.id) if m.bot_id]
    set_now(tuesday)
    await ceremony.tick()
    await ceremony.sender.drain()
    set_now(tuesday + timedelta(hours=3))
    await ceremony.tick()  # a repeated tick adds nothing
    await ceremony.sender.drain()
    [dm] = [m for m in stack.slack.dms(fac.id) if m.bot_id and "OKR report" in m.text]
    assert "Missing 2+ weeks in a row" in str(dm.blocks) and "2026-Q4" in dm.text
    assert not [m for m in stack.slack.dms(gone.id) if m.bot_id]
    assert not [m for m in stack.slack.dms(admin.id) if m.bot_id]  # there is a facilitator
    async with stack.app.sessions() as session:
        rows = (
            (await session.execute(select(OutboxItem).where(OutboxItem.kind == "report")))
            .scalars()
            .all()
        )
        fac_id = await session.scalar(select(Person.id).where(Person.slack_user_id == fac.id))
    assert [(r.idempotency_key, r.state) for r in rows] == [
        (f"report:{world.workspace_id}:{fac_id}:2026-12-01", "sent")
    ]
