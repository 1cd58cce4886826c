"""Every emulated Web API method, through WebClient and AsyncWebClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import Channel, SlackEmulator, User, Workspace
from tests.emulator_clients import CLIENT_KINDS, Api


@dataclass
class World:
    slack: SlackEmulator
    ws: Workspace
    pat: User
    sam: User
    general: Channel
    secret: Channel
    api: Api


@pytest.fixture(params=CLIENT_KINDS)
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    slack = await SlackEmulator().start()
    ws = slack.add_workspace("Acme")
    pat = slack.add_user(ws, "pat", tz="Europe/Berlin", admin=True, email="pat@acme.test")
    sam = slack.add_user(ws, "sam", email="sam@acme.test")
    general = slack.add_channel(ws, "general", members=[pat, sam])
    secret = slack.add_channel(ws, "secret", private=True, members=[pat], bot_member=False)
    yield World(
        slack, ws, pat, sam, general, secret, Api(request.param, slack.api_url, ws.bot_token)
    )
    await slack.stop()


async def fails(api: Api, name: str, error: str, /, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await api(name, **kwargs)
    assert caught.value.response["error"] == error
    return caught.value


async def test_identity(world: World) -> None:
    api, ws = world.api, world.ws
    me = await api("auth_test")
    assert (me["team_id"], me["user_id"], me["bot_id"]) == (ws.id, ws.bot_user_id, ws.bot_id)
    assert "chat:write" in me.headers["x-oauth-scopes"]
    assert (await api("team_info"))["team"]["name"] == "Acme"
    info = (await api("users_info", user=world.pat.id))["user"]
    assert (info["tz"], info["is_admin"], info["profile"]["email"]) == (
        "Europe/Berlin",
        True,
        "pat@acme.test",
    )
    await fails(api, "users_info", "user_not_found", user="U0NOBODY")
    first = await api("users_list", limit=2)
    rest = await api("users_list", limit=2, cursor=first["response_metadata"]["next_cursor"])
    names = {m["name"] for m in first["members"] + rest["members"]}
    assert names == {"okr", "pat", "sam"} and rest["response_metadata"]["next_cursor"] == ""
    assert (await api("users_lookupByEmail", email="SAM@acme.test"))["user"]["id"] == world.sam.id
    await fails(api, "users_lookupByEmail", "users_not_found", email="nobody@acme.test")


async def test_bad_tokens(world: World) -> None:
    await fails(Api(world.api.kind, world.slack.api_url, "xoxb-wrong"), "auth_test", "invalid_auth")
    world.slack.revoke_tokens(world.ws)
    await fails(world.api, "auth_test", "token_revoked")


async def test_missing_scope(world: World) -> None:
    ws = world.slack.add_workspace("Narrow", scopes=["chat:write"])
    error = await fails(
        Api(world.api.kind, world.slack.api_url, ws.bot_token), "users_list", "missing_scope"
    )
    assert error.response["needed"] == "users:read" and error.response["provided"] == "chat:write"


async def test_conversations(world: World) -> None:
    api, slack = world.api, world.slack
    dm = (await api("conversations_open", users=world.pat.id))["channel"]["id"]
    assert (
        dm.startswith("D")
        and (await api("conversations_open", users=world.pat.id))["channel"]["id"] == dm
    )
    info = (await api("conversations_info", channel=world.general.id))["channel"]
    assert (info["name"], info["is_private"]) == ("general", False)
    await fails(api, "conversations_info", "channel_not_found", channel=world.secret.id)
    members = (await api("conversations_members", channel=world.general.id))["members"]
    assert set(members) == {world.pat.id, world.sam.id, world.ws.bot_user_id}
    lobby = slack.add_channel(world.ws, "lobby", bot_member=False)
    await fails(api, "conversations_history", "not_in_channel", channel=lobby.id)
    assert (await api("conversations_join", channel=lobby.id))["channel"]["id"] == lobby.id
    assert world.ws.bot_user_id in lobby.members
    world.secret.members.add(world.ws.bot_user_id)
    await fails(
        api, "conversations_join", "method_not_supported_for_channel_type", channel=world.secret.id
    )
    lobby.is_archived = True
    await fails(api, "conversations_join", "is_archived", channel=lobby.id)
    slack.deactivate(world.sam)
    await fails(api, "conversations_open", "user_disabled", users=world.sam.id)


async def test_messages_threads_metadata_history(world: World) -> None:
    api, slack, general = world.api, world.slack, world.general
    parent = await api(
        "chat_postMessage",
        channel=general.id,
        text="Check-in time",
        metadata={"event_type": "checkin_prompt", "event_payload": {"key": "prompt:1"}},
    )
    reply = await api("chat_postMessage", channel=general.id, text="noted", thread_ts=parent["ts"])
    dm = await api("chat_postMessage", channel=world.pat.id, text="your key results")
    assert dm["channel"].startswith("D") and [m.text for m in slack.dms(world.pat.id)] == [
        "your key results"
    ]
    history = await api("conversations_history", channel=general.id, include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["Check-in time"]
    assert history["messages"][0]["metadata"]["event_payload"] == {"key": "prompt:1"}
    plain = await api("conversations_history", channel=general.id)
    assert "metadata" not in plain["messages"][0]
    thread = await api("conversations_replies", channel=general.id, ts=parent["ts"])
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], reply["ts"]]
    assert [m.text for m in slack.thread(general.id, parent["ts"])] == ["noted"]
    await fails(api, "conversations_replies", "thread_not_found", channel=general.id, ts="1.000001")
    await fails(api, "chat_postMessage", "channel_not_found", channel="C0NOPE", text="x")
    lobby = slack.add_channel(world.ws, "lobby", bot_member=False)
    await fails(api, "chat_postMessage", "not_in_channel", channel=lobby.id, text="x")
    general.is_archived = True
    await fails(api, "chat_postMessage", "is_archived", channel=general.id, text="x")
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too, as it should
        await fails(api, "chat_postMessage", "no_text", channel=world.pat.id)


async def test_update_delete_permalink_ephemeral_reactions(world: World) -> None:
    api, slack, general = world.api, world.slack, world.general
    posted = await api("chat_postMessage", channel=general.id, text="v1")
    updated = await api("chat_update", channel=general.id, ts=posted["ts"], text="v2")
    assert updated["text"] == "v2" and slack.channel_messages(general.id)[0].edited_ts
    link = await api("chat_getPermalink", channel=general.id, message_ts=posted["ts"])
    assert link["permalink"].endswith(posted["ts"].replace(".", ""))
    await api("reactions_add", channel=general.id, timestamp=posted["ts"], name="white_check_mark")
    await fails(
        api,
        "reactions_add",
        "already_reacted",
        channel=general.id,
        timestamp=posted["ts"],
        name="white_check_mark",
    )
    await api(
        "reactions_remove", channel=general.id, timestamp=posted["ts"], name="white_check_mark"
    )
    await fails(
        api,
        "reactions_remove",
        "no_reaction",
        channel=general.id,
        timestamp=posted["ts"],
        name="white_check_mark",
    )
    await api("chat_postEphemeral", channel=general.id, user=world.sam.id, text="only you")
    assert [e.message.text for e in slack.answers_to(world.sam.id)] == ["only you"]
    outsider = slack.add_user(world.ws, "olu")
    await fails(
        api,
        "chat_postEphemeral",
        "user_not_in_channel",
        channel=general.id,
        user=outsider.id,
        text="x",
    )
    await api("chat_delete", channel=general.id, ts=posted["ts"])
    assert slack.channel_messages(general.id) == []
    await fails(api, "chat_delete", "message_not_found", channel=general.id, ts=posted["ts"])


def modal(title: str = "New objective", blocks: int = 1) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}}
            for i in range(blocks)
        ],
    }


async def test_views(world: World) -> None:
    api, slack, state = world.api, world.slack, world.slack.state
    trigger = state.new_trigger(team_id=world.ws.id, user_id=world.pat.id)
    opened = (await api("views_open", trigger_id=trigger, view=modal()))["view"]
    assert slack.open_modal(world.pat.id) is not None
    await fails(api, "views_open", "exchanged_trigger_id", trigger_id=trigger, view=modal())
    pushed = (
        await api(
            "views_push",
            trigger_id=state.new_trigger(team_id=world.ws.id, user_id=world.pat.id),
            view=modal("Key result"),
        )
    )["view"]
    assert pushed["root_view_id"] == opened["id"] and pushed["previous_view_id"] == opened["id"]
    updated = (
        await api("views_update", view_id=opened["id"], hash=opened["hash"], view=modal("Edited"))
    )["view"]
    assert updated["title"]["text"] == "Edited"
    await fails(
        api,
        "views_update",
        "hash_conflict",
        view_id=opened["id"],
        hash=opened["hash"],
        view=modal(),
    )
    await fails(api, "views_update", "not_found", view_id="V0NOPE", view=modal())
    await api(
        "views_publish", user_id=world.sam.id, view={"type": "home", "blocks": modal()["blocks"]}
    )
    home = slack.home(world.sam.id)
    assert home is not None and home.view["type"] == "home"
    stale = state.new_trigger(team_id=world.ws.id, user_id=world.pat.id)
    state.triggers[stale].issued_at -= 3.5
    await fails(api, "views_open", "expired_trigger_id", trigger_id=stale, view=modal())


async def test_file_upload_v2(world: World) -> None:
    api, slack = world.api, world.slack
    done = await api(
        "files_upload_v2",
        channel=world.general.id,
        content=b"\x89PNG chart bytes",
        filename="progress.png",
        title="Progress",
        initial_comment="This week",
    )
    file_id = done["files"][0]["id"]
    assert slack.state.files[file_id].content == b"\x89PNG chart bytes"
    (message,) = slack.channel_messages(world.general.id)
    assert (message.text, message.files[0]["title"]) == ("This week", "Progress")
    await fails(api, "files_completeUploadExternal", "file_not_found", files=[{"id": "F0NOPE"}])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "invalid_blocks",
        ),
        ({"blocks": [{"type": "fancy"}]}, "invalid_blocks"),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5},
            "msg_blocks_too_long",
        ),
        ({"text": "x" * 40_001}, "msg_too_long"),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "é" * 2900}}] * 2},
            "ok",
        ),
        (
            {
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "a",
                                "text": {"type": "plain_text", "text": "x" * 76},
                            }
                        ],
                    }
                ]
            },
            "invalid_blocks",
        ),
        (
            {"blocks": [{"type": "actions", "elements": [{"type": "gizmo", "action_id": "a"}]}]},
            "invalid_blocks",
        ),
        (
            {
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "a",
                                "text": {"type": "plain_text", "text": "1"},
                            },
                            {
                                "type": "button",
                                "action_id": "a",
                                "text": {"type": "plain_text", "text": "2"},
                            },
                        ],
                    }
                ]
            },
            "invalid_blocks",
        ),
        (
            {"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}]},
            "invalid_blocks",
        ),
        ({"blocks": [{"type": "section", "text": "just a string"}]}, "invalid_blocks"),
        (
            {
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "static_select",
                                "action_id": "a",
                                "options": [
                                    {
                                        "text": {"type": "plain_text", "text": str(i)},
                                        "value": str(i),
                                    }
                                    for i in range(101)
                                ],
                            }
                        ],
                    }
                ]
            },
            "invalid_blocks",
        ),
    ],
)
async def test_block_kit_limits(world: World, kwargs: dict[str, Any], error: str) -> None:
    args = {"channel": world.general.id, "text": "t"} | kwargs
    if error == "ok":  # accents count once each, as Slack counts characters
        assert (await world.api("chat_postMessage", **args))["ok"]
        return
    refused = await fails(world.api, "chat_postMessage", error, **args)
    if error == "invalid_blocks":
        assert refused.response["errors"][0].startswith("[ERROR] ")
    assert world.slack.channel_messages(world.general.id) == []
    ok = await world.api(
        "chat_postMessage", channel=world.general.id, text="t", blocks=[{"type": "divider"}] * 50
    )
    assert ok["ok"]


def _input_modal(**changes: Any) -> dict[str, Any]:
    view = modal()
    view["blocks"] = [
        {
            "type": "input",
            "block_id": "t",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "t"},
        }
    ]
    return view | changes


async def test_view_limits(world: World) -> None:
    state = world.slack.state
    no_submit = _input_modal()
    del no_submit["submit"]
    for view in (
        modal("x" * 25),
        modal(blocks=101),
        no_submit,
        _input_modal(title={"type": "mrkdwn", "text": "Title"}),
        _input_modal(callback_id="c" * 256),
    ):
        trigger = state.new_trigger(team_id=world.ws.id, user_id=world.pat.id)
        refused = await fails(
            world.api, "views_open", "invalid_arguments", trigger_id=trigger, view=view
        )
        assert refused.response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    trigger = state.new_trigger(team_id=world.ws.id, user_id=world.pat.id)
    assert (await world.api("views_open", trigger_id=trigger, view=modal("x" * 24, blocks=100)))[
        "ok"
    ]


async def test_history_bounds_are_exclusive_unless_asked(world: World) -> None:
    api, general = world.api, world.general
    posted = await api("chat_postMessage", channel=general.id, text="only one")
    ts = posted["ts"]
    exclusive = await api("conversations_history", channel=general.id, oldest=ts, latest=ts)
    inclusive = await api(
        "conversations_history", channel=general.id, oldest=ts, latest=ts, inclusive=True
    )
    assert (len(exclusive["messages"]), len(inclusive["messages"])) == (0, 1)


async def test_malformed_arguments_get_an_answer_not_a_server_error(world: World) -> None:
    api, general = world.api, world.general
    await fails(api, "conversations_history", "invalid_ts_oldest", channel=general.id, oldest="abc")
    async with httpx.AsyncClient() as raw:  # what slack_sdk itself would not even send
        answer = await raw.post(
            world.slack.api_url + "files.completeUploadExternal",
            json={"files": ["F1"]},
            headers={"Authorization": f"Bearer {world.ws.bot_token}"},
        )
    assert (answer.status_code, answer.json()["error"]) == (200, "invalid_arguments")
    await fails(
        api,
        "chat_postMessage",
        "invalid_blocks",
        channel=general.id,
        text="t",
        blocks=[{"type": "input", "label": {"type": "plain_text", "text": "L"}}],
    )
    assert all(c.status == 200 for c in world.slack.calls)


async def test_email_needs_its_scope(world: World) -> None:
    narrow = world.slack.add_workspace("Narrow", scopes=["users:read"])
    someone = world.slack.add_user(narrow, "kim", email="kim@narrow.test")
    profile = (
        await Api(world.api.kind, world.slack.api_url, narrow.bot_token)(
            "users_info", user=someone.id
        )
    )["user"]["profile"]
    assert "email" not in profile
    full = (await world.api("users_info", user=world.pat.id))["user"]["profile"]
    assert full["email"] == "pat@acme.test"


async def test_reading_a_thread_needs_the_scope_of_its_channel_kind(world: World) -> None:
    """As Slack checks it: channels:history reads public channels' threads, groups:history
    private ones'; one does not stand in for the other."""
    narrow = world.slack.add_workspace("Narrow", scopes=["chat:write", "channels:history"])
    public = world.slack.add_channel(narrow, "team")
    private = world.slack.add_channel(narrow, "hidden", private=True)
    api = Api(world.api.kind, world.slack.api_url, narrow.bot_token)
    for channel in (public, private):
        parent = await api("chat_postMessage", channel=channel.id, text="digest")
        await api("chat_postMessage", channel=channel.id, text="chart", thread_ts=parent["ts"])
        if channel is public:
            found = await api("conversations_replies", channel=channel.id, ts=parent["ts"])
            assert [m["text"] for m in found["messages"]] == ["digest", "chart"]
            continue
        for method in ("conversations_replies", "conversations_history"):
            error = await fails(api, method, "missing_scope", channel=channel.id, ts=parent["ts"])
            assert error.response["needed"] == "groups:history"
    # The bot's own scopes cover both kinds (the manifest's, test_manifest).
    world.secret.members.add(world.ws.bot_user_id)
    parent = await world.api("chat_postMessage", channel=world.secret.id, text="digest")
    found = await world.api("conversations_replies", channel=world.secret.id, ts=parent["ts"])
    assert len(found["messages"]) == 1
