"""Global middleware: runs for every request after authorization, before any listener.

It binds the workspace and a request id to every log line the request writes. This is
also where the inbox stores qualifying events before they are acknowledged.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import logs


async def bind_log_context(
    context: AsyncBoltContext,
    req: AsyncBoltRequest,
    next: Callable[[], Awaitable[BoltResponse]],
) -> BoltResponse:
    request_id = uuid.uuid4().hex[:12]
    context["request_id"] = request_id
    with logs.bound(workspace_id=context.team_id or context.enterprise_id, request_id=request_id):
        return await next()
