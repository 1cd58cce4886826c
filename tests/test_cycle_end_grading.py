"""A cycle's end over the emulator: the clock moves it to grading at end + 1 day 00:00 in the
workspace's zone, check-ins with no prompt are refused then while answers to a round's prompt
still count, one grading DM a person, grading in the modal and by command (with its
refusals), one reminder, and at the deadline measured progress for what nobody graded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Checkin, Cycle, Grade, OutboxItem
from bot.repository.checkins import CheckinRow, insert_checkins
from bot.sandbox.conversation import Conversation
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from tests.ceremony_fixtures import clocked_stack
from tests.databases import Database

CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
LAST_ROUND = datetime(2026, 12, 28, 10, 0, tzinfo=UTC)  # Monday of 2026-W53
END = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # end date + 1 day, 00:00 (workspace in UTC)
DEADLINE = END + timedelta(days=5)


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(LAST_ROUND)
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database) as running:
        yield running


async def run_ticks(stack: SandboxStack, *instants: datetime) -> Ceremony:
    assert stack.app is not None
    ceremony = Ceremony(stack.app)
    for at in instants:
        set_now(at)
        await ceremony.tick()
        await ceremony.sender.drain()
    return ceremony


async def seed(stack: SandboxStack) -> World:
    """One team, two owners: KR1 (0 → 100) checked in at 50, KR2 (30 → 50) at 45."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, cycle=CYCLE)
    team = world.teams[0]
    at = datetime(2026, 12, 21, 12, 0, tzinfo=UTC)
    async with stack.app.sessions.begin() as session:
        await insert_checkins(session, [
            CheckinRow(
                workspace_id=world.workspace_id, key_result_id=kr, period="2026-W52",
                value=value, author_person_id=world.person(owner), recorded_at=at,
                source="command", source_ref=f"seed:{kr}",
            )
            for kr, owner, value in zip(team.key_result_ids, team.owners, (50.0, 45.0), strict=True)
        ])  # fmt: skip
    return world


def bot_dms(stack: SandboxStack, user_id: str) -> list[Message]:
    return [m for m in stack.slack.dms(user_id) if m.bot_id]


def grading_dms(stack: SandboxStack, user_id: str) -> list[Message]:
    return [m for m in bot_dms(stack, user_id) if "grade" in m.text.lower()]


async def cycle_row(stack: SandboxStack) -> Cycle:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        return (await session.execute(select(Cycle))).scalar_one()


async def grades(stack: SandboxStack) -> dict[str, tuple[int, bool, str | None]]:
    """ref -> (hundredths, from measured, note), for key results (KR) and objectives (O)."""
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = (await session.execute(select(Grade))).scalars().all()
    return {
        (f"kr{g.key_result_id}" if g.key_result_id else f"o{g.objective_id}"): (
            g.score_hundredths, g.from_measured, g.note
        )
        for g in rows
    }  # fmt: skip


async def test_the_clock_moves_the_cycle_to_grading_at_its_end(stack: SandboxStack) -> None:
    world = await seed(stack)
    team = world.teams[0]
    ana, ben = team.owners
    await run_ticks(stack, LAST_ROUND, END - timedelta(minutes=1))
    assert (await cycle_row(stack)).state == "active"
    assert grading_dms(stack, ana.id) == []
    prompt = [m for m in stack.slack.channel_messages(team.channel.id) if m.bot_id][0]
    await run_ticks(stack, END, END + timedelta(hours=1))  # a repeated tick adds nothing
    cycle = await cycle_row(stack)
    assert (cycle.state, cycle.grading_started_at, cycle.grading_ends_at) == (
        "grading", END, DEADLINE
    )  # fmt: skip
    assert cycle.grading_deadline == date(2027, 1, 6)
    for owner, measured in ((ana, "0.50"), (ben, "0.75")):
        [dm] = grading_dms(stack, owner.id)
        assert f"measured {measured}" in str(dm.blocks) and "by 2027-01-06" in str(dm.blocks)
    assert grading_dms(stack, team.lead.id) == []  # no key result of their own
    assert stack.driver is not None
    talk = Conversation(stack.driver)
    # A check-in with no prompt after the end is refused, pointing to grading...
    refused = await talk.command(ana, "update KR1 60")
    assert "ended on 2026-12-31" in refused.text and "/okr grade KR1" in refused.text
    # ...while an answer to the last round's prompt still counts for that round.
    await stack.driver.say(ben, "#2 47", channel=team.channel, thread_ts=prompt.ts)
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = (await session.execute(select(Checkin.period, Checkin.value))).all()
    assert ("2026-W53", 47.0) in rows and ("2026-W53", 60.0) not in rows


