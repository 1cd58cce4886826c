"""`/okr cycle …` and `/okr facilitator …` as conversations over the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.models import Audit, Cycle, Person
from bot.sandbox.conversation import Conversation, Step
from bot.sandbox.emulator import User
from bot.sandbox.stack import SandboxStack
from tests.databases import Database


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def people(stack: SandboxStack) -> dict[str, User]:
    assert stack.ws is not None
    return {
        "pat": stack.slack.add_user(stack.ws, "pat", admin=True),  # a Slack workspace admin
        "sam": stack.slack.add_user(stack.ws, "sam"),
    }


async def test_cycles_and_facilitators(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.app is not None
    who = people(stack)
    sam = who["sam"].id
    await Conversation(stack.driver).run(
        who,
        [
            Step("sam", "/okr cycle new 2027-Q1", sees=("Facilitators and admins run cycles",)),
            Step(
                "pat",
                "/okr cycle new 2027-Q1",
                sees=("Created *2027-Q1*  2027-01-01 → 2027-03-31  _planning_",),
            ),
            Step("pat", "/okr cycle new 2027-Q1", sees=("exists already",)),
            Step(
                "pat",
                "/okr cycle new H1 2027-06-30 2027-01-01",
                sees=(
                    "would end (2027-01-01) before it starts (2027-06-30)",
                    "/okr cycle new H1 2027-01-01 2027-06-30",
                ),
            ),
            Step(
                "pat",
                "/okr cycle new H1 2027-13-01 2027-06-30",
                sees=("`2027-13-01` is not a date",),
            ),
            Step("pat", "/okr cycle new H1", sees=("Give the first and last day",)),
            Step(
                "pat",
                "/okr cycle new <!channel> 2027-01-01 2027-03-31",
                sees=("A cycle name has 1 to 40",),
                not_sees=("@channel",),
            ),
            Step("pat", "/okr cycle", sees=("Try `/okr cycle new",)),
            Step("pat", "/okr cycle start", sees=("Name the cycle",)),
            Step("pat", "/okr cycle start 2027-Q1", sees=("*2027-Q1*", "is under way")),
            Step("pat", "/okr cycle new 2027-Q2", sees=("2027-04-01 → 2027-06-30",)),
            Step(
                "pat",
                "/okr cycle start 2027-Q2",
                sees=("`2027-Q1` is still active", "/okr cycle close 2027-Q1"),
            ),
            Step(
                "pat", "/okr cycle list", sees=("*2027-Q2*", "_planning_", "*2027-Q1*", "_active_")
            ),
            Step("pat", "/okr cycle close 2027-Q1", sees=("closed for grading", "_grading until ")),
            Step(
                "pat",
                "/okr cycle close 2027-Q1",
                sees=("`2027-Q1` is being graded already; nothing changed",),
            ),
            Step("pat", "/okr cycle start nope", sees=("There is no cycle called `nope`",)),
            Step("sam", f"/okr facilitator add <@{sam}>", sees=("Only workspace admins",)),
            Step("pat", "/okr facilitator add bob", sees=("`bob` is not a person",)),
            Step("pat", f"/okr facilitator add <@{sam}|sam>", sees=("@sam is now a facilitator",)),
            Step("pat", f"/okr facilitator add <@{sam}>", sees=("@sam is a facilitator already",)),
            Step("sam", "/okr cycle new 2027-Q3", sees=("Created *2027-Q3*",)),
            Step("sam", "/okr facilitator list", sees=("@pat", "@sam")),
            Step(
                "pat",
                f"/okr facilitator remove <@{sam}>",
                sees=("@sam is no longer a facilitator",),
            ),
            Step("sam", "/okr cycle new 2027-Q4", sees=("Facilitators and admins run cycles",)),
            Step(
                "pat", "/okr help", sees=("/okr cycle list", "/okr facilitator add|remove @person")
            ),
        ],
    )
    async with stack.app.sessions() as session:
        names = sorted((await session.execute(select(Cycle.name))).scalars())
        roles = dict((await session.execute(select(Person.slack_user_id, Person.role))).all())
        actions = (await session.execute(select(Audit.action).order_by(Audit.id))).scalars().all()
    assert names == ["2027-Q1", "2027-Q2", "2027-Q3"]  # every refusal changed nothing
    assert roles == {who["pat"].id: "admin", sam: "member"}
    assert actions == [
        "cycle.create",
        "cycle.start",
        "cycle.create",
        "cycle.close",
        "role.change",
        "cycle.create",
        "role.change",
    ]
    # users.info is asked once per person, when first seen
    assert len(stack.slack.recorded("users.info")) == 2


async def test_first_run_creates_the_current_quarter(stack: SandboxStack) -> None:
    from datetime import date

    from bot.services.actors import actor_for
    from bot.services.cycles import ensure_first_cycle
    from bot.services.errors import Invalid

    assert stack.app is not None and stack.ws is not None
    async with stack.app.sessions.begin() as session:
        actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id="U0FIRST")
        cycle, created = await ensure_first_cycle(session, actor=actor, today=date(2026, 11, 25))
        again, created_again = await ensure_first_cycle(
            session, actor=actor, today=date(2026, 11, 25)
        )
        count = await session.scalar(select(func.count()).select_from(Cycle))
    assert (cycle.name, str(cycle.starts_on), str(cycle.ends_on), cycle.state, created) == (
        "2026-Q4",
        "2026-10-01",
        "2026-12-31",
        "active",
        True,
    )
    assert (again.id, created_again, count) == (cycle.id, False, 1)
    async with stack.app.sessions.begin() as session:
        await session.execute(Cycle.__table__.update().values(state="grading"))
    async with stack.app.sessions.begin() as session:
        with pytest.raises(Invalid, match="No cycle is active"):
            await ensure_first_cycle(session, actor=actor, today=date(2027, 1, 5))
