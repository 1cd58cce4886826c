"""Each way a source can fail, through the pull runner with the network faked at the
transport (httpx MockTransport): the error is recorded, the last good value stays the key
result's value, and the source's secret appears in no error, no log line and no row."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot import clock
from bot.jobs.pulls import PullRunner
from bot.models import KeyResult, MetricSourceState, OutboxItem
from bot.repository.checkins import current_values
from bot.repository.workspaces import ensure_person
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from bot.services import metric_sources
from bot.services.actors import Actor
from bot.slack.tokens import TokenCipher
from bot.sources.fetch import HttpJsonSource
from tests.test_metric_fetch import FAILURES, SECRET

pytestmark = pytest.mark.usefixtures("monday_ten")


@pytest.mark.parametrize(("name", "handler", "says"), FAILURES, ids=[f[0] for f in FAILURES])
async def test_a_failed_pull_keeps_the_last_good_value(
    ceremony_stack: SandboxStack,
    caplog: pytest.LogCaptureFixture,
    name: str,
    handler: Callable[..., httpx.Response],
    says: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    kr_id = world.teams[0].key_result_ids[0]
    cipher = TokenCipher([Fernet.generate_key()])
    async with stack.app.sessions.begin() as session:
        lead = await ensure_person(
            session, workspace_id=world.workspace_id, slack_user_id=world.teams[0].lead.id
        )
        actor = Actor(world.workspace_id, lead.id, lead.slack_user_id, "member", "UTC")
        await metric_sources.set_source(
            session, actor=actor, ref="KR1", url="https://metrics.example/signups",
            path="data.total", header="Authorization", secret=SECRET, cipher=cipher,
        )  # fmt: skip
    answers: list[Callable[..., httpx.Response]] = [
        lambda request: httpx.Response(200, json={"data": {"total": 42}}),
        handler,
    ]

    def network(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == SECRET
        return answers[0](request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(network))
    runner = PullRunner(
        sessions=stack.app.sessions,
        source=HttpJsonSource(client, timeout=2.0, max_bytes=2000),
        cipher=cipher,
    )
    for request_id in ("good", "bad"):
        async with stack.app.sessions.begin() as session:
            await metric_sources.request_refresh(
                session, actor=actor, ref="KR1", request_id=request_id, now=clock.now()
            )
        assert await runner.drain() == 1
        if request_id == "good":
            answers.pop(0)  # the next answer is the failure

    async with stack.app.sessions() as session:
        state = await session.get(MetricSourceState, kr_id)
        kr = await session.get(KeyResult, kr_id)
        value = (await current_values(session, workspace_id=world.workspace_id,
                                      key_result_ids=[kr_id]))[kr_id]  # fmt: skip
        rows = (
            await session.execute(select(OutboxItem).where(OutboxItem.kind == "pull"))
        ).scalars()
        states = {row.idempotency_key.rsplit(":", 1)[1]: (row.state, row.error) for row in rows}
    assert state is not None and kr is not None
    assert state.last_value == 42.0 and value.value == 42.0 and value.source == "pull"
    assert state.last_error is not None and says in state.last_error
    assert states["good"] == ("sent", None)
    assert states["bad"][0] == "failed" and says in str(states["bad"][1])
    assert "s3cr3t" not in f"{state.last_error} {states} {kr.metric_source} {caplog.text}"
    assert "s3cr3t" not in str(state.secret)  # stored encrypted
    await client.aclose()
