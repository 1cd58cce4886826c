"""The driver sends what Slack sends: a plain Bolt app receives every kind of request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.sandbox.delivery import InProcessDelivery
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator import Channel, SlackEmulator, User
from tests.emulator_clients import CLIENT_KINDS, Api

SECRET = "driver-test-secret"


@dataclass
class Rig:
    slack: SlackEmulator
    driver: SlackDriver
    seen: list[tuple[str, dict[str, Any]]]
    pat: User
    general: Channel


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    slack = await SlackEmulator().start()
    ws = slack.add_workspace("Acme")
    pat = slack.add_user(ws, "pat", admin=True)
    general = slack.add_channel(ws, "general", members=[pat])
    seen: list[tuple[str, dict[str, Any]]] = []

    async def authorize(**_kwargs: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None,
            team_id=ws.id,
            bot_token=ws.bot_token,
            bot_user_id=ws.bot_user_id,
            bot_id=ws.bot_id,
        )

    app = AsyncApp(signing_secret=SECRET, authorize=authorize)

    async def record_event(body: dict[str, Any], ack: Any = None) -> None:
        seen.append((body["event"]["type"] + ":" + str(body["event"].get("subtype") or ""), body))

    for kind in (
        "message",
        "app_mention",
        "member_joined_channel",
        "member_left_channel",
        "channel_archive",
        "user_change",
        "app_uninstalled",
        "tokens_revoked",
        "app_home_opened",
    ):
        app.event(kind)(record_event)
    app.event({"type": "message", "subtype": "message_changed"})(record_event)
    app.event({"type": "message", "subtype": "message_deleted"})(record_event)
    app.event({"type": "message", "subtype": "bot_message"})(record_event)

    async def on_action(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(("block_actions", body))

    async def on_options(ack: Any, body: dict[str, Any]) -> None:
        await ack(options=[{"text": {"type": "plain_text", "text": "O7"}, "value": "7"}])
        seen.append(("block_suggestion", body))

    async def on_submit(ack: Any, body: dict[str, Any]) -> None:
        values = body["view"]["state"]["values"]
        if values["title"]["t"]["value"] == "":
            await ack(response_action="errors", errors={"title": "Give the objective a title"})
        else:
            await ack()
        seen.append(("view_submission", body))

    async def on_closed(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(("view_closed", body))

    async def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack(text="on it")
        await respond(text="done: " + body["text"])
        seen.append(("command", body))

    app.action("go")(on_action)
    app.options("picker")(on_options)
    app.view("new_objective")(on_submit)
    app.view_closed("new_objective")(on_closed)
    app.command("/okr")(on_command)
    driver = SlackDriver(slack, ws, signing_secret=SECRET, deliver=InProcessDelivery(app))
    yield Rig(slack, driver, seen, pat, general)
    await slack.stop()


async def settle(rig: Rig, count: int) -> None:
    for _ in range(200):
        if len(rig.seen) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} deliveries, got {[k for k, _ in rig.seen]}")


async def test_message_events(rig: Rig) -> None:
    d, pat, general = rig.driver, rig.pat, rig.general
    parent = await d.say(pat, "Planning <today> & tomorrow", channel=general)
    reply = await d.say(pat, "42, feeling 7/10", channel=general, thread_ts=parent.ts)
    await d.say(pat, "also for the channel", channel=general, thread_ts=parent.ts, broadcast=True)
    await d.edit(pat, reply, "45, feeling 8/10")
    await d.delete(pat, reply)
    await d.other_bot_says(general, "I am another app", legacy=True)
    await d.say(pat, "in the DM")
    await d.mention(pat, general, "help")
    await d.other_bot_says(general, "a modern app")
    lobby = rig.slack.add_channel(d.ws, "lobby", members=[pat], bot_member=False)
    await d.say(pat, "nobody hears this", channel=lobby)
    await settle(rig, 10)
    kinds = [k for k, _ in rig.seen]
    assert kinds == [
        "message:",
        "message:",
        "message:thread_broadcast",
        "message:message_changed",
        "message:message_deleted",
        "message:bot_message",
        "message:",
        "message:",
        "app_mention:",
        "message:",
    ]
    events = [body["event"] for _, body in rig.seen]
    assert (events[9]["user"], events[9]["bot_id"], events[9]["app_id"]) == (
        "U0OTHERBOT",
        "B0OTHERBOT",
        "A0OTHERAPP",
    )  # apps post as their bot user, without a subtype
    assert [m.text for m in rig.slack.channel_messages(lobby.id)] == ["nobody hears this"]
    parent_api = rig.slack.state.message(general.id, parent.ts).to_api()
    assert (parent_api["reply_count"], parent_api["thread_ts"]) == (2, parent.ts)
    assert events[0]["text"] == "Planning &lt;today&gt; &amp; tomorrow"  # as Slack escapes it
    assert events[1]["thread_ts"] == parent.ts and events[1]["parent_user_id"] == pat.id
    assert (
        events[3]["message"]["text"] == "45, feeling 8/10"
        and events[3]["previous_message"]["text"] == "42, feeling 7/10"
    )
    assert events[4]["deleted_ts"] == reply.ts
    assert events[5]["bot_id"] == "B0OTHERBOT"
    assert events[6]["channel_type"] == "im"
    assert rig.seen[7][1]["event_id"] != rig.seen[8][1]["event_id"]  # two ids for one mention
    assert [m.text for m in rig.slack.thread(general.id, parent.ts)] == ["also for the channel"]


async def test_membership_and_workspace_events(rig: Rig) -> None:
    d = rig.driver
    sam = rig.slack.add_user(d.ws, "sam")
    await d.join(sam, rig.general)
    await d.leave(sam, rig.general)
    await d.archive(rig.pat, rig.general)
    await d.change_user(sam, tz="Asia/Tokyo")
    await d.open_home(rig.pat)
    await d.revoke_tokens()
    await d.uninstall()
    await settle(rig, 7)
    assert [k for k, _ in rig.seen] == [
        "member_joined_channel:",
        "member_left_channel:",
        "channel_archive:",
        "user_change:",
        "app_home_opened:",
        "tokens_revoked:",
        "app_uninstalled:",
    ]
    assert rig.seen[3][1]["event"]["user"]["tz"] == "Asia/Tokyo"
    assert rig.general.is_archived and sam.id not in rig.general.members


async def test_retries_carry_the_same_event_id_and_headers(rig: Rig) -> None:
    answers = await rig.driver.event(
        {"type": "app_home_opened", "user": rig.pat.id, "tab": "home"}, retries=2
    )
    assert [a.status for a in answers] == [200, 200, 200]
    await settle(rig, 3)
    assert len({body["event_id"] for _, body in rig.seen}) == 1


async def test_command_ack_and_response_url(rig: Rig) -> None:
    answer = await rig.driver.command(rig.pat, "update KR12 45", channel=rig.general)
    assert answer.status == 200
    await settle(rig, 1)
    for _ in range(100):
        if len(rig.slack.answers_to(rig.pat.id)) == 2:
            break
        await asyncio.sleep(0.01)
    # Either may land first: the ack returns while the listener goes on to respond().
    assert sorted((e.via, e.message.text) for e in rig.slack.answers_to(rig.pat.id)) == [
        ("ack", "on it"),
        ("response_url", "done: update KR12 45"),
    ]
    assert rig.slack.recorded("response_url")[0].args["text"] == "done: update KR12 45"


async def test_interactivity(rig: Rig) -> None:
    d, pat = rig.driver, rig.pat
    posted = await Api("async", rig.slack.api_url, d.ws.bot_token)(
        "chat_postMessage",
        channel=rig.general.id,
        text="check in?",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "text": {"type": "plain_text", "text": "Check in"},
                        "value": "KR12",
                    }
                ],
            }
        ],
    )
    message = rig.slack.state.message(rig.general.id, posted["ts"])
    assert (await d.click(pat, action_id="go", value="KR12", message=message)).status == 200
    options = await d.suggest(pat, action_id="picker", value="O")
    assert options.json == {
        "options": [{"text": {"type": "plain_text", "text": "O7"}, "value": "7"}]
    }
    trigger = rig.slack.state.new_trigger(team_id=d.ws.id, user_id=pat.id)
    view = {
        "type": "modal",
        "callback_id": "new_objective",
        "title": {"type": "plain_text", "text": "New objective"},
        "submit": {"type": "plain_text", "text": "Save"},
        "notify_on_close": True,
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "t"},
            }
        ],
    }
    await Api("async", rig.slack.api_url, d.ws.bot_token)(
        "views_open", trigger_id=trigger, view=view
    )
    modal = rig.slack.open_modal(pat.id)
    assert modal is not None
    refused = await d.submit(
        pat, modal, {"title": {"t": {"type": "plain_text_input", "value": ""}}}
    )
    assert refused.json == {
        "response_action": "errors",
        "errors": {"title": "Give the objective a title"},
    }
    assert rig.slack.open_modal(pat.id) is modal  # still open, showing the error
    accepted = await d.submit(
        pat, modal, {"title": {"t": {"type": "plain_text_input", "value": "Delight"}}}
    )
    assert accepted.status == 200 and rig.slack.open_modal(pat.id) is None
    await d.close(pat, modal)
    await settle(rig, 5)
    kinds = [k for k, _ in rig.seen]
    assert kinds == [
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_submission",
        "view_closed",
    ]
    click = rig.seen[0][1]
    assert (
        click["actions"][0]["value"] == "KR12" and click["container"]["message_ts"] == posted["ts"]
    )
    assert click["response_url"].startswith(rig.slack.base_url)


async def test_url_verification_and_bad_signatures(rig: Rig) -> None:
    answer = await rig.driver.url_verification("xyz")
    assert answer.json == {"challenge": "xyz"}
    forged = await rig.driver.send("command=%2Fokr", secret="wrong")
    stale = await rig.driver.send("command=%2Fokr", timestamp=int(rig.driver.clock()) - 301)
    assert (forged.status, stale.status) == (401, 401) and rig.seen == []


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_oauth_authorize_page_and_code_exchange(kind: str) -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme", installed=False)
        slack.add_user(ws, "pat", admin=True)
        slack.add_oauth_client(
            "111.222", "shh", redirect_uri="https://bot.test/slack/oauth_redirect"
        )
        async with httpx.AsyncClient() as browser:
            page = await browser.get(
                f"{slack.base_url}oauth/v2/authorize",
                params={"client_id": "111.222", "scope": "chat:write,commands", "state": "s1"},
            )
        assert page.status_code == 302
        location = httpx.URL(page.headers["location"])
        assert str(location).startswith("https://bot.test/slack/oauth_redirect?")
        assert location.params["state"] == "s1"
        api = Api(kind, slack.api_url, None)
        granted = await api(
            "oauth_v2_access",
            client_id="111.222",
            client_secret="shh",
            code=location.params["code"],
        )
        assert (granted["team"]["id"], granted["scope"], granted["bot_user_id"]) == (
            ws.id,
            "chat:write,commands",
            ws.bot_user_id,
        )
        me = await Api(kind, slack.api_url, granted["access_token"])("auth_test")
        assert me["team_id"] == ws.id
        with pytest.raises(Exception, match="invalid_code"):  # a code works once
            await api(
                "oauth_v2_access",
                client_id="111.222",
                client_secret="shh",
                code=location.params["code"],
            )


async def test_response_url_replaces_deletes_and_expires(rig: Rig) -> None:
    api = Api("async", rig.slack.api_url, rig.driver.ws.bot_token)
    posted = await api("chat_postMessage", channel=rig.general.id, text="Check in for W48?")
    url = rig.slack.response_url(
        team_id=rig.driver.ws.id,
        channel_id=rig.general.id,
        user_id=rig.pat.id,
        message_ts=posted["ts"],
    )
    async with httpx.AsyncClient() as client:
        assert (
            await client.post(url, json={"replace_original": True, "text": "Checked in"})
        ).status_code == 200
        assert rig.slack.channel_messages(rig.general.id)[0].text == "Checked in"  # for everyone
        assert (await client.post(url, json={"delete_original": True})).status_code == 200
        assert rig.slack.channel_messages(rig.general.id) == []
        old = rig.slack.response_url(
            team_id=rig.driver.ws.id, channel_id=rig.general.id, user_id=rig.pat.id
        )
        rig.slack.state.response_urls[old.rsplit("/", 1)[1]].issued_at -= 31 * 60
        expired = await client.post(old, json={"text": "late"})
        assert (expired.status_code, expired.text) == (404, "expired_url")
        once = rig.slack.response_url(
            team_id=rig.driver.ws.id, channel_id=rig.general.id, user_id=rig.pat.id
        )
        codes = [(await client.post(once, json={"text": str(i)})).status_code for i in range(6)]
        assert codes == [200] * 5 + [404]  # five uses


async def test_the_driver_refuses_what_a_person_could_not_do(rig: Rig) -> None:
    from bot.sandbox.interactions import DriverError

    api = Api("async", rig.slack.api_url, rig.driver.ws.bot_token)
    posted = await api("chat_postMessage", channel=rig.general.id, text="no buttons here")
    message = rig.slack.state.message(rig.general.id, posted["ts"])
    with pytest.raises(DriverError, match="nothing with action_id"):
        await rig.driver.click(rig.pat, action_id="go", message=message)
    trigger = rig.slack.state.new_trigger(team_id=rig.driver.ws.id, user_id=rig.pat.id)
    view = {
        "type": "modal",
        "callback_id": "other",
        "title": {"type": "plain_text", "text": "Quiet"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    await api("views_open", trigger_id=trigger, view=view)
    modal = rig.slack.open_modal(rig.pat.id)
    assert modal is not None
    with pytest.raises(DriverError, match="no input 'title'"):
        await rig.driver.submit(
            rig.pat, modal, {"title": {"t": {"type": "plain_text_input", "value": "x"}}}
        )
    assert (
        await rig.driver.close(rig.pat, modal) is None
    )  # no notify_on_close: the app hears nothing
    assert rig.slack.open_modal(rig.pat.id) is None and rig.seen == []


async def test_a_late_ack_is_an_error_the_person_sees() -> None:
    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Acme")
        pat = slack.add_user(ws, "pat")

        async def authorize(**_kwargs: Any) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=None,
                team_id=ws.id,
                bot_token=ws.bot_token,
                bot_user_id=ws.bot_user_id,
                bot_id=ws.bot_id,
            )

        app = AsyncApp(signing_secret=SECRET, authorize=authorize)

        async def slow(ack: Any) -> None:
            await asyncio.sleep(3.2)
            await ack(text="too late")

        app.command("/okr")(slow)
        driver = SlackDriver(slack, ws, signing_secret=SECRET, deliver=InProcessDelivery(app))
        answer = await driver.command(pat, "mine")
        assert answer.late
        assert [e.message.text for e in slack.answers_to(pat.id)] == [
            'The command failed with the error "operation_timeout"'
        ]
