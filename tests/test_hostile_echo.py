"""Nothing a person typed comes back as Slack markup: a refusal that quotes `<!channel>` or a
disguised link, a unit of `<!here>`, a team named `<!channel>` in a prompt's notification
text. Every `<…>` the bot posts is one it built from ids."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from bot.jobs.clock import Ceremony
from bot.models import KeyResult, Team
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world

pytestmark = pytest.mark.usefixtures("monday_ten")
BUILT_BY_THE_BOT = re.compile(r"<(?:@U[0-9A-Z]+|#C[0-9A-Z]+)>")  # mentions built from ids


def foreign_markup(text: str) -> list[str]:
    return [m for m in re.findall(r"<[^>]*>", text) if not BUILT_BY_THE_BOT.fullmatch(m)]


@pytest.mark.parametrize(
    "typed",
    [
        "KR1 <!channel>",  # as Slack sends @channel
        "#1 <https://evil.example|Re-authenticate>",  # a link picked from the composer
        "KR1 <!subteam^S123|@admins> 45",
        "KR1 45 conf <@U0ADMIN>0",
    ],
)
async def test_a_refusal_never_echoes_markup(ceremony_stack: SandboxStack, typed: str) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    team = world.teams[0]
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(KeyResult).where(KeyResult.id == team.key_result_ids[0]).values(unit="<!here>")
        )
        await session.execute(update(Team).where(Team.id == team.id).values(name="<!channel>"))
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [m for m in stack.slack.channel_messages(team.channel.id) if m.bot_id]
    assert foreign_markup(prompt.text) == [] and "&lt;!channel&gt;" in prompt.text
    await stack.driver.say(
        team.owners[0], typed, channel=team.channel, thread_ts=prompt.ts, raw=True
    )
    await stack.driver.say(team.owners[0], "KR1 12", channel=team.channel, thread_ts=prompt.ts)
    answers = [m for m in stack.slack.thread(team.channel.id, prompt.ts) if m.bot_id]
    assert len(answers) == 2
    for answer in answers:
        assert foreign_markup(answer.text) == [], answer.text
    assert "&lt;!here&gt;" in answers[1].text  # the unit, shown but inert


async def test_absurd_weights_already_stored_do_not_break_the_lists(
    ceremony_stack: SandboxStack,
) -> None:
    """Two weights of 1e308 once made an objective's progress NaN and /okr tree answer 500;
    forms refuse such weights now, and rows stored before still show."""
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=2)
    team = world.teams[0]
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(KeyResult).where(KeyResult.id.in_(team.key_result_ids)).values(weight=1e308)
        )
    for owner, done in zip(team.owners, ("KR1 100", "KR2 50"), strict=True):  # both at target
        assert "Recorded" in (await stack.driver.command(owner, f"update {done}")).body
    for words in ("tree", "show O1", "mine"):
        answer = await stack.driver.command(team.owners[0], words)
        assert answer.status == 200 and "nan" not in answer.body.lower(), (words, answer.body)
        assert "Team 0 delights its customers" in answer.body or "Signups" in answer.body
