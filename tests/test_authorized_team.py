"""Lookups are scoped by the workspace Slack authorized a request for, never by the team a
payload names: in a Slack Connect channel a person's payload names their own workspace."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.listeners.middleware import authorized_team, bind_log_context


async def test_the_authorized_workspace_wins_over_the_payloads() -> None:
    payload = {"type": "block_actions", "team": {"id": "T0THEIRS"}, "user": {"id": "U1"}}
    request = AsyncBoltRequest(body="", mode="socket_mode")
    request.body = payload
    context = AsyncBoltContext({"team_id": "T0OURS"})
    seen: dict[str, Any] = {}

    async def listener() -> BoltResponse:
        seen["team"] = authorized_team(request.body)
        return BoltResponse(status=200)

    await bind_log_context(context, request, listener)
    assert seen["team"] == "T0OURS"
    assert authorized_team({"team_id": "T0CMD"}) == "T0CMD"  # not through the middleware
