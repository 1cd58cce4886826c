"""Conversation tests over the emulator: signed requests in through the real HTTP endpoint,
Web API calls out, asserted on what a person reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.models import Workspace as WorkspaceRow
from bot.sandbox.conversation import Conversation, Step
from bot.sandbox.emulator import User
from bot.sandbox.render import mrkdwn_to_text, render_blocks
from bot.sandbox.stack import SandboxStack
from tests.databases import Database


@pytest.fixture(params=["http", "in_process"])
async def stack(request: pytest.FixtureRequest, database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=request.param == "http") as running:
        yield running


def people(stack: SandboxStack) -> dict[str, User]:
    assert stack.ws is not None
    return {
        "pat": stack.slack.add_user(stack.ws, "pat", admin=True),
        "sam": stack.slack.add_user(stack.ws, "sam", tz="America/New_York"),
    }


async def test_help_as_a_conversation(stack: SandboxStack) -> None:
    assert stack.driver is not None
    conversation = Conversation(stack.driver)
    await conversation.run(
        people(stack),
        [
            Step("pat", "/okr help", sees=("Commands", "/okr help", "Key results")),
            Step("sam", "/okr", sees=("Commands",)),
            Step(
                "sam",
                "/okr hepl",
                sees=("I don't know the command `hepl`", "Did you mean `/okr help`?"),
            ),
            Step(
                "pat",
                "/okr <!channel> & co",
                sees=("I don't know the command `<!channel>`",),
                not_sees=("@channel", "&amp;"),
            ),
            Step("pat", "/okr a&b", sees=("`a&b`",), not_sees=("&amp;",)),
        ],
    )


async def test_forged_or_stale_requests_get_401_and_change_nothing(stack: SandboxStack) -> None:
    driver = stack.driver
    assert driver is not None and stack.app is not None
    pat = people(stack)["pat"]
    calls_before = len(stack.slack.calls)
    body = "command=%2Fokr&text=help&team_id=" + driver.ws.id + "&user_id=" + pat.id
    forged = await driver.send(body, secret="not-the-signing-secret")
    stale = await driver.send(body, timestamp=int(driver.clock()) - 301)
    assert (forged.status, stale.status) == (401, 401)
    assert len(stack.slack.calls) == calls_before
    assert stack.slack.answers_to(pat.id) == []
    async with stack.app.sessions() as session:
        rows = (await session.execute(WorkspaceRow.__table__.select())).all()
    assert [r.slack_team_id for r in rows] == [driver.ws.id]  # only the seeded install


async def test_app_home_and_event_retries(stack: SandboxStack) -> None:
    driver = stack.driver
    assert driver is not None
    pat = people(stack)["pat"]
    answer = await driver.open_home(pat)
    assert answer.status == 200
    conversation = Conversation(driver)
    for _ in range(100):
        if conversation.home(pat):
            break
        await asyncio.sleep(0.02)
    home = conversation.home(pat)
    assert home is not None and "/okr help" in home.text
    publishes = len(stack.slack.recorded("views.publish"))
    answers = await driver.event(
        {"type": "app_home_opened", "user": pat.id, "tab": "messages"}, retries=3
    )
    assert [a.status for a in answers] == [200, 200, 200, 200]  # every retry acknowledged
    await asyncio.sleep(0.2)
    assert len(stack.slack.recorded("views.publish")) == publishes  # the messages tab: nothing


async def test_url_verification(stack: SandboxStack) -> None:
    assert stack.driver is not None
    answer = await stack.driver.url_verification("abc123")
    assert answer.status == 200 and answer.json == {"challenge": "abc123"}


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("hi <@U1> in <#C1|general>", "hi @pat in #general"),
        ("<!here> and <!channel>", "@here and @channel"),
        (
            "see <https://example.com|the doc> or <https://x.test>",
            "see the doc (https://example.com) or https://x.test",
        ),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("<!subteam^S1|@leads> ping", "@leads ping"),
    ],
)
def test_mrkdwn_renders_as_read(mrkdwn: str, text: str) -> None:
    assert mrkdwn_to_text(mrkdwn, {"U1": "pat", "C1": "general"}) == text


def test_blocks_render_with_numbered_controls() -> None:
    rendered = render_blocks(
        [
            {"type": "header", "text": {"type": "plain_text", "text": "Weekly check-in"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*KR12* NPS 30 → 50"},
                "accessory": {
                    "type": "button",
                    "action_id": "checkin.open",
                    "text": {"type": "plain_text", "text": "Check in"},
                    "value": "12",
                },
            },
            {"type": "divider"},
            {
                "type": "input",
                "block_id": "value",
                "label": {"type": "plain_text", "text": "Value"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "skip",
                        "text": {"type": "plain_text", "text": "Skip"},
                    }
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "due Monday"}]},
        ]
    )
    assert rendered.text.splitlines() == [
        "# Weekly check-in",
        "*KR12* NPS 30 → 50",
        "[1: Check in]",
        "---",
        "(2) Value: ____",
        "[3: Skip]",
        "due Monday",
    ]
    assert rendered.control("Check in").value == "12" and rendered.control(3).action_id == "skip"
