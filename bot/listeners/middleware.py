"""Global middleware: runs for every request after authorization, before any listener.

It binds the workspace and a request id to every log line the request writes, and notes in
the request body which workspace Slack authorized it for (`authorized_team`): every lookup is
scoped by that one, never by the team a payload names (in a Slack Connect channel a person's
payload names their own workspace). This is also where the inbox stores qualifying events
before they are acknowledged.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import logs

AUTHORIZED_TEAM = "_okr_authorized_team"


def authorized_team(body: dict[str, Any]) -> str:
    """The Slack workspace a request was authorized for (the payload's team only for a request
    that did not go through this middleware, as in a test calling a listener directly)."""
    found = body.get(AUTHORIZED_TEAM) or (body.get("team") or {}).get("id") or body.get("team_id")
    return str(found or "")


async def bind_log_context(
    context: AsyncBoltContext,
    req: AsyncBoltRequest,
    next: Callable[[], Awaitable[BoltResponse]],
) -> BoltResponse:
    if context.team_id and isinstance(req.body, dict):
        req.body[AUTHORIZED_TEAM] = context.team_id
    request_id = uuid.uuid4().hex[:12]
    context["request_id"] = request_id
    with logs.bound(workspace_id=context.team_id or context.enterprise_id, request_id=request_id):
        return await next()
