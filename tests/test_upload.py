"""Unshared uploads (bot/slack/upload.py) against the emulator: the three steps, what each
failure means for the outbox, and deleting a duplicate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.charts import ProgressChart, alt_text, render_off_loop
from bot.okr.progress import Direction, Kind, Measure
from bot.okr.series import CycleDates, KeyResultHistory, ObjectiveHistory, progress_series
from bot.sandbox.emulator import Channel, SlackEmulator, Workspace
from bot.sandbox.emulator.faults import Fault
from bot.sandbox.render import render_message
from bot.slack.errors import Failure, classify
from bot.slack.upload import (
    UPLOAD_FAILED,
    _post_bytes,
    classify_upload,
    delete_file,
    file_not_ready,
    upload_unshared,
)

PNG = b"\x89PNG\r\n\x1a\n chart bytes"


@dataclass
class World:
    slack: SlackEmulator
    ws: Workspace
    channel: Channel
    client: AsyncWebClient


@pytest.fixture
async def world() -> AsyncIterator[World]:
    slack = await SlackEmulator().start()
    ws = slack.add_workspace("Acme")
    channel = slack.add_channel(ws, "team-okr")
    # As the outbox builds its clients: no retries, a short timeout.
    client = AsyncWebClient(
        token=ws.bot_token, base_url=slack.api_url, timeout=2, retry_handlers=[]
    )
    yield World(slack, ws, channel, client)
    await slack.stop()


async def upload(world: World, content: bytes = PNG) -> str:
    uploaded = await upload_unshared(
        world.client, filename="progress.png", title="Progress", content=content, alt_text="chart"
    )
    return uploaded.file_id


async def failure_of(world: World) -> tuple[BaseException, Failure]:
    with pytest.raises((SlackApiError, aiohttp.ClientError)) as caught:
        await upload(world)
    return caught.value, classify_upload(caught.value).failure


async def test_an_unshared_upload(world: World) -> None:
    uploaded = await upload_unshared(
        world.client, filename="progress.png", title="Progress", content=PNG, alt_text="chart"
    )
    (file,) = world.slack.uploaded_files(world.ws.id)
    assert (uploaded.file_id, file.content, file.title, file.alt_txt) == (
        file.id,
        PNG,
        "Progress",
        "chart",
    )
    assert file.shared_in == [] and world.slack.channel_messages(world.channel.id) == []
    assert uploaded.permalink is not None and uploaded.permalink.endswith(
        f"/{file.id}/progress.png"
    )
    methods = [c.method for c in world.slack.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (complete,) = world.slack.args_of("files.completeUploadExternal")
    assert "channel_id" not in complete and "channels" not in complete
    with pytest.raises(ValueError, match="nothing to upload"):
        await upload(world, b"")


async def test_the_clients_own_session_is_used_and_left_open(world: World) -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=world.ws.bot_token, base_url=world.slack.api_url, session=session
        )
        await upload_unshared(client, filename="a.png", title="A", content=PNG, alt_text="a")
        assert not session.closed
    assert len(world.slack.uploaded_files()) == 1


async def test_a_duplicate_left_by_a_crash_is_deleted_once(world: World) -> None:
    first = await upload(world)  # uploaded, then the process died before recording it
    second = await upload(world)
    assert await delete_file(world.client, file_id=first) is True
    assert await delete_file(world.client, file_id=first) is False  # a retried delete
    assert await delete_file(world.client, file_id="F0NOSUCHFILE") is False
    assert len(world.slack.uploaded_files()) == 2
    assert [f.id for f in world.slack.uploaded_files(deleted=False)] == [second]


@pytest.mark.parametrize(
    ("fault", "failure", "error"),
    [
        (Fault.HTTP_500, Failure.UNCERTAIN, UPLOAD_FAILED),
        (Fault.HTTP_503, Failure.UNCERTAIN, UPLOAD_FAILED),
        (Fault.RATELIMITED, Failure.RATE_LIMITED, "ratelimited"),
    ],
)
async def test_an_upload_url_that_refuses_the_bytes(
    world: World, fault: Fault, failure: Failure, error: str
) -> None:
    world.slack.faults.fail("upload", fault, retry_after=3)
    exc, got = await failure_of(world)
    assert got is failure
    assert classify_upload(exc).error == error
    if failure is Failure.RATE_LIMITED:
        assert classify_upload(exc).retry_after == 3
    assert world.slack.uploaded_files() == []  # never completed
    assert await upload(world)  # the next attempt goes through


async def test_an_upload_url_that_cuts_the_connection_is_uncertain(world: World) -> None:
    world.slack.faults.fail("upload", Fault.DROP)
    exc, failure = await failure_of(world)
    assert isinstance(exc, aiohttp.ClientError) and failure is Failure.UNCERTAIN


async def test_an_upload_url_refusal_a_fresh_upload_cures_is_uncertain(world: World) -> None:
    # A 404 from the upload URL (say it expired) is no bug of ours: upload again.
    started = await world.client.files_getUploadURLExternal(filename="a.png", length=3)
    world.slack.state.files[started["file_id"]].deleted = True
    with pytest.raises(SlackApiError) as caught:
        await _post_bytes(world.client, started["upload_url"], b"abc")
    assert caught.value.response.status_code == 404
    assert classify(caught.value).failure is Failure.BROKEN
    assert classify_upload(caught.value).failure is Failure.UNCERTAIN


@pytest.mark.parametrize(
    ("method", "fault", "failure"),
    [
        ("files.getUploadURLExternal", Fault.FATAL_ERROR, Failure.UNCERTAIN),
        ("files.getUploadURLExternal", Fault.RATELIMITED, Failure.RATE_LIMITED),
        ("files.completeUploadExternal", Fault.HTTP_500, Failure.UNCERTAIN),
        ("files.completeUploadExternal", Fault.DROP, Failure.UNCERTAIN),
    ],
)
async def test_web_api_failures_mean_what_the_errors_table_says(
    world: World, method: str, fault: Fault, failure: Failure
) -> None:
    world.slack.faults.fail(method, fault)
    _exc, got = await failure_of(world)
    assert got is failure


async def test_a_revoked_token_is_workspace_fatal(world: World) -> None:
    world.slack.revoke_tokens(world.ws)
    _exc, failure = await failure_of(world)
    assert failure is Failure.WORKSPACE_FATAL


async def test_a_post_before_slack_has_processed_the_file_is_tried_again(world: World) -> None:
    world.slack.state.file_processing_seconds = 60.0
    file_id = await upload(world)
    block = {"type": "image", "slack_file": {"id": file_id}, "alt_text": "chart"}
    with pytest.raises(SlackApiError) as caught:
        await world.client.chat_postMessage(channel=world.channel.id, text="c", blocks=[block])
    assert file_not_ready(caught.value)
    assert classify(caught.value).failure is Failure.BROKEN  # the table alone would give up
    assert classify_upload(caught.value).failure is Failure.UNCERTAIN
    block["alt_text"] = ""
    with pytest.raises(SlackApiError) as broken:
        await world.client.chat_postMessage(channel=world.channel.id, text="c", blocks=[block])
    assert not file_not_ready(broken.value)
    assert classify_upload(broken.value).failure is Failure.BROKEN


async def test_a_rendered_chart_uploaded_and_shown_in_a_thread(world: World) -> None:
    cycle = CycleDates(date(2026, 1, 5), date(2026, 3, 29), ZoneInfo("UTC"))
    measure = Measure(Kind.NUMBER, Direction.INCREASE, 0, 10)
    series = progress_series(
        cycle,
        periods=["2026-W02", "2026-W03"],
        objectives=[ObjectiveHistory("O3", (KeyResultHistory(measure, (2, None)),))],
    )
    chart = ProgressChart("Platform", "2026-W03", series)
    png = await render_off_loop(chart)
    uploaded = await upload_unshared(
        world.client,
        filename="progress-2026-W03.png",
        title="Platform 2026-W03",
        content=png,
        alt_text=alt_text(chart),
    )
    digest = await world.client.chat_postMessage(channel=world.channel.id, text="Digest")
    await world.client.chat_postMessage(
        channel=world.channel.id,
        thread_ts=digest["ts"],
        text="Progress chart",
        blocks=[
            {"type": "image", "slack_file": {"id": uploaded.file_id}, "alt_text": alt_text(chart)}
        ],
    )
    (reply,) = world.slack.thread(world.channel.id, digest["ts"])
    assert [f.content for f in world.slack.files_shown(reply)] == [png]
    assert render_message(reply.text, reply.blocks).text == (
        "[image: Progress of Platform per week, 2026-W02 to 2026-W03: O3 20 %; expected 17 %.]"
    )