async def test_grading_in_the_modal_and_by_command_then_the_deadline(
    stack: SandboxStack,
) -> None:
    world = await seed(stack)
    team = world.teams[0]
    ana, ben = team.owners
    kr1, kr2 = team.key_result_ids
    await run_ticks(stack, END)
    assert stack.driver is not None
    d = stack.driver
    [dm] = grading_dms(stack, ana.id)
    await d.click(
        ana, action_id="grading.open", message=dm, value=dm.blocks[-1]["elements"][0]["value"]
    )
    modal = await d.modal(ana)
    shown = str(modal.view["blocks"])
    assert "KR1" in shown and "KR2" not in shown and "'initial_value': '0.50'" in shown

    def grade_values(grade: str, reason: str | None = None) -> dict[str, dict[str, object]]:
        values: dict[str, dict[str, object]] = {
            "grade:KR1": {"grade": {"type": "plain_text_input", "value": grade}}
        }
        if reason is not None:
            values["reason:KR1"] = {"reason": {"type": "plain_text_input", "value": reason}}
        return values

    outside = await d.submit(ana, modal, grade_values("1.4"))
    assert "from 0.0 to 1.0" in str(outside.json)
    far = await d.submit(ana, modal, grade_values("0.9"))
    assert "more than 0.3 away from the measured 0.50" in str(far.json)
    assert await grades(stack) == {}  # refusals change nothing
    saved = await d.submit(ana, modal, grade_values("0.9", "a <b>big</b> deal signed late"))
    assert "KR1 0.90" in str(saved.json)
    assert await grades(stack) == {f"kr{kr1}": (90, False, "a <b>big</b> deal signed late")}
    talk = Conversation(d)
    for who, text, sees in (
        (ana, "grade KR2 0.5", "not yours to grade"),
        (ben, "grade KR2 1.5", "from 0.0 to 1.0"),
        (ben, "grade KR2 -0.1", "from 0.0 to 1.0"),
        (ben, "grade KR2 <!channel>", "&lt;!channel&gt;"),  # escaped: nobody is pinged
    ):
        reply = await talk.command(who, text)
        assert sees in reply.answer.body, reply.text
        assert "<!channel>" not in reply.answer.body
    assert f"kr{kr2}" not in await grades(stack)
    # A day before the deadline: one reminder, to ben only (ana has graded).
    await run_ticks(stack, DEADLINE - timedelta(days=1), DEADLINE - timedelta(hours=2))
    assert [m for m in bot_dms(stack, ben.id) if "Reminder" in m.text] != []
    assert len([m for m in bot_dms(stack, ben.id) if "Reminder" in m.text]) == 1
    assert [m for m in bot_dms(stack, ana.id) if "Reminder" in m.text] == []
    # The deadline: KR2 takes its measured progress, marked; the objective's grade is the
    # weighted mean (weights 1 and 1) rounded half-up: (0.90 + 0.75) / 2 = 0.825 -> 0.83.
    await run_ticks(stack, DEADLINE)
    found = await grades(stack)
    assert found[f"kr{kr2}"] == (75, True, None)
    objective = next(k for k in found if k.startswith("o"))
    assert found[objective][0] == 83
    assert (await cycle_row(stack)).state == "closed"
    late = await talk.command(ben, "grade KR2 0.8")
    assert "ended on 2027-01-06" in late.text and "final" in late.text
    assert (await grades(stack))[f"kr{kr2}"] == (75, True, None)


async def test_closing_twice_starts_one_grading(stack: SandboxStack) -> None:
    world = await seed(stack)
    assert stack.app is not None and stack.driver is not None and stack.ws is not None
    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    talk = Conversation(stack.driver)
    first = await talk.command(fac, "cycle close 2026-Q4")
    assert "closed for grading" in first.text and "grading until 2027-01-02" in first.text
    again = await talk.command(fac, "cycle close 2026-Q4")
    assert "being graded already" in again.text
    await run_ticks(stack, LAST_ROUND + timedelta(minutes=1), END)
    for owner in world.teams[0].owners:
        assert len(grading_dms(stack, owner.id)) == 1
    async with stack.app.sessions() as session:
        keys = (
            (
                await session.execute(
                    select(OutboxItem.idempotency_key).where(OutboxItem.kind == "grading")
                )
            )
            .scalars()
            .all()
        )
    assert len(keys) == 2
    cycle = await cycle_row(stack)
    assert cycle.grading_started_at is not None
    assert LAST_ROUND <= cycle.grading_started_at < LAST_ROUND + timedelta(minutes=1)  # by hand


async def test_grading_and_retro_days_come_from_the_settings(stack: SandboxStack) -> None:
    """`/okr settings` sets the days to grade (default 5) and the retro's (default: the same);
    a number of days out of bounds is refused on its field."""
    world = await seed(stack)
    assert stack.app is not None and stack.driver is not None and stack.ws is not None
    d = stack.driver
    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    await d.command(fac, "settings")
    modal = await d.modal(fac)

    def values(grading: str, retro: str) -> dict[str, dict[str, object]]:
        return {
            "timezone": {"timezone": {"type": "plain_text_input", "value": "UTC"}},
            "weekday": {"weekday": {"type": "static_select", "selected_option": {"value": "0"}}},
            "time": {"time": {"type": "timepicker", "selected_time": "10:00"}},
            "grading_days": {"grading_days": {"type": "number_input", "value": grading}},
            "retro_days": {"retro_days": {"type": "number_input", "value": retro}},
        }

    refused = await d.submit(fac, modal, values("90", "4"))
    assert "grading_days" in refused.json["errors"]  # type: ignore[index]
    saved = await d.submit(fac, modal, values("3", "4"))
    assert "3 days to grade, the retrospective open 4 days" in str(saved.json)
    await run_ticks(stack, END)
    cycle = await cycle_row(stack)
    assert (cycle.grading_ends_at, cycle.retro_ends_at) == (
        END + timedelta(days=3), END + timedelta(days=4)
    )  # fmt: skip
    assert world.teams


