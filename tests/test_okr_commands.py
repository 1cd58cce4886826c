"""`/okr show|update|align|unalign` as conversations, with OKRs written through the services."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import clock
from bot.models import Checkin
from bot.sandbox.conversation import Conversation, Step
from bot.sandbox.emulator import User
from bot.sandbox.stack import SandboxStack
from bot.services import key_results, objectives
from bot.services.actors import actor_for
from bot.services.errors import NotFound
from tests.databases import Database

EVIL = "<!channel> @here #general <https://evil|ok> & <b>"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


async def seed(stack: SandboxStack) -> dict[str, User]:
    assert stack.ws is not None and stack.app is not None
    who = {
        "pat": stack.slack.add_user(stack.ws, "pat", admin=True),
        "sam": stack.slack.add_user(stack.ws, "sam"),
        "kim": stack.slack.add_user(stack.ws, "kim"),
    }
    today = clock.now().date()
    async with stack.app.sessions.begin() as session:
        pat = await actor_for(
            session, slack_team_id=stack.ws.id, slack_user_id=who["pat"].id, slack_admin=True
        )
        sam = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=who["sam"].id)
        kim = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=who["kim"].id)
        await objectives.create_objective(
            session, actor=pat, title="Customers love us", level="company", today=today
        )
        await key_results.add_key_result(
            session,
            actor=pat,
            objective_ref="O1",
            title="NPS from 30 to 50",
            start=30,
            target=50,
            owner_person_id=sam.person_id,
        )
        await key_results.add_key_result(
            session,
            actor=pat,
            objective_ref="O1",
            title="Monthly churn",
            unit="%",
            kind="percent",
            start=5,
            target=2,
            owner_person_id=sam.person_id,
        )
        await objectives.create_objective(
            session, actor=kim, title=EVIL, level="personal", today=today
        )
        await key_results.add_key_result(
            session, actor=kim, objective_ref="O2", title="Give a talk", kind="milestone", target=1
        )
    return who


async def test_show_update_align(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.app is not None
    who = await seed(stack)
    replies = await Conversation(stack.driver).run(
        who,
        [
            Step(
                "sam",
                "/okr show O1",
                sees=(
                    "# O1 Customers love us",
                    "company objective",
                    "*KR1* NPS from 30 to 50",
                    "no check-in yet",
                    "from 30 to 50",
                    "@sam",
                    "*KR2* Monthly churn",
                ),
            ),
            Step(
                "sam",
                "/okr update KR1 40 a good week",
                sees=("Recorded *KR1* NPS from 30 to 50: 40 of 50 for 20", "`█████·····` 50%"),
            ),
            Step("sam", "/okr update kr2 4%", sees=("Recorded *KR2* Monthly churn: 4% of 2%",)),
            Step(
                "sam",
                "/okr show O1",  # `/okr show KR1` is the key result's own page now
                sees=(
                    "`█████·····` 50%  40 (from 30 to 50)",
                    "`███·······` 33%  4% (from 5% to 2%)",
                    "*Progress* `████······` 42%",
                ),
            ),
            Step(
                "kim",
                "/okr update KR1 45",
                sees=("Only KR1's owner, its team's lead (or a contributing team's lead)",),
            ),
            Step(
                "sam",
                "/okr update KR1 lots",
                sees=("I could not read “lots” after KR1", "`/okr update KR1 45 on track conf 7"),
            ),
            Step("sam", "/okr update KR99 4", sees=("There is no KR99 here",)),
            Step("sam", "/okr update O1 4", sees=("`O1` is not a key result: start with one",)),
            Step("sam", "/okr update KR1", sees=("I could not find a value after KR1.",)),
            Step("sam", "/okr show O99", sees=("There is no O99 here",)),
            Step("sam", "/okr show", sees=("Name one objective or key result",)),
            Step(
                "kim",
                "/okr show O2",
                sees=(
                    f"# O2 {EVIL}",
                    "personal objective",
                    "1 key result: an objective is usually measured by 2 to 5",
                ),
                not_sees=("@channel", "evil ("),
            ),
            Step("kim", "/okr align O2 to O1", sees=("O2 now serves O1",)),
            Step("kim", "/okr align O1 to O2", sees=("Only O1's owner, its team's lead",)),
            Step(
                "pat", "/okr align O1 to O2", sees=("O2 sits under O1 already", "would make a loop")
            ),
            Step("pat", "/okr align O1 to O1", sees=("would make a loop",)),
            Step("kim", "/okr unalign O2", sees=("O2 is no longer aligned to anything",)),
            Step("kim", "/okr unalign O2", sees=("O2 is not aligned to anything",)),
            Step("pat", "/okr update KR2 3", sees=("Recorded *KR2*",)),  # admins may check in
        ],
    )
    shown = replies[11].answer.json
    assert shown is not None
    for block in shown["blocks"]:  # in mrkdwn the title is escaped; in plain_text it is inert
        for part in [block.get("text") or {}, *block.get("elements", [])]:
            if part.get("type") == "mrkdwn":
                assert "<!channel>" not in part["text"] and "<https://evil" not in part["text"]
    assert "<!channel>" in json.dumps(shown["blocks"][0])  # the header, plain_text
    async with stack.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Checkin)) == 3


async def test_the_same_command_delivered_twice_records_once(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.driver is not None
    who = await seed(stack)
    body = {
        "team_id": stack.ws.id if stack.ws else "",
        "user_id": who["sam"].id,
        "trigger_id": "T1.2.3",
    }
    from bot.services import intake

    async with stack.app.sessions.begin() as session:
        sam = await actor_for(session, slack_team_id=body["team_id"], slack_user_id=body["user_id"])
    update = intake.CheckinInput(
        actor=sam, text="KR1 41", source=intake.Source.COMMAND, source_ref="T1.2.3", at=clock.now()
    )
    for _ in range(2):
        await intake.check_in(stack.app.sessions, checkin=update)
    async with stack.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Checkin)) == 1


async def test_another_workspace_cannot_reach_these_okrs(stack: SandboxStack) -> None:
    assert stack.app is not None
    await seed(stack)
    async with stack.app.sessions.begin() as session:
        outsider = await actor_for(
            session, slack_team_id="T0OTHER", slack_user_id="U0OUT", slack_admin=True
        )
        for ref in ("O1", "KR1"):
            with pytest.raises(NotFound):
                from bot.services import reading

                await reading.objective_page(session, actor=outsider, ref=ref)
    with pytest.raises(NotFound):
        await objectives.align(stack.app.sessions, actor=outsider, child_ref="O2", parent_ref="O1")
    async with stack.app.sessions.begin() as session:
        await objectives.create_objective(
            session, actor=outsider, title="Our own", level="company", today=date(2027, 1, 5)
        )
        page = await reading.objective_page(session, actor=outsider, ref="O1")
    assert page.title == "Our own"  # refs count per workspace


async def test_lists_mine_company_tree(stack: SandboxStack) -> None:
    assert stack.driver is not None
    who = await seed(stack)
    await Conversation(stack.driver).run(
        who,
        [
            Step("sam", "/okr update KR1 40", sees=("Recorded",)),
            Step(
                "sam",
                "/okr mine",
                sees=(
                    "# Your OKRs",
                    "*O1* Customers love us",
                    "• *KR1* NPS from 30 to 50",
                    "40 → 50",
                    "• *KR2* Monthly churn",
                ),
            ),
            Step(  # pat owns O1 (sam owns its key results): it is listed, with no nudge
                "pat",
                "/okr mine",
                sees=("*O1* Customers love us", "• *KR1* NPS from 30 to 50"),
                not_sees=("You own no", "/okr kr add"),
            ),
            Step("kim", "/okr align O2 to O1", sees=("O2 now serves O1",)),
            Step(
                "kim",
                "/okr company",
                sees=("# Company OKRs", "*O1* Customers love us", "↳ *O2*"),
                not_sees=("• *KR1*", "@channel"),
            ),
            Step("kim", "/okr tree O2", sees=("# Alignment tree", "*O2*"), not_sees=("*O1*",)),
            Step("kim", "/okr tree O9", sees=("There is no O9 here",)),
        ],
    )


async def test_mine_costs_the_same_statements_however_big_the_workspace(
    stack: SandboxStack,
) -> None:
    """/okr mine runs as many SQL statements with 50 key results in the workspace as with 5,000."""
    from sqlalchemy import event, insert

    from bot.models import KeyResult, Objective

    assert stack.app is not None and stack.driver is not None
    who = await seed(stack)
    async with stack.app.sessions() as session:
        o1 = (
            await session.execute(select(Objective).where(Objective.ref_number == 1))
        ).scalar_one()

    async def grow_to(total: int, already: int) -> None:
        async with stack.app.sessions.begin() as session:  # type: ignore[union-attr]
            await session.execute(
                insert(KeyResult),
                [
                    {
                        "workspace_id": o1.workspace_id,
                        "ref_number": 100 + i,
                        "objective_id": o1.id,
                        "title": f"filler {i}",
                        "start_value": 0.0,
                        "target_value": 10.0,
                        "kind": "number",
                        "unit": "",
                        "direction": "increase",
                        "weight": 1.0,
                        "state": "active",
                        "created_at": clock.now(),
                        "updated_at": clock.now(),
                    }
                    for i in range(already, total)
                ],
            )

    async def statements_of_mine() -> int:
        seen: list[object] = []

        def count(*args: object) -> None:
            seen.append(args[2])

        assert stack.app is not None and stack.driver is not None
        event.listen(stack.app.engine.sync_engine, "before_cursor_execute", count)
        try:
            answer = await stack.driver.command(who["sam"], "mine")
        finally:
            event.remove(stack.app.engine.sync_engine, "before_cursor_execute", count)
        assert answer.status == 200 and "KR1" in answer.body
        return len(seen)

    await stack.driver.command(who["sam"], "mine")  # the person is known from now on
    await grow_to(50, 0)
    small = await statements_of_mine()
    await grow_to(5_000, 50)
    large = await statements_of_mine()
    assert small == large and small <= 15  # auth, the acting person, the list: no N+1


async def test_archive_asks_first_and_checks_who_clicks(stack: SandboxStack) -> None:
    import asyncio

    from bot.models import KeyResult, Objective

    assert stack.driver is not None and stack.app is not None
    who = await seed(stack)
    talk = Conversation(stack.driver)
    asked = await talk.command(who["sam"], "archive O1")
    assert "Archive *O1* Customers love us?" in asked.text and "[1: Archive O1]" in asked.text
    question = stack.slack.answers_to(who["sam"].id)[-1].message
    await stack.driver.click(
        who["sam"], action_id="okr.archive.confirm", value="O1", message=question
    )
    for _ in range(100):
        if "Only O1's owner" in question.text:
            break
        await asyncio.sleep(0.01)
    assert "Only O1's owner" in question.text  # sam may see the button but not archive O1

    await talk.command(who["pat"], "archive KR2")
    mine = stack.slack.answers_to(who["pat"].id)[-1].message
    await stack.driver.click(who["pat"], action_id="okr.archive.cancel", value="KR2", message=mine)
    await talk.command(who["pat"], "archive KR1")
    confirm = stack.slack.answers_to(who["pat"].id)[-1].message
    await stack.driver.click(
        who["pat"], action_id="okr.archive.confirm", value="KR1", message=confirm
    )
    for _ in range(100):
        if "KR1 is archived" in confirm.text:
            break
        await asyncio.sleep(0.01)
    assert "KR1 is archived" in confirm.text and "KR2 stays as it is" in mine.text
    async with stack.app.sessions() as session:
        states = dict((await session.execute(select(KeyResult.ref_number, KeyResult.state))).all())
        objective = (
            await session.execute(select(Objective.state).where(Objective.ref_number == 1))
        ).scalar_one()
    assert states == {1: "archived", 2: "active", 3: "active"} and objective == "active"
    shown = await talk.command(who["sam"], "show O1")
    assert "KR1" not in shown.text and "KR2" in shown.text
    again = await talk.command(who["pat"], "archive O77")
    assert "There is no O77 here" in again.text


async def test_share_with_another_team(stack: SandboxStack) -> None:
    from bot.models import Team

    assert stack.driver is not None and stack.app is not None and stack.ws is not None
    who = await seed(stack)
    async with stack.app.sessions.begin() as session:
        session.add(
            Team(
                workspace_id=(await session.scalar(select(Checkin.workspace_id).limit(1)))
                or (
                    await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=who["pat"].id)
                ).workspace_id,
                name="Support",
                channel_id="C0SUPPORT",
            )
        )
    await Conversation(stack.driver).run(
        who,
        [
            Step("pat", "/okr share O1 with Support", sees=("O1 is now shared with Support",)),
            Step("pat", "/okr share O1 with Support", sees=("O1 is shared with Support already",)),
            Step("kim", "/okr share O1 with Support", sees=("Only O1's owner",)),
            Step("pat", "/okr share O1 with Nobody", sees=("No team for Nobody",)),
            Step("pat", "/okr share O1", sees=("Try `/okr share O7 with #team`",)),
        ],
    )


async def test_edit_objective_and_key_result(stack: SandboxStack) -> None:
    from bot.models import Audit, KeyResult, Objective
    from bot.sandbox.render import render_view

    assert stack.driver is not None and stack.app is not None
    who = await seed(stack)
    d, talk = stack.driver, Conversation(stack.driver)
    assert "Only O1's owner" in (await talk.command(who["kim"], "edit O1")).text
    assert "Try `/okr edit O7|KR12`" in (await talk.command(who["pat"], "edit")).text

    await d.command(who["pat"], "edit O1")
    modal = await d.modal(who["pat"])
    assert "Objective: Customers love us" in render_view(modal.view).text
    saved = await d.submit(
        who["pat"],
        modal,
        {
            "title": {"title": {"type": "plain_text_input", "value": "Customers adore us"}},
            "description": {
                "description": {"type": "plain_text_input", "value": "Word of mouth grows."}
            },
            "owner": {"owner": {"type": "users_select", "selected_user": who["pat"].id}},
        },
    )
    assert saved.json is not None and saved.json["response_action"] == "update"

    await d.command(who["pat"], "edit KR1")
    kr_modal = await d.modal(who["pat"], other_than=modal)
    assert "Start: 30" in render_view(kr_modal.view).text

    def kr(start: str, target: str) -> dict[str, Any]:
        return {
            "title": {"title": {"type": "plain_text_input", "value": "NPS from 30 to 60"}},
            "start": {"start": {"type": "plain_text_input", "value": start}},
            "target": {"target": {"type": "plain_text_input", "value": target}},
            "direction": {
                "direction": {"type": "static_select", "selected_option": {"value": "increase"}}
            },
            "owner": {"owner": {"type": "users_select", "selected_user": who["sam"].id}},
        }

    wrong = await d.submit(who["pat"], kr_modal, kr("30", "20"))
    assert wrong.json is not None and "must be above the start" in wrong.json["errors"]["target"]
    await d.submit(who["pat"], kr_modal, kr("30", "60"))
    async with stack.app.sessions() as session:
        objective = (
            await session.execute(select(Objective).where(Objective.ref_number == 1))
        ).scalar_one()
        key_result = (
            await session.execute(select(KeyResult).where(KeyResult.ref_number == 1))
        ).scalar_one()
        edits = (
            (await session.execute(select(Audit.action).where(Audit.action.like("%.edit"))))
            .scalars()
            .all()
        )
    assert (objective.title, objective.description) == (
        "Customers adore us",
        "Word of mouth grows.",
    )
    assert (key_result.title, key_result.target_value) == ("NPS from 30 to 60", 60.0)
    assert edits == ["objective.edit", "key_result.edit"]


async def test_a_hostile_title_renders_literally_everywhere(stack: SandboxStack) -> None:
    from bot.sandbox.render import render_view

    assert stack.driver is not None and stack.app is not None
    who = await seed(stack)  # kim owns O2, titled EVIL, with KR3
    talk = Conversation(stack.driver)
    await talk.command(who["kim"], "align O2 to O1")
    for command in ("mine", "tree", "show O2", "company"):
        reply = await talk.command(who["kim"], command)
        blocks = reply.answer.json["blocks"] if reply.answer.json else []
        for block in blocks:
            for part in [block.get("text") or {}, *block.get("elements", [])]:
                if isinstance(part, dict) and part.get("type") == "mrkdwn":
                    assert (
                        "<!channel>" not in part["text"] and "<https://evil" not in part["text"]
                    ), command
        if command != "company":
            assert EVIL in reply.text, command  # a person reads exactly what was typed
    await stack.driver.open_home(who["kim"])
    for _ in range(200):
        home = stack.slack.home(who["kim"].id)
        if home and "KR3" in render_view(home.view).text:
            break
        import asyncio

        await asyncio.sleep(0.01)
    assert home is not None
    for block in home.view["blocks"]:
        text = (block.get("text") or {}).get("text", "") if block.get("type") == "section" else ""
        assert "<!channel>" not in text
