"""`/okr new` and `/okr kr add`: open, validate field by field, submit, page to key results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import Audit, Cycle, KeyResult, Objective
from bot.sandbox.conversation import Conversation
from bot.sandbox.emulator import User
from bot.sandbox.render import render_view
from bot.sandbox.stack import SandboxStack
from tests.databases import Database


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def pick(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def person(user: User) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user.id}


def objective_values(
    title: str, level: str, owner: User, parent: str | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": {"title": text(title)},
        "level": {"level": pick(level)},
        "owner": {"owner": person(owner)},
    }
    if parent:
        values["parent"] = {
            "parent": {"type": "external_select", "selected_option": {"value": parent}}
        }
    return values


def kr_values(
    title: str, start: str, target: str | None, owner: User, **more: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": {"title": text(title)},
        "kind": {"kind": pick(more.get("kind", "number"))},
        "start": {"start": text(start)},
        "direction": {"direction": pick(more.get("direction", "auto"))},
        "owner": {"owner": person(owner)},
    }
    if target is not None:
        values["target"] = {"target": text(target)}
    return values


async def test_new_objective_then_its_key_results(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    sam = slack.add_user(stack.ws, "sam")

    assert (await d.command(pat, "new")).status == 200
    modal = await d.modal(pat)
    shown = render_view(modal.view).text
    assert (
        "[New objective]" in shown and "No cycle yet: saving starts the current quarter." in shown
    )

    refused = await d.submit(pat, modal, objective_values("   ", "company", pat))
    assert refused.json == {
        "response_action": "errors",
        "errors": {"title": "The title is empty: write one."},
    }

    saved = await d.submit(
        pat, modal, objective_values("Customers love onboarding", "company", pat)
    )
    assert saved.json is not None and saved.json["response_action"] == "update"
    assert "Key results of O1" in render_view(modal.view).text
    assert "This started the cycle 20" in render_view(modal.view).text  # the first-run quarter

    same = await d.submit(pat, modal, kr_values("Activation from 30 to 50", "30", "30", sam))
    assert same.json is not None and "target" in same.json["errors"]
    bad = await d.submit(pat, modal, kr_values("Activation", "thirty", "50", sam))
    assert bad.json == {
        "response_action": "errors",
        "errors": {
            "start": "The start must be a number, like 42, -20, 3.5 or 12,000; “thirty” is not one."
        },
    }
    missing = await d.submit(pat, modal, kr_values("Activation", "30", None, sam))
    assert missing.json is not None and missing.json["errors"] == {
        "target": "Give the target the key result should reach."
    }

    await d.submit(pat, modal, kr_values("Activation from 30% to 50%", "30", "50", sam))
    assert "Added KR1." in render_view(modal.view).text
    await d.submit(pat, modal, kr_values("Support tickets a week", "120", "60", sam))
    assert "Added KR1, KR2." in render_view(modal.view).text
    await d.submit(pat, modal, kr_values("Onboarding guide live", "0", None, pat, kind="milestone"))

    async with stack.app.sessions() as session:
        cycle = (await session.execute(select(Cycle))).scalar_one()
        krs = (
            (await session.execute(select(KeyResult).order_by(KeyResult.ref_number)))
            .scalars()
            .all()
        )
        actions = (await session.execute(select(Audit.action).order_by(Audit.id))).scalars().all()
    assert cycle.state == "active" and cycle.name.endswith(("Q1", "Q2", "Q3", "Q4"))
    assert [(k.ref, k.direction, k.start_value, k.target_value) for k in krs] == [
        ("KR1", "increase", 30.0, 50.0),
        ("KR2", "decrease", 120.0, 60.0),
        ("KR3", "increase", 0.0, 1.0),
    ]
    assert actions == [
        "cycle.first_run",
        "objective.create",
        "key_result.create",
        "key_result.create",
        "key_result.create",
    ]


async def test_members_write_team_and_personal_objectives_aligned_up(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    sam = slack.add_user(stack.ws, "sam")
    await d.command(pat, "new")
    first = await d.modal(pat)
    await d.submit(pat, first, objective_values("Customers love onboarding", "company", pat))

    await d.command(sam, "new")
    modal = await d.modal(sam)
    level_options = next(b for b in modal.view["blocks"] if b.get("block_id") == "level")[
        "element"
    ]["options"]
    assert [o["value"] for o in level_options] == [
        "team",
        "personal",
    ]  # company is for facilitators
    forced = await d.submit(sam, modal, objective_values("Everyone onboards", "company", sam))
    assert (
        forced.json is not None
        and "Company objectives are set by facilitators" in forced.json["errors"]["level"]
    )
    team = await d.submit(sam, modal, objective_values("Our team onboards", "team", sam))
    assert team.json is not None and team.json["errors"] == {
        "level": "No team is set up yet: choose Personal, or ask a team lead to set one up."
    }

    options = await d.suggest(sam, action_id="parent", value="onboard", view=modal)
    assert options.json == {
        "options": [
            {
                "text": {
                    "type": "plain_text",
                    "text": "O1 Customers love onboarding",
                    "emoji": True,
                },
                "value": "O1",
            }
        ]
    }
    by_ref = await d.suggest(sam, action_id="parent", value="o1", view=modal)
    assert by_ref.json is not None and [o["value"] for o in by_ref.json["options"]] == ["O1"]

    await d.submit(
        sam, modal, objective_values("I learn the product deeply", "personal", sam, parent="O1")
    )
    async with stack.app.sessions() as session:
        mine = (
            await session.execute(select(Objective).where(Objective.ref_number == 2))
        ).scalar_one()
    assert (mine.level, mine.parent_objective_id is not None) == ("personal", True)

    conversation = Conversation(d)
    refused = await conversation.command(sam, "kr add O1")
    assert (
        "Only O1's owner" in refused.text and slack.open_modal(sam.id) is not None
    )  # still the O2 flow
    await conversation.command(sam, "kr add O2")
    kr_modal = await d.modal(sam, other_than=modal)
    assert "O2" in render_view(kr_modal.view).text
    wrong = await conversation.command(sam, "kr add")
    assert "Try `/okr kr add O7`" in wrong.text


async def _home_text(stack: SandboxStack, user: User, *, containing: str) -> str:
    import asyncio

    for _ in range(200):
        view = stack.slack.home(user.id)
        if view is not None and containing in render_view(view.view).text:
            return render_view(view.view).text
        await asyncio.sleep(0.01)
    view = stack.slack.home(user.id)
    raise AssertionError(render_view(view.view).text if view else "no home published")


async def test_app_home_guides_newcomers_and_follows_every_change(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    await d.open_home(pat)
    first = await _home_text(stack, pat, containing="Get started")
    assert "Write your first objective" in first and "[1: New objective]" in first

    home = slack.home(pat.id)
    assert home is not None
    await d.click(pat, action_id="home.new_objective", view=home, block_id="home.actions")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    await d.submit(pat, modal, kr_values("Activation from 30% to 50%", "30", "50", pat))
    after = await _home_text(stack, pat, containing="KR1")
    assert (
        "*Your key results*" in after and "Activation from 30% to 50%" in after and "(O1)" in after
    )

    await Conversation(d).command(pat, "update KR1 40")
    updated = await _home_text(stack, pat, containing="40 → 50")
    assert "`█████·····` 50%" in updated


async def test_checkin_modal_pages_and_prefills(stack: SandboxStack) -> None:
    from bot import clock
    from bot.models import Checkin
    from bot.services import key_results, objectives
    from bot.services.actors import actor_for

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    sam = slack.add_user(stack.ws, "sam")
    async with stack.app.sessions.begin() as session:
        me = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=sam.id)
        await objectives.create_objective(
            session, actor=me, title="I grow", level="personal", today=clock.now().date()
        )
        for i in range(12):
            await key_results.add_key_result(
                session, actor=me, objective_ref="O1", title=f"Measure {i + 1}", start=0, target=10
            )
    talk = Conversation(d)
    await d.command(sam, "checkin")
    modal = await d.modal(sam)
    first = render_view(modal.view).text
    assert "Page 1 of 2." in first and "*KR10* Measure 10" in first and "KR11" not in first
    assert "<Save and next>" in first

    def entry(ref: str, value: str, confidence: str | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {f"value:{ref}": {"value": text(value)}}
        if confidence:
            values[f"confidence:{ref}"] = {"confidence": pick(confidence)}
        return values

    refused = await d.submit(sam, modal, entry("KR1", "lots"))
    assert (
        refused.json is not None
        and "I could not read “lots” after KR1" in refused.json["errors"]["value:KR1"]
    )
    await d.submit(sam, modal, entry("KR1", "4", "8") | entry("KR2", "6"))
    second = render_view(modal.view).text
    assert "Saved 2 check-ins. Page 2 of 2." in second and "*KR12*" in second and "<Save>" in second
    await d.submit(sam, modal, entry("KR12", "9"))
    assert "Saved 3 check-ins. Thank you!" in render_view(modal.view).text  # both pages

    async with stack.app.sessions() as session:
        rows = (await session.execute(select(Checkin).order_by(Checkin.id))).scalars().all()
    assert [(r.value, r.confidence, r.source) for r in rows] == [
        (4.0, 8, "modal"),
        (6.0, None, "modal"),
        (9.0, None, "modal"),
    ]

    await d.command(sam, "checkin")
    again = await d.modal(sam, other_than=modal)
    kr1_value = next(b for b in again.view["blocks"] if b.get("block_id") == "value:KR1")
    kr1_conf = next(b for b in again.view["blocks"] if b.get("block_id") == "confidence:KR1")
    assert (
        kr1_value["element"]["initial_value"] == "4"
        and kr1_conf["element"]["initial_option"]["value"] == "8"
    )
    nobody = slack.add_user(stack.ws, "nobody")
    assert "You own no key results" in (await talk.command(nobody, "checkin")).text


async def test_quality_suggestions_follow_each_save(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Grow revenue 20%", "company", pat))
    after_objective = render_view(modal.view).text
    assert (
        "Suggestions" in after_objective
        and "numbers usually belong in a key result" in after_objective
    )
    assert "1 key result" not in after_objective and "0 key results" not in after_objective
    await d.submit(
        pat, modal, kr_values("Launch the new <onboarding>", "0", None, pat, kind="milestone")
    )
    after_kr = render_view(modal.view).text
    assert "“Launch the new <onboarding>” reads like an activity" in after_kr
    assert "&lt;" not in after_kr  # escaped in mrkdwn, read back as typed


async def test_more_than_100_teams_are_searched_not_listed(stack: SandboxStack) -> None:
    from bot.models import Team
    from bot.services.actors import actor_for

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    async with stack.app.sessions.begin() as session:
        me = await actor_for(
            session, slack_team_id=stack.ws.id, slack_user_id=pat.id, slack_admin=True
        )
        session.add_all(
            [Team(workspace_id=me.workspace_id, name=f"Squad {i:03d}") for i in range(101)]
        )
    await d.command(pat, "new")
    modal = await d.modal(pat)
    team_block = next(b for b in modal.view["blocks"] if b.get("block_id") == "team")
    assert team_block["element"]["type"] == "external_select"
    found = await d.suggest(pat, action_id="team", value="squad 05", view=modal, block_id="team")
    assert found.json is not None
    labels = [o["text"]["text"] for o in found.json["options"]]
    assert labels == [f"Squad 05{i}" for i in range(10)]
    values = objective_values("Squad 050 delights", "team", pat)
    values["team"] = {
        "team": {
            "type": "external_select",
            "selected_option": {"value": found.json["options"][0]["value"]},
        }
    }
    saved = await d.submit(pat, modal, values)
    assert saved.json is not None and saved.json["response_action"] == "update"


async def test_home_check_in_button_opens_the_checkin_form(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    await d.submit(pat, modal, kr_values("Activation from 30% to 50%", "30", "50", pat))
    text = await _home_text(stack, pat, containing="Check in")
    assert "Check in]" in text and "New objective]" in text
    home = slack.home(pat.id)
    assert home is not None
    await d.click(pat, action_id="home.checkin", view=home, block_id="home.actions")
    form = await d.modal(pat, other_than=modal)
    assert (
        "[Weekly check-in]" in render_view(form.view).text
        and "*KR1*" in render_view(form.view).text
    )


async def test_first_run_makes_a_team_for_this_channel(stack: SandboxStack) -> None:
    from bot.models import Team

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat")
    design = slack.add_channel(stack.ws, "design", members=[pat], bot_member=False)
    await d.command(pat, "new", channel=design)
    modal = await d.modal(pat)
    picker = next(b for b in modal.view["blocks"] if b.get("block_id") == "team")["element"]
    assert picker["options"][0] == {
        "text": {"type": "plain_text", "text": "New team for #design", "emoji": True},
        "value": f"new:{design.id}",
    }
    values = objective_values("Design feels effortless", "team", pat)
    values["team"] = {"team": pick(f"new:{design.id}")}
    saved = await d.submit(pat, modal, values)
    assert saved.json is not None and saved.json["response_action"] == "update", saved.json
    assert stack.ws.bot_user_id in design.members
    async with stack.app.sessions() as session:
        team = (await session.execute(select(Team))).scalar_one()
        objective = (await session.execute(select(Objective))).scalar_one()
    assert (team.name, team.channel_id, objective.team_id, objective.level) == (
        "design",
        design.id,
        team.id,
        "team",
    )
    await d.command(pat, "new", channel=design)
    again = await d.modal(pat, other_than=modal)
    options = next(b for b in again.view["blocks"] if b.get("block_id") == "team")["element"][
        "options"
    ]
    assert [o["text"]["text"] for o in options] == ["design"]  # no second team for the channel


async def test_home_tree_button(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    text = await _home_text(stack, pat, containing="Alignment tree")
    assert "Alignment tree]" in text
    home = slack.home(pat.id)
    assert home is not None
    await d.click(pat, action_id="home.tree", view=home, block_id="home.actions")
    tree = await d.modal(pat, other_than=modal)
    shown = render_view(tree.view).text
    assert "[Alignment tree]" in shown and "*O1* Customers love onboarding" in shown


async def test_new_objective_shared_with_other_teams(stack: SandboxStack) -> None:
    from bot.models import ObjectiveContributor, Team
    from bot.services.actors import actor_for

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    async with stack.app.sessions.begin() as session:
        me = await actor_for(
            session, slack_team_id=stack.ws.id, slack_user_id=pat.id, slack_admin=True
        )
        session.add_all(
            [Team(workspace_id=me.workspace_id, name=n) for n in ("Core", "Edge", "Ops")]
        )
    async with stack.app.sessions() as session:
        ids = dict((await session.execute(select(Team.name, Team.id))).all())
    await d.command(pat, "new")
    modal = await d.modal(pat)
    values = objective_values("Releases are boring", "team", pat)
    values["team"] = {"team": pick(str(ids["Core"]))}
    values["contributors"] = {
        "contributors": {
            "type": "multi_static_select",
            "selected_options": [
                {"value": str(ids["Edge"])},
                {"value": str(ids["Ops"])},
                {"value": str(ids["Core"])},
            ],
        }
    }
    saved = await d.submit(pat, modal, values)
    assert saved.json is not None and saved.json["response_action"] == "update"
    async with stack.app.sessions() as session:
        shared = set((await session.execute(select(ObjectiveContributor.team_id))).scalars())
    assert shared == {ids["Edge"], ids["Ops"]}  # its own team is not a contributor


async def test_text_over_the_limits_is_refused_with_the_count(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    long_title = await d.submit(pat, modal, objective_values("x" * 301, "company", pat))
    assert long_title.json == {
        "response_action": "errors",
        "errors": {"title": "The title has 301 characters; keep it to 300."},
    }
    control = await d.submit(pat, modal, objective_values("bell\x07", "company", pat))
    assert control.json is not None and "control characters" in control.json["errors"]["title"]
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    await d.submit(pat, modal, kr_values("Activation from 30% to 50%", "30", "50", pat))
    reply = await Conversation(d).command(pat, "update KR1 40 " + "n" * 2001)
    assert "The note has 2001 characters; keep it to 2000." in reply.text


async def test_a_committed_objective_is_chosen_in_the_form_and_shown(stack: SandboxStack) -> None:
    """Aspirational is the default; committed is picked in the form and shown with progress."""
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    kinds = next(b for b in modal.view["blocks"] if b.get("block_id") == "commitment")
    assert kinds["element"]["initial_option"]["value"] == "aspirational"
    refused = await d.submit(
        pat, modal, {**objective_values("Ship it", "personal", pat),
                     "commitment": {"commitment": pick("sometimes")}},
    )  # fmt: skip
    assert refused.json is not None and "aspirational or committed" in str(refused.json)
    await d.submit(
        pat, modal, {**objective_values("Ship the audit", "personal", pat),
                     "commitment": {"commitment": pick("committed")}},
    )  # fmt: skip
    await d.command(pat, "new")
    second = await d.modal(pat, other_than=modal)
    await d.submit(pat, second, objective_values("Grow a lot", "personal", pat))
    async with stack.app.sessions() as session:
        found = (await session.execute(select(Objective.title, Objective.commitment))).all()
    assert sorted(found) == [("Grow a lot", "aspirational"), ("Ship the audit", "committed")]
    shown = str((await d.command(pat, "show O1")).json)
    assert "(committed)" in shown and "· committed" in shown
    listed = str((await d.command(pat, "mine")).json)
    assert listed.count("_committed_") == 1
