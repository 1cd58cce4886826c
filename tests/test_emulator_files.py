"""The emulator's files: unshared uploads, files.info, files.delete, and image blocks that
show an uploaded file (`slack_file`), through slack_sdk's AsyncWebClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import Channel, SlackEmulator, Workspace
from bot.sandbox.emulator.faults import Fault
from bot.sandbox.emulator.state import DEFAULT_BOT_SCOPES
from bot.sandbox.render import render_message

PNG = b"\x89PNG\r\n\x1a\n chart"


@dataclass
class World:
    slack: SlackEmulator
    ws: Workspace
    general: Channel
    api: AsyncWebClient
    now: list[float]

    def later(self, seconds: float) -> None:
        self.now[0] += seconds


@pytest.fixture
async def world() -> AsyncIterator[World]:
    now = [1_800_000_000.0]
    slack = await SlackEmulator(clock=lambda: now[0]).start()
    ws = slack.add_workspace("Acme", scopes=[*DEFAULT_BOT_SCOPES, "files:read"])
    pat = slack.add_user(ws, "pat")
    general = slack.add_channel(ws, "general", members=[pat])
    yield World(slack, ws, general, AsyncWebClient(token=ws.bot_token, base_url=slack.api_url), now)
    await slack.stop()


async def fails(call: Any, error: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call(**kwargs)
    assert caught.value.response["error"] == error
    return dict(caught.value.response.data)


async def upload(
    world: World, content: bytes = PNG, *, complete: bool = True, **complete_args: Any
) -> str:
    """The three steps, by hand: what bot/slack/upload.py does."""
    started = await world.api.files_getUploadURLExternal(
        filename="progress.png", length=len(content), alt_txt="progress"
    )
    async with httpx.AsyncClient() as http:
        answer = await http.post(started["upload_url"], content=content)
    assert answer.status_code == 200, answer.text
    if complete:
        await world.api.files_completeUploadExternal(
            files=[{"id": started["file_id"], "title": "Progress"}], **complete_args
        )
    return str(started["file_id"])


def image(file: dict[str, str], alt_text: str = "Progress of O1 and O2") -> dict[str, Any]:
    return {"type": "image", "slack_file": file, "alt_text": alt_text}


async def test_completed_without_a_channel_a_file_stays_private_to_the_bot(world: World) -> None:
    file_id = await upload(world)
    (file,) = world.slack.uploaded_files(world.ws.id)
    assert (file.id, file.content, file.title, file.shared_in) == (file_id, PNG, "Progress", [])
    assert all(not messages for messages in world.slack.state.messages.values())
    info = (await world.api.files_info(file=file_id))["file"]
    assert (info["name"], info["title"], info["size"], info["mimetype"]) == (
        "progress.png",
        "Progress",
        len(PNG),
        "image/png",
    )
    assert (info["channels"], info["groups"], info["ims"], info["is_public"]) == ([], [], [], False)
    assert (
        info["permalink"]
        == f"https://acme.slack.com/files/{world.ws.bot_user_id}/{file_id}/progress.png"
    )
    assert info["user"] == world.ws.bot_user_id and info["alt_txt"] == "progress"
    assert [c.method for c in world.slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
        "files.info",
    ]


async def test_a_file_is_processed_before_a_message_may_show_it(world: World) -> None:
    world.slack.state.file_processing_seconds = 2.0
    file_id = await upload(world)
    assert (await world.api.files_info(file=file_id))["file"]["mimetype"] == ""
    refused = await fails(
        world.api.chat_postMessage,
        "invalid_blocks",
        channel=world.general.id,
        text="chart",
        blocks=[image({"id": file_id})],
    )
    assert refused["errors"] == ["[ERROR] invalid slack file [json-pointer:/blocks/0/slack_file]"]
    world.later(2.0)
    assert (await world.api.files_info(file=file_id))["file"]["mimetype"] == "image/png"
    posted = await world.api.chat_postMessage(
        channel=world.general.id, text="chart", blocks=[image({"id": file_id})]
    )
    message = world.slack.state.message(world.general.id, posted["ts"])
    assert [f.id for f in world.slack.files_shown(message)] == [file_id]
    assert render_message(message.text, message.blocks).text == "[image: Progress of O1 and O2]"


async def test_delete_and_what_slack_says_after(world: World) -> None:
    first, second = await upload(world), await upload(world)
    assert len(world.slack.uploaded_files()) == 2
    await world.api.files_delete(file=first)
    assert [f.id for f in world.slack.uploaded_files(deleted=False)] == [second]
    assert [f.id for f in world.slack.uploaded_files(deleted=True)] == [first]
    assert world.slack.uploaded_files(deleted=True)[0].content == PNG  # still inspectable
    await fails(world.api.files_delete, "file_deleted", file=first)
    await fails(world.api.files_info, "file_deleted", file=first)
    await fails(world.api.files_delete, "file_not_found", file="F0NOSUCHFILE")
    await fails(world.api.files_info, "file_not_found", file="F0NOSUCHFILE")
    unfinished = await upload(world, complete=False)
    await fails(world.api.files_delete, "file_not_found", file=unfinished)
    await fails(
        world.api.chat_postMessage,
        "invalid_blocks",
        channel=world.general.id,
        text="chart",
        blocks=[image({"id": first})],
    )


async def test_files_are_the_workspaces_own(world: World) -> None:
    file_id = await upload(world)
    other = world.slack.add_workspace("Other", scopes=[*DEFAULT_BOT_SCOPES, "files:read"])
    other_channel = world.slack.add_channel(other, "general")
    stranger = AsyncWebClient(token=other.bot_token, base_url=world.slack.api_url)
    await fails(stranger.files_info, "file_not_found", file=file_id)
    await fails(stranger.files_delete, "file_not_found", file=file_id)
    await fails(stranger.files_completeUploadExternal, "file_not_found", files=[{"id": file_id}])
    await fails(
        stranger.chat_postMessage,
        "invalid_blocks",
        channel=other_channel.id,
        text="chart",
        blocks=[image({"id": file_id})],
    )


async def test_files_info_needs_its_scope(world: World) -> None:
    narrow = world.slack.add_workspace("Narrow")  # the manifest's scopes: no files:read
    client = AsyncWebClient(token=narrow.bot_token, base_url=world.slack.api_url)
    refused = await fails(client.files_info, "missing_scope", file="F0NOSUCHFILE")
    assert refused["needed"] == "files:read"


@pytest.mark.parametrize(
    ("make_block", "pointer", "reason"),
    [
        (lambda f: image({"id": "F0NOSUCHFILE"}), "/blocks/0/slack_file", "invalid slack file"),
        (
            lambda f: image({"id": "f-lower"}),
            "/blocks/0/slack_file/id",
            "input must match regex pattern: ^[F][A-Z0-9]{8,}$",
        ),
        (lambda f: image({}), "/blocks/0/slack_file", "invalid slack file"),
        (
            lambda f: image({"id": f, "url": "https://files.slack.com/x"}),
            "/blocks/0/slack_file",
            "invalid slack file",
        ),
        (
            lambda f: image({"url": "https://files.slack.com/files-pri/T0-F0NOPE/x.png"}),
            "/blocks/0/slack_file",
            "invalid slack file",
        ),
        (lambda f: image({"id": f}, alt_text=""), "/blocks/0/alt_text", "more than 0"),
        (lambda f: image({"id": f}, alt_text="a" * 2001), "/blocks/0", "2000"),
        (
            lambda f: {**image({"id": f}), "image_url": "https://example.com/a.png"},
            "/blocks/0",
            "exactly one of image_url or slack_file",
        ),
        (
            lambda f: {
                "type": "context",
                "elements": [
                    {"type": "image", "slack_file": {"id": "F0NOSUCHFILE"}, "alt_text": "a"}
                ],
            },
            "/blocks/0/elements/0/slack_file",
            "invalid slack file",
        ),
        (
            lambda f: {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "O1"},
                "accessory": {
                    "type": "image",
                    "slack_file": {"id": "F0NOSUCHFILE"},
                    "alt_text": "a",
                },
            },
            "/blocks/0/accessory/slack_file",
            "invalid slack file",
        ),
    ],
)
async def test_images_slack_refuses(
    world: World, make_block: Any, pointer: str, reason: str
) -> None:
    file_id = await upload(world)
    refused = await fails(
        world.api.chat_postMessage,
        "invalid_blocks",
        channel=world.general.id,
        text="chart",
        blocks=[make_block(file_id)],
    )
    (error,) = refused["errors"]
    assert reason in error and error.endswith(f"[json-pointer:{pointer}]"), error
    assert refused["response_metadata"]["messages"] == [error]


async def test_images_slack_shows(world: World) -> None:
    file_id = await upload(world)
    info = (await world.api.files_info(file=file_id))["file"]
    blocks = [
        image({"id": file_id}),
        image({"url": info["permalink"]}),
        image({"url": info["url_private"]}),
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "elsewhere"},
        {
            "type": "context",
            "elements": [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "small"}],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*O1*"},
            "accessory": {"type": "image", "slack_file": {"id": file_id}, "alt_text": "thumb"},
        },
        {**image({"id": file_id}), "title": {"type": "plain_text", "text": "Platform"}},
    ]
    posted = await world.api.chat_postMessage(channel=world.general.id, text="c", blocks=blocks)
    message = world.slack.state.message(world.general.id, posted["ts"])
    assert len(world.slack.files_shown(message)) == 6
    assert render_message(message.text, message.blocks).text.splitlines() == [
        "[image: Progress of O1 and O2]",
        "[image: Progress of O1 and O2]",
        "[image: Progress of O1 and O2]",
        "[image: elsewhere]",
        "[image: small]",
        "*O1*",
        "[image: thumb]",
        "[image: Platform — Progress of O1 and O2]",
    ]
    thread = await world.api.chat_postMessage(
        channel=world.general.id, text="c", thread_ts=posted["ts"], blocks=[image({"id": file_id})]
    )
    assert world.slack.thread(world.general.id, posted["ts"])[0].ts == thread["ts"]


async def test_chat_update_checks_the_images_it_is_given(world: World) -> None:
    file_id = await upload(world)
    posted = await world.api.chat_postMessage(channel=world.general.id, text="digest")
    await fails(
        world.api.chat_update,
        "invalid_blocks",
        channel=world.general.id,
        ts=posted["ts"],
        text="digest",
        blocks=[image({"id": "F0NOSUCHFILE"})],
    )
    await world.api.chat_update(
        channel=world.general.id, ts=posted["ts"], text="digest", blocks=[image({"id": file_id})]
    )
    await world.api.files_delete(file=file_id)
    # A text edit keeps the blocks as they are: Slack does not look at their files again.
    await world.api.chat_update(channel=world.general.id, ts=posted["ts"], text="digest, edited")
    await fails(
        world.api.chat_postEphemeral,
        "invalid_blocks",
        channel=world.general.id,
        user=world.ws.bot_user_id,
        text="c",
        blocks=[image({"id": file_id})],
    )


async def test_upload_url_faults_and_reuse(world: World) -> None:
    started = await world.api.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    url, file_id = started["upload_url"], started["file_id"]
    world.slack.faults.fail("upload", Fault.HTTP_503)
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=PNG)).status_code == 503
        await fails(
            world.api.files_completeUploadExternal, "file_upload_not_found", files=[{"id": file_id}]
        )
        world.slack.faults.fail("upload", Fault.ACCEPT_THEN_DROP)
        with pytest.raises(httpx.HTTPError):
            await http.post(url, content=PNG)
        assert world.slack.state.files[file_id].content == PNG  # taken, answer lost
        assert (await http.post(url, content=PNG)).status_code == 200  # again is fine
        await world.api.files_completeUploadExternal(files=[{"id": file_id}])
        assert (await http.post(url, content=b"other")).status_code == 404  # completed
    assert [c.status for c in world.slack.recorded("upload")] == [503, 0, 200, 404]
    assert world.slack.uploaded_files()[0].content == PNG


async def test_completing_with_a_channel_still_shares(world: World) -> None:
    file_id = await upload(world, channel_id=world.general.id, initial_comment="This week")
    (message,) = world.slack.channel_messages(world.general.id)
    assert (message.subtype, message.text, message.files[0]["id"]) == (
        "file_share",
        "This week",
        file_id,
    )
    info = (await world.api.files_info(file=file_id))["file"]
    assert (info["channels"], info["is_public"]) == ([world.general.id], True)
