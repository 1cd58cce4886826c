"""`/okr mine` as conversations: a person's key results and the objectives they own or whose
team they lead, with a nudge where an objective has fewer than 2 key results."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import clock
from bot.models import Objective, ObjectiveContributor, Team
from bot.sandbox.conversation import Conversation, Step
from bot.sandbox.emulator import User
from bot.sandbox.stack import SandboxStack
from bot.services import key_results, objectives
from bot.services.actors import actor_for
from tests.databases import Database

EVIL = "<!channel> Ship <https://evil|it> & more"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


async def seed(stack: SandboxStack) -> dict[str, User]:
    """ana owns O1 (no key results) and O2 (Core's, one key result, ana's); lee leads Core;
    cal leads Edge, which shares O2; max owns O3 with two key results; nob has nothing."""
    assert stack.ws is not None and stack.app is not None
    who = {
        name: stack.slack.add_user(stack.ws, name) for name in ("ana", "lee", "cal", "max", "nob")
    }
    today = clock.now().date()
    async with stack.app.sessions.begin() as session:
        people = {
            name: await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=user.id)
            for name, user in who.items()
        }
        core = Team(
            workspace_id=people["lee"].workspace_id,
            name="Core",
            channel_id="C0CORE",
            lead_person_id=people["lee"].person_id,
        )
        edge = Team(
            workspace_id=people["cal"].workspace_id,
            name="Edge",
            lead_person_id=people["cal"].person_id,
        )
        session.add_all([core, edge])
        await session.flush()
        await objectives.create_objective(
            session, actor=people["ana"], title=EVIL, level="personal", today=today
        )
        await objectives.create_objective(
            session,
            actor=people["ana"],
            title="Releases are boring",
            level="team",
            team_id=core.id,
            today=today,
        )
        await key_results.add_key_result(
            session, actor=people["ana"], objective_ref="O2", title="Deploys a day", target=5
        )
        session.add(
            ObjectiveContributor(
                workspace_id=edge.workspace_id,
                objective_id=await session.scalar(
                    select(Objective.id).where(Objective.ref_number == 2)
                ),
                team_id=edge.id,
            )
        )
        await objectives.create_objective(
            session,
            actor=people["max"],
            title="Support answers fast",
            level="personal",
            today=today,
        )
        for title in ("First reply in an hour", "Backlog under 20"):
            await key_results.add_key_result(
                session, actor=people["max"], objective_ref="O3", title=title, start=50, target=10
            )
    return who


async def test_mine_lists_owned_and_led_objectives_with_a_nudge(stack: SandboxStack) -> None:
    assert stack.driver is not None
    who = await seed(stack)
    replies = await Conversation(stack.driver).run(
        who,
        [
            Step(  # an objective with no key results yet is listed, with what to type
                "ana",
                "/okr mine",
                sees=(
                    "# Your OKRs",
                    f"*O1* {EVIL}",
                    "No key results yet:_ add key results with `/okr kr add O1`",
                    "*O2* Releases are boring",
                    "• *KR1* Deploys a day",
                    "Only 1 key result:_ add key results with `/okr kr add O2`",
                ),
                not_sees=("You own no key results", "*O3*"),
            ),
            Step(  # the lead of Core sees Core's objective, though ana owns it and its KR
                "lee",
                "/okr mine",
                sees=(
                    "*O2* Releases are boring",
                    "• *KR1* Deploys a day",
                    "add key results with `/okr kr add O2`",
                ),
                not_sees=("*O1*", "*O3*", "You own no key results"),
            ),
            Step(  # Edge shares O2: its lead has a say, so it is listed too
                "cal",
                "/okr mine",
                sees=("*O2* Releases are boring", "add key results with `/okr kr add O2`"),
                not_sees=("*O1*", "*O3*", "You own no key results"),
            ),
            Step(  # two key results: no nudge
                "max",
                "/okr mine",
                sees=("*O3* Support answers fast", "• *KR2*", "• *KR3*"),
                not_sees=("/okr kr add", "*O1*", "*O2*"),
            ),
            Step(
                "nob",
                "/okr mine",
                sees=("You own no key results in this cycle yet. `/okr new` writes an objective.",),
                not_sees=("*O1*", "*O2*", "*O3*"),
            ),
        ],
    )
    shown = replies[0].answer.json
    assert shown is not None
    for block in shown["blocks"]:  # the hostile title is escaped wherever it is mrkdwn
        for part in [block.get("text") or {}, *block.get("elements", [])]:
            if part.get("type") == "mrkdwn":
                assert "<!channel>" not in part["text"] and "<https://evil" not in part["text"]
