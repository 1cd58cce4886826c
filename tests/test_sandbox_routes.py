"""The sandbox page's routes over the demo company, in process: what a person types reaches
the bot through the driver and comes back escaped; bad input gets an answer a person can
act on; a modal's field errors show under the field."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.jobs.clock import Ceremony
from bot.sandbox.emulator.state import Channel, User
from bot.sandbox.runner import Sandbox
from bot.sandbox.stack import SandboxStack
from bot.sandbox.travel import TimeMachine
from bot.sandbox.web.front import SandboxFront


@pytest.fixture
def backend() -> str:
    """The page reads the emulator, not the database: one backend is enough here (the demo
    and time travel run on both in test_sandbox_travel)."""
    return "sqlite"


@pytest.fixture
async def page(demo_company: SandboxStack) -> AsyncIterator[tuple[httpx.AsyncClient, Sandbox]]:
    stack = demo_company
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    sandbox = Sandbox(
        stack.slack, stack.ws, stack.app, stack.driver, TimeMachine(Ceremony(stack.app)), "Demo"
    )

    async def no_bot(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the page answers these itself")

    front = SandboxFront(sandbox, no_bot)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client:
        yield client, sandbox


def person(sandbox: Sandbox, key: str) -> User:
    return next(u for u in sandbox.people() if u.name == key)


def channel(sandbox: Sandbox, name: str) -> Channel:
    return next(c for c in sandbox.slack.state.channels.values() if c.name == name)


async def main_part(client: httpx.AsyncClient, who: User, where: Channel) -> str:
    answer = await client.get("/sandbox/ui", params={"person": who.id, "channel": where.id})
    assert answer.status_code == 200
    return str(answer.json()["parts"]["main"])


async def test_a_message_is_shown_as_typed_and_never_as_markup(
    page: tuple[httpx.AsyncClient, Sandbox],
) -> None:
    client, sandbox = page
    maya, general = person(sandbox, "maya"), channel(sandbox, "general")
    typed = "<script>alert(1)</script> *bold* <b>not</b>"
    answer = await client.post(
        "/sandbox/compose", json={"person": maya.id, "channel": general.id, "text": typed}
    )
    assert answer.status_code == 200
    [message] = sandbox.slack.channel_messages(general.id)
    assert message.user == maya.id  # in the emulator, as Slack would hold it
    shown = await main_part(client, maya, general)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <b>bold</b> &lt;b&gt;not&lt;/b&gt;" in shown
    assert "<script>" not in shown


async def test_a_command_reaches_the_bot_and_its_answer_shows_to_that_person_only(
    page: tuple[httpx.AsyncClient, Sandbox],
) -> None:
    client, sandbox = page
    maya, general = person(sandbox, "maya"), channel(sandbox, "general")
    sent = {"person": maya.id, "channel": general.id, "text": "/okr mine"}
    assert (await client.post("/sandbox/compose", json=sent)).status_code == 200
    mine = await main_part(client, maya, general)
    assert "Only visible to you" in mine and "KR1" in mine
    assert "Only visible to you" not in await main_part(client, person(sandbox, "dev"), general)


BAD_INPUT = [
    ({"channel": "general", "text": "/giphy cats"}, 200, "/giphy is not a command here"),
    ({"channel": "general", "text": "x" * 4001}, 422, "at most 4000"),
    ({"channel": "general", "text": ""}, 422, "at least 1"),
    ({"channel": "platform", "text": "hello"}, 404, "no such channel for this person"),
    ({"channel": "nowhere", "text": "hello"}, 404, "no such channel for this person"),
    ({"channel": "general", "text": "hi", "thread_ts": "1.000001"}, 404, "no such thread"),
]


async def test_bad_input_gets_an_answer_a_person_can_act_on(
    page: tuple[httpx.AsyncClient, Sandbox],
) -> None:
    client, sandbox = page
    maya = person(sandbox, "maya")  # not in #platform
    names = {c.name: c.id for c in sandbox.slack.state.channels.values()}
    for body, status, says in BAD_INPUT:
        sent = body | {"person": maya.id, "channel": names.get(body["channel"], body["channel"])}
        answer = await client.post("/sandbox/compose", json=sent)
        assert (answer.status_code, says in answer.text) == (status, True), (body, answer.text)
    assert sandbox.slack.channel_messages(names["general"]) == []  # nothing was posted


async def test_someone_who_is_not_in_the_sandbox_is_refused(
    page: tuple[httpx.AsyncClient, Sandbox],
) -> None:
    client, sandbox = page
    general = channel(sandbox, "general")
    sent = {"person": "U0NOBODY", "channel": general.id, "text": "hi"}
    answer = await client.post("/sandbox/compose", json=sent)
    assert answer.status_code == 404 and "no such person" in answer.text
    assert (await client.get("/sandbox/files/F0NOPE")).status_code == 404


async def test_a_modal_s_field_errors_show_under_the_field_and_go_once_fixed(
    page: tuple[httpx.AsyncClient, Sandbox],
) -> None:
    client, sandbox = page
    maya, general = person(sandbox, "maya"), channel(sandbox, "general")
    sent = {"person": maya.id, "channel": general.id, "text": "/okr checkin"}
    assert (await client.post("/sandbox/compose", json=sent)).status_code == 200
    modal = await sandbox.driver.modal(maya)  # opened after the ack, as in Slack
    value_block = next(
        str(b["block_id"])
        for b in modal.view["blocks"]
        if b.get("type") == "input" and b["element"].get("type") == "plain_text_input"
    )
    wrong = {"person": maya.id, "view_id": modal.id, "values": {value_block: ["lots"]}}
    assert (await client.post("/sandbox/submit", json=wrong)).status_code == 200
    shown = await client.get("/sandbox/ui", params={"person": maya.id, "channel": general.id})
    assert "field-error" in shown.json()["parts"]["modal"]
    assert "I could not read" in shown.json()["parts"]["modal"]
    right = wrong | {"values": {value_block: ["110"]}}
    assert (await client.post("/sandbox/submit", json=right)).status_code == 200
    assert modal.id not in sandbox.errors
    shown = await client.get("/sandbox/ui", params={"person": maya.id, "channel": general.id})
    assert "field-error" not in shown.json()["parts"]["modal"]


async def test_app_home_opens_and_its_buttons_work(page: tuple[httpx.AsyncClient, Sandbox]) -> None:
    client, sandbox = page
    priya = person(sandbox, "priya")
    assert (await client.post("/sandbox/home", json={"person": priya.id})).status_code == 200
    home = sandbox.slack.home(priya.id)
    assert home is not None
    shown = await client.get("/sandbox/ui", params={"person": priya.id, "channel": "home"})
    assert "KR3" in shown.json()["parts"]["main"]  # her key result, from the demo
    [button] = [
        e
        for b in home.view["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("type") == "button" and "objective" in e["text"]["text"].lower()
    ]
    click = {
        "person": priya.id,
        "view_id": home.id,
        "action_id": button["action_id"],
        "block_id": "",
        "value": button.get("value"),
    }
    assert (await client.post("/sandbox/click", json=click)).status_code == 200
    modal = await sandbox.driver.modal(priya)
    assert modal.view["title"]["text"] == "New objective"
    closed = {"person": priya.id, "view_id": modal.id}
    assert (await client.post("/sandbox/close", json=closed)).status_code == 200
    assert sandbox.slack.open_modal(priya.id) is None


async def test_people_edit_their_own_messages_only(page: tuple[httpx.AsyncClient, Sandbox]) -> None:
    client, sandbox = page
    maya, dev, general = (
        person(sandbox, "maya"),
        person(sandbox, "dev"),
        channel(sandbox, "general"),
    )
    said = {"person": maya.id, "channel": general.id, "text": "Hello team"}
    assert (await client.post("/sandbox/compose", json=said)).status_code == 200
    [message] = sandbox.slack.channel_messages(general.id)
    edit = {"person": dev.id, "channel": general.id, "ts": message.ts, "text": "Hijacked"}
    refused = await client.post("/sandbox/edit", json=edit)
    assert refused.status_code == 403 and "your own messages" in refused.text
    edit |= {"person": maya.id, "text": "Hello, team"}
    assert (await client.post("/sandbox/edit", json=edit)).status_code == 200
    assert message.text == "Hello, team" and message.edited_ts is not None
    assert "(edited)" in await main_part(client, maya, general)


async def test_the_push_api_is_served_beside_the_page(demo_company: SandboxStack) -> None:
    """Beside the page, the bot's own WebApp answers: the push API and its OpenAPI document
    are there in the sandbox as in production, and a forged token is refused."""
    from bot.web import WebApp

    stack = demo_company
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    sandbox = Sandbox(
        stack.slack, stack.ws, stack.app, stack.driver, TimeMachine(Ceremony(stack.app)), "Demo"
    )
    front = SandboxFront(sandbox, WebApp(stack.app, owns_engine=False))
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client:
        document = await client.get("/api/v1/openapi.json")
        forged = await client.post(
            "/api/v1/key-results/KR1/checkins",
            json={"value": 3},
            headers={"authorization": "Bearer okr_forged"},
        )
    assert document.status_code == 200
    assert "/api/v1/key-results/{ref}/checkins" in document.json()["paths"]
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/sandbox/submit", {"view_id": "V1", "values": {"b": ["x" * 3001]}}),
        ("/sandbox/submit", {"view_id": "V1", "values": {"b" * 256: ["x"]}}),
        ("/sandbox/submit", {"view_id": "V1", "values": {"b": ["x"] * 101}}),
        ("/sandbox/click", {"action_id": "a", "choice": ["x" * 3001]}),
    ],
    ids=["long value", "long key", "many values", "long choice"],
)
async def test_oversized_form_input_is_refused_before_it_reaches_the_bot(
    page: tuple[httpx.AsyncClient, Sandbox], route: str, body: dict[str, object]
) -> None:
    client, sandbox = page
    answer = await client.post(route, json=body | {"person": person(sandbox, "maya").id})
    assert answer.status_code == 422, answer.text