async def test_a_deactivated_owners_key_results_go_to_the_lead_else_a_facilitator(
    stack: SandboxStack,
) -> None:
    world = await seed(stack)
    assert stack.app is not None and stack.driver is not None and stack.ws is not None
    team = world.teams[0]
    ana, ben = team.owners
    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    talk = Conversation(stack.driver)
    await talk.command(fac, "cycle list")
    from bot.models import Person, Team

    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(Person).where(Person.id == world.person(ben)).values(is_deactivated=True)
        )
    await run_ticks(stack, END)
    assert grading_dms(stack, ben.id) == []
    [dm] = grading_dms(stack, team.lead.id)
    assert "KR2" in str(dm.blocks) and "its owner is deactivated" in str(dm.blocks)
    assert "not yours to grade" in (await talk.command(ana, "grade KR2 0.7")).text
    assert "Graded KR2 0.70" in (await talk.command(team.lead, "grade KR2 0.7")).text
    # With no lead either, a facilitator grades it.
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Team).values(lead_person_id=None))
    assert "Graded KR2 0.75" in (await talk.command(fac, "grade KR2 0.75")).text
    assert "not yours to grade" in (await talk.command(team.lead, "grade KR2 0.7")).text


async def test_the_company_summary_goes_to_the_company_channel(stack: SandboxStack) -> None:
    """Company objectives are summed up in the company channel (no retro there)."""
    world = await seed(stack)
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    from bot.models import KeyResult, Objective, Workspace
    from bot.repository.refs import next_ref_number

    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    await Conversation(stack.driver).command(fac, "cycle list")
    channel = stack.slack.add_channel(stack.ws, "company", members=[fac]).id
    async with stack.app.sessions.begin() as session:
        workspace = await session.get_one(Workspace, world.workspace_id)
        workspace.settings = {**(workspace.settings or {}), "company_channel": channel}
        cycle = (await session.execute(select(Cycle))).scalar_one()
        company = Objective(
            workspace_id=world.workspace_id, cycle_id=cycle.id, level="company",
            title="Be <!here> the best", commitment="committed",
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="O"),
        )  # fmt: skip
        session.add(company)
        await session.flush()
        session.add(KeyResult(
            workspace_id=world.workspace_id, objective_id=company.id, title="Revenue",
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="KR"),
            owner_person_id=world.person(world.teams[0].lead), start_value=0.0,
            target_value=10.0,
        ))  # fmt: skip
    await run_ticks(stack, END, DEADLINE)
    posted = [m for m in stack.slack.channel_messages(channel) if m.bot_id]
    [summary] = [m for m in posted if "summary · Company" in m.text]
    shown = str(summary.blocks)
    assert "Be &lt;!here&gt; the best (committed) 🔴 0.00" in shown and "<!here>" not in shown
    assert "missed (0.00)" in shown and "Rating of the cycle" not in shown
    team_posts = [m for m in stack.slack.channel_messages(world.teams[0].channel.id) if m.bot_id]
    assert "Be &lt;!here&gt;" not in str([m.blocks for m in team_posts if "summary" in m.text])


async def test_a_committed_objectives_owner_explains_a_miss(stack: SandboxStack) -> None:
    """The lead owns the committed objective but none of its key results: they get a grading
    DM all the same, and their form asks why it landed below 1.0."""
    world = await seed(stack)
    assert stack.app is not None and stack.driver is not None
    from bot.models import Objective

    async with stack.app.sessions.begin() as session:
        await session.execute(update(Objective).values(commitment="committed"))
    await run_ticks(stack, END)
    lead = world.teams[0].lead
    [dm] = grading_dms(stack, lead.id)
    assert "Committed objectives of yours (O1)" in str(dm.blocks)
    d = stack.driver
    await d.click(
        lead, action_id="grading.open", message=dm, value=dm.blocks[-1]["elements"][0]["value"]
    )
    modal = await d.modal(lead)
    refused = await d.submit(lead, modal, {})
    assert "explain:O1" in refused.json["errors"]  # type: ignore[index]
    explained = {"explain:O1": {"explain": {"type": "plain_text_input", "value": "late start"}}}
    saved = await d.submit(lead, modal, explained)
    assert saved.json is not None and saved.json["response_action"] == "update"
    await run_ticks(stack, DEADLINE)
    found = await grades(stack)
    objective = next(k for k in found if k.startswith("o"))
    assert found[objective] == (63, False, "late start")  # (0.50 + 0.75) / 2 = 0.625 -> 0.63
