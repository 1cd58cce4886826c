"""One permission rule through every door. A team key result may be checked in by its owner,
the objective team's lead, a contributing team's lead, facilitators and admins; a personal
key result by its owner, facilitators and admins. Leading some other team, even one made for
the purpose with the owner in it, gives no say. Each person tries each key result through
the prompt's thread, `/okr update` and the form behind the prompt's "Check in" button (and the
owner through their DM, the only person whose DM lists these key results)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, Objective, ObjectiveContributor, Team, TeamMember
from bot.repository.refs import next_ref_number
from bot.repository.workspaces import ensure_person
from bot.sandbox.emulator.state import Message, User
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world

PEOPLE = (
    "owner",
    "lead",
    "contributing_lead",
    "unrelated_lead",
    "schemer",  # made a team with the owner in it (now the owner's earliest), and leads it
    "facilitator",
    "admin",
    "anyone",
)
MAY = {
    "team": {"owner", "lead", "contributing_lead", "facilitator", "admin"},
    "personal": {"owner", "facilitator", "admin"},
}
REFUSAL = {
    "team": "Only {ref}'s owner, its team's lead (or a contributing team's lead), facilitators",
    "personal": "{ref} is a personal key result: only its owner, facilitators and admins",
}


pytestmark = pytest.mark.usefixtures("monday_ten")


@dataclass
class Setup:
    users: dict[str, User]
    refs: dict[str, str]  # "team" / "personal" -> ref
    ids: dict[str, int]
    prompts: dict[str, Message]  # the prompt of each key result's round


async def setup(stack: SandboxStack) -> Setup:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=3, owners_per_team=1)
    home, contributing, unrelated = world.teams
    users = {
        "owner": home.owners[0],
        "lead": home.lead,
        "contributing_lead": contributing.lead,
        "unrelated_lead": unrelated.lead,
    }
    for name in ("schemer", "facilitator", "admin", "anyone"):
        users[name] = stack.slack.add_user(stack.ws, name)
    scheme_channel = stack.slack.add_channel(stack.ws, "scheme", members=[users["schemer"]])
    async with stack.app.sessions.begin() as session:
        person = {}
        for name, user in users.items():
            row = await ensure_person(
                session, workspace_id=world.workspace_id, slack_user_id=user.id, name=user.name
            )
            if name in ("facilitator", "admin"):
                row.role = name
            person[name] = row.id
        team_kr = await session.get(KeyResult, home.key_result_ids[0])
        assert team_kr is not None
        shared = await session.get(Objective, team_kr.objective_id)
        assert shared is not None
        session.add(
            ObjectiveContributor(
                workspace_id=world.workspace_id, objective_id=shared.id, team_id=contributing.id
            )
        )
        personal = Objective(
            workspace_id=world.workspace_id,
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="O"),
            cycle_id=shared.cycle_id,
            level="personal",
            owner_person_id=person["owner"],
            title="Learn to give talks",
        )
        session.add(personal)
        await session.flush()
        personal_kr = KeyResult(
            workspace_id=world.workspace_id,
            ref_number=await next_ref_number(session, workspace_id=world.workspace_id, kind="KR"),
            objective_id=personal.id,
            owner_person_id=person["owner"],
            title="Talks given",
            start_value=0,
            target_value=4,
        )
        scheme = Team(
            workspace_id=world.workspace_id,
            name="Scheme",
            lead_person_id=person["schemer"],
            channel_id=scheme_channel.id,
        )
        session.add_all([personal_kr, scheme])
        await session.flush()
        session.add(
            TeamMember(
                workspace_id=world.workspace_id,
                team_id=scheme.id,
                person_id=person["owner"],
                joined_at=clock.now() - timedelta(days=30),  # before the owner's real team
            )
        )
        refs = {"team": team_kr.ref, "personal": personal_kr.ref}
        ids = {"team": team_kr.id, "personal": personal_kr.id}
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    prompts = {}
    for which, channel in (("team", home.channel.id), ("personal", scheme_channel.id)):
        [prompts[which]] = [
            m
            for m in stack.slack.channel_messages(channel)
            if m.bot_id == stack.ws.bot_id and not m.thread_ts
        ]
    # The personal key result follows its owner's earliest team: the schemer's round.
    assert refs["personal"] in str(prompts["personal"].blocks)
    assert refs["personal"] not in str(prompts["team"].blocks)
    assert refs["team"] in str(prompts["team"].blocks)
    return Setup(users, refs, ids, prompts)


async def recorded(stack: SandboxStack, kr_id: int, value: float) -> bool:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = await session.scalar(
            select(Checkin.id).where(Checkin.key_result_id == kr_id, Checkin.value == value)
        )
    return found is not None


@pytest.mark.parametrize("door", ["thread", "command", "button", "dm"])
async def test_the_same_people_may_check_in_through_every_door(
    ceremony_stack: SandboxStack, door: str
) -> None:
    stack = ceremony_stack
    assert stack.driver is not None
    s = await setup(stack)
    d = stack.driver
    value = 1.0
    for name in PEOPLE if door != "dm" else ("owner",):
        user = s.users[name]
        for which in ("team", "personal"):
            value += 1
            ref, prompt = s.refs[which], s.prompts[which]
            said = ""
            if door == "thread":
                channel = stack.slack.state.channels[prompt.channel]
                await d.say(user, f"{ref} {value:g}", channel=channel, thread_ts=prompt.ts)
                said = stack.slack.thread(prompt.channel, prompt.ts)[-1].text
            elif door == "dm":
                await d.say(user, f"{ref} {value:g}")
                said = [m for m in stack.slack.dms(user.id) if m.bot_id][-1].text
            elif door == "command":
                answer = await d.command(user, f"update {ref} {value:g}")
                said = str((answer.json or {}).get("text"))
            else:
                await d.click(user, action_id="checkin_from_prompt", message=prompt)
                modal = await d.modal(user)
                inputs = str(modal.view.get("blocks"))
                said = inputs
                if f"value:{ref}" in inputs:
                    await d.submit(
                        user,
                        modal,
                        {
                            f"value:{ref}": {
                                "value": {"type": "plain_text_input", "value": f"{value:g}"}
                            }
                        },
                    )
                await d.close(user, modal)
            allowed = name in MAY[which]
            where = f"{door}: {name} on the {which} key result {ref}: {said!r}"
            assert await recorded(stack, s.ids[which], value) is allowed, where
            if not allowed and door != "button":
                assert REFUSAL[which].format(ref=ref) in said, where
            if not allowed and door == "button":
                assert f"value:{ref}" not in said, where
