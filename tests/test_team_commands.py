"""`/okr team setup|pause|resume` and `/okr team` over the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import Person, Team, TeamMember
from bot.sandbox.conversation import Conversation
from bot.sandbox.emulator import User
from bot.sandbox.render import render_view
from bot.sandbox.stack import SandboxStack
from tests.databases import Database
from tests.test_okr_modals import objective_values, pick


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def setup_values(channel: str, lead: User, members: list[User], **changes: str) -> dict[str, Any]:
    fields = {
        "name": "Growth",
        "timezone": "Europe/Berlin",
        "reminder": "24",
        "digest": "48",
    } | changes
    return {
        "name": {"name": {"type": "plain_text_input", "value": fields["name"]}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
        "lead": {"lead": {"type": "users_select", "selected_user": lead.id}},
        "members": {
            "members": {"type": "multi_users_select", "selected_users": [m.id for m in members]}
        },
        "weekday": {"weekday": pick("0")},
        "time": {"time": {"type": "timepicker", "selected_time": "10:00"}},
        "timezone": {"timezone": {"type": "plain_text_input", "value": fields["timezone"]}},
        "reminder": {"reminder": {"type": "plain_text_input", "value": fields["reminder"]}},
        "digest": {"digest": {"type": "plain_text_input", "value": fields["digest"]}},
    }


async def test_team_setup_pause_resume_and_listing(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    sam = slack.add_user(stack.ws, "sam")
    growth = slack.add_channel(stack.ws, "growth", members=[pat, sam], bot_member=False)
    hidden = slack.add_channel(
        stack.ws, "secret-plans", private=True, members=[pat], bot_member=False
    )
    talk = Conversation(d)

    await d.command(pat, "team setup", channel=growth)
    modal = await d.modal(pat)
    shown = render_view(modal.view).text
    assert (
        "[Team setup]" in shown and "Team name: growth" in shown and "Check-in day: Monday" in shown
    )

    for values, field, says in [
        (
            setup_values(growth.id, pat, [sam], timezone="Mars/Base"),
            "timezone",
            "is not a time zone",
        ),
        (
            setup_values(growth.id, pat, [sam], reminder="60"),
            "reminder",
            "must come before the digest",
        ),
        (setup_values(growth.id, pat, [sam], digest="500"), "digest", "from 0 to 168"),
        (setup_values(hidden.id, pat, [sam]), "channel", "invite me first"),
        (setup_values(growth.id, pat, [sam], name=" "), "name", "team name is empty"),
    ]:
        answer = await d.submit(pat, modal, values)
        assert answer.json is not None and says in answer.json["errors"][field], answer.json
    assert slack.recorded("conversations.join") == []

    saved = await d.submit(pat, modal, setup_values(growth.id, pat, [sam]))
    assert saved.json is not None and saved.json["response_action"] == "update"
    assert (
        "*Growth* is set up: check-ins Mondays at 10:00 (Europe/Berlin) in #growth"
        in render_view(saved.json["view"], {growth.id: "growth"}).text
    )
    assert stack.ws.bot_user_id in growth.members  # joined the public channel
    async with stack.app.sessions() as session:
        team = (await session.execute(select(Team))).scalar_one()
        members = set(
            (
                await session.execute(
                    select(Person.slack_user_id).join(TeamMember, TeamMember.person_id == Person.id)
                )
            ).scalars()
        )
    assert (team.name, team.channel_id, team.timezone, team.digest_delay_minutes) == (
        "Growth",
        growth.id,
        "Europe/Berlin",
        2880,
    )
    assert members == {pat.id, sam.id}

    assert "Only the lead of Growth" in (await talk.command(sam, "team pause", channel=growth)).text
    assert "Growth is paused" in (await talk.command(pat, "team pause", channel=growth)).text
    assert "Growth is paused already" in (await talk.command(pat, "team pause Growth")).text
    assert (
        "Growth is checking in again"
        in (await talk.command(pat, f"team resume <#{growth.id}|growth>")).text
    )
    assert "No team for nowhere" in (await talk.command(pat, "team pause nowhere")).text

    await d.command(pat, "new")
    new = await d.modal(pat, other_than=modal)
    team_values = objective_values("Growth feels effortless", "team", pat)
    team_values["team"] = {"team": pick(str(team.id))}
    await d.submit(pat, new, team_values)
    listing = await talk.command(sam, "team", channel=growth)
    assert "# Growth" in listing.text and "*O1* Growth feels effortless" in listing.text

    await d.command(pat, "team setup", channel=growth)
    again = await d.modal(pat, other_than=new)
    assert "[Change team]" in render_view(again.view).text
    members_block = next(b for b in again.view["blocks"] if b.get("block_id") == "members")
    assert set(members_block["element"]["initial_users"]) == {pat.id, sam.id}


async def test_workspace_settings(stack: SandboxStack) -> None:
    from bot.models import Workspace

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat", admin=True)
    sam = slack.add_user(stack.ws, "sam")
    company = slack.add_channel(stack.ws, "company", members=[pat, sam])
    talk = Conversation(d)
    assert (
        "Workspace settings are for facilitators and admins"
        in (await talk.command(sam, "settings")).text
    )
    await d.command(pat, "settings")
    modal = await d.modal(pat)
    assert "Workspace time zone: UTC" in render_view(modal.view).text

    def values(tz: str, company_time: str = "16:00") -> dict[str, Any]:
        return {
            "timezone": {"timezone": {"type": "plain_text_input", "value": tz}},
            "channel": {
                "channel": {"type": "conversations_select", "selected_conversation": company.id}
            },
            "weekday": {"weekday": pick("2")},
            "time": {"time": {"type": "timepicker", "selected_time": "09:30"}},
            "company_day": {"company_day": pick("4")},
            "company_time": {"company_time": {"type": "timepicker", "selected_time": company_time}},
        }

    bad = await d.submit(pat, modal, values("Nowhere/Town"))
    assert bad.json is not None and "is not a time zone" in bad.json["errors"]["timezone"]
    bad_time = await d.submit(pat, modal, values("America/Chicago", "teatime"))
    assert bad_time.json is not None
    assert "Pick a time like 16:00" in bad_time.json["errors"]["company_time"]
    done = await d.submit(pat, modal, values("America/Chicago"))
    assert done.json is not None and "Wednesdays at 09:30" in render_view(done.json["view"]).text
    assert "company digest Fridays at 16:00" in render_view(done.json["view"]).text
    async with stack.app.sessions() as session:
        ws = (await session.execute(select(Workspace))).scalar_one()
    assert ws.timezone == "America/Chicago"
    assert ws.settings == {
        "company_channel": company.id,
        "checkin_weekday": 2,
        "checkin_time": "09:30",
        "grading_days": 5,  # left empty: the default
        "retro_days": None,  # left empty: as long as grading
        "company_weekday": 4,
        "company_time": "16:00",
    }
    await d.command(pat, "settings")  # shown again as saved
    shown = (await d.modal(pat, other_than=modal)).view
    assert "Company digest day: Friday" in render_view(shown).text
    [at] = [b for b in shown["blocks"] if b.get("block_id") == "company_time"]
    assert at["element"]["initial_time"] == "16:00"


async def test_who_may_set_up_a_team_is_checked_before_the_bot_joins(stack: SandboxStack) -> None:
    """Anyone may start a team they lead; naming another lead, or changing someone else's
    team, is refused before the bot joins the channel."""
    assert stack.driver is not None and stack.ws is not None
    d, slack = stack.driver, stack.slack
    sam = slack.add_user(stack.ws, "sam")
    vic = slack.add_user(stack.ws, "vic")
    ops = slack.add_channel(stack.ws, "ops", members=[sam, vic], bot_member=False)
    await d.command(sam, "team setup", channel=ops)
    modal = await d.modal(sam)
    refused = await d.submit(sam, modal, setup_values(ops.id, vic, [sam, vic], name="Ops"))
    assert (
        refused.json is not None and "pick yourself as its lead" in refused.json["errors"]["lead"]
    )
    assert slack.recorded("conversations.join") == [] and stack.ws.bot_user_id not in ops.members
    saved = await d.submit(sam, modal, setup_values(ops.id, sam, [sam, vic], name="Ops"))
    assert saved.json is not None and saved.json["response_action"] == "update", saved.json
    # vic was put in the team by someone else: told once, with the way out.
    from bot.jobs.clock import Ceremony

    assert stack.app is not None
    sender = Ceremony(stack.app).sender
    await sender.drain()
    [told] = [m for m in slack.dms(vic.id) if m.bot_id]
    assert f"<@{sam.id}> added you to the team *Ops*" in told.text
    assert "`/okr team leave Ops`" in told.text
    again = await d.command(sam, "team setup", channel=ops)
    assert again.status == 200
    resaved = await d.submit(sam, await d.modal(sam, other_than=modal),
                             setup_values(ops.id, sam, [sam, vic], name="Ops"))  # fmt: skip
    assert resaved.json is not None and resaved.json["response_action"] == "update"
    await sender.drain()
    assert len([m for m in slack.dms(vic.id) if m.bot_id]) == 1  # not told twice
    assert [m for m in slack.dms(sam.id) if m.bot_id] == []  # nor the one who did it
    # vic, a member, may not take the team over.
    await d.command(vic, "team setup", channel=ops)
    takeover = await d.modal(vic)
    denied = await d.submit(vic, takeover, setup_values(ops.id, vic, [vic], name="Ops"))
    assert denied.json is not None and "Only the lead of Ops" in str(denied.json["errors"])
    talk = Conversation(d)
    assert "You lead Ops" in (await talk.command(sam, "team leave Ops")).text
    assert "You left Ops" in (await talk.command(vic, "team leave Ops")).text
    assert "You are not in Ops" in (await talk.command(vic, "team leave Ops")).text
