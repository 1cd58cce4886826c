"""Rate limits and injected faults, as slack_sdk's clients and retry handlers meet them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.sandbox.emulator import SlackEmulator, Workspace
from bot.sandbox.emulator.faults import Fault
from tests.emulator_clients import CLIENT_KINDS, Api


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = await SlackEmulator().start()
    yield emulator
    await emulator.stop()


def setup(slack: SlackEmulator) -> tuple[Workspace, str]:
    ws = slack.add_workspace()
    channel = slack.add_channel(ws, "team-okr")
    return ws, channel.id


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_retry_handlers_honour_retry_after(slack: SlackEmulator, kind: str) -> None:
    ws, channel = setup(slack)
    handler = (
        RateLimitErrorRetryHandler(max_retry_count=1)
        if kind == "sync"
        else AsyncRateLimitErrorRetryHandler(max_retry_count=1)
    )
    api = Api(kind, slack.api_url, ws.bot_token, retry_handlers=[handler])
    slack.faults.fail("chat.postMessage", Fault.RATELIMITED, retry_after=1)
    started = time.monotonic()
    response = await api("chat_postMessage", channel=channel, text="hi")
    assert response["ok"] and time.monotonic() - started >= 1.0
    calls = slack.recorded("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    assert len(slack.channel_messages(channel)) == 1


async def test_channel_limit_then_workspace_budget() -> None:
    now = [1000.0]
    slack = await SlackEmulator(clock=lambda: now[0], rate_limits=True).start()
    try:
        ws, channel = setup(slack)
        api = Api("async", slack.api_url, ws.bot_token)
        for _ in range(3):  # a burst of three per channel
            await api("chat_postMessage", channel=channel, text="x")
        with pytest.raises(SlackApiError) as limited:
            await api("chat_postMessage", channel=channel, text="x")
        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] == "1"
        now[0] += 1.0  # one a second per channel
        await api("chat_postMessage", channel=channel, text="x")
        others = [slack.add_channel(ws, f"c{i}").id for i in range(12)]
        results = []
        for other in others:  # the workspace-wide burst (10) runs out across channels
            try:
                await api("chat_postMessage", channel=other, text="x")
                results.append(200)
            except SlackApiError as exc:
                results.append(exc.response.status_code)
        assert results.count(429) >= 1 and results.index(429) == 9  # 10 - 1 left after the wait
        other_ws, other_channel = setup(slack)  # another workspace has its own budget
        assert (
            await Api("async", slack.api_url, other_ws.bot_token)(
                "chat_postMessage", channel=other_channel, text="x"
            )
        )["ok"]
    finally:
        await slack.stop()


async def test_tiers_and_the_history_limit() -> None:
    now = [1000.0]
    slack = await SlackEmulator(clock=lambda: now[0], rate_limits=True).start()
    slack.limits.history_per_minute = 1
    try:
        ws, channel = setup(slack)
        api = Api("async", slack.api_url, ws.bot_token)
        await api("conversations_history", channel=channel)
        with pytest.raises(SlackApiError) as limited:
            await api("conversations_history", channel=channel)
        assert int(limited.value.response.headers["Retry-After"]) == 60
        now[0] += 60
        await api("conversations_history", channel=channel)
        for _ in range(5):  # users.list is Tier 2: a burst of 5, then 20 a minute
            await api("users_list")
        with pytest.raises(SlackApiError):
            await api("users_list")
        slack.limits.time_scale = 60  # benchmarks speed limits up, buckets already made too
        now[0] += 0.25
        for _ in range(5):
            await api("users_list")  # 20 a minute x 60 = 20 a second: 5 back in 0.25 s
    finally:
        await slack.stop()


async def test_first_call_under_a_one_a_minute_limit_goes_through_on_a_real_clock() -> None:
    slack = await SlackEmulator(rate_limits=True).start()
    slack.limits.history_per_minute = 1
    try:
        ws, channel = setup(slack)
        api = Api("async", slack.api_url, ws.bot_token)
        slack.limits.enabled = False
        for i in range(30):
            await api("chat_postMessage", channel=channel, text=str(i))
        slack.limits.enabled = True
        page = await api("conversations_history", channel=channel, limit=100)
        assert len(page["messages"]) == 15 and page["has_more"]  # Slack's page cap under the rule
        replies = await api("conversations_replies", channel=channel, ts=page["messages"][0]["ts"])
        assert replies["ok"]
        with pytest.raises(SlackApiError):
            await api("conversations_history", channel=channel)
    finally:
        await slack.stop()


async def test_limits_are_off_by_default(slack: SlackEmulator) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token)
    await asyncio.gather(
        *(api("chat_postMessage", channel=channel, text=str(i)) for i in range(30))
    )
    assert len(slack.channel_messages(channel)) == 30


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault.HTTP_500, 500, None),
        (Fault.HTTP_503, 503, None),
        (Fault.FATAL_ERROR, 200, "fatal_error"),
        (Fault.RATELIMITED, 429, "ratelimited"),
    ],
)
async def test_failures_do_nothing(
    slack: SlackEmulator, fault: Fault, status: int, error: str | None
) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token)
    slack.faults.fail("chat.postMessage", fault, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            await api("chat_postMessage", channel=channel, text="x")
        assert failed.value.response.status_code == status
        if error:
            assert failed.value.response["error"] == error
    assert slack.channel_messages(channel) == []
    assert (await api("chat_postMessage", channel=channel, text="x"))[
        "ok"
    ]  # the third goes through


async def test_drop_and_accept_then_drop(slack: SlackEmulator) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token, retry_handlers=[])
    slack.faults.fail("chat.postMessage", Fault.DROP)
    with pytest.raises(aiohttp.ClientError):
        await api("chat_postMessage", channel=channel, text="lost")
    assert slack.channel_messages(channel) == []
    slack.faults.fail("chat.postMessage", Fault.ACCEPT_THEN_DROP)
    with pytest.raises(aiohttp.ClientError):
        await api("chat_postMessage", channel=channel, text="posted, but nobody was told")
    assert [m.text for m in slack.channel_messages(channel)] == ["posted, but nobody was told"]


async def test_slow_answer_times_the_client_out(slack: SlackEmulator) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token, timeout=1, retry_handlers=[])
    slack.faults.fail("chat.postMessage", Fault.SLOW, delay=1.5)
    with pytest.raises(asyncio.TimeoutError):
        await api("chat_postMessage", channel=channel, text="late")
    # Slack did the work; only the answer was late (the outcome-unknown case).
    assert [m.text for m in slack.channel_messages(channel)] == ["late"]


async def test_hold_the_nth_call(slack: SlackEmulator) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token)
    hold = slack.faults.hold("chat.postMessage", nth=2)
    await api("chat_postMessage", channel=channel, text="1")
    second = asyncio.create_task(api("chat_postMessage", channel=channel, text="2"))
    await asyncio.wait_for(hold.arrived.wait(), 2)
    assert [m.text for m in slack.channel_messages(channel)] == ["1"] and not second.done()
    hold.release()
    assert (await second)["ok"]
    assert [m.text for m in slack.channel_messages(channel)] == ["1", "2"]


async def test_random_faults_are_seeded(slack: SlackEmulator) -> None:
    ws, channel = setup(slack)
    api = Api("async", slack.api_url, ws.bot_token)

    async def run(seed: int) -> list[bool]:
        slack.faults.clear()
        slack.faults.randomly(
            Fault.FATAL_ERROR, fraction=0.3, seed=seed, methods={"chat.postMessage"}
        )
        outcomes = []
        for _ in range(40):
            try:
                await api("chat_postMessage", channel=channel, text="x")
                outcomes.append(True)
            except SlackApiError:
                outcomes.append(False)
        return outcomes

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again and first != other
    assert 4 <= first.count(False) <= 20
