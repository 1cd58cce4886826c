"""Global middleware: runs for every request after authorization, before any listener.

It binds the workspace and a request id to every log line the request writes, and notes in
the request body which workspace Slack authorized it for (`authorized_team`): every lookup is
scoped by that one, never by the team a payload names (in a Slack Connect channel a person's
payload names their own workspace). This is also where the inbox stores qualifying events
before they are acknowledged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs
from bot.services import actors

log = logging.getLogger(__name__)
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


def make_enterprise_middleware(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[BoltResponse]]:
    """Notes the Enterprise Grid org of each workspace the first time this process sees it
    (one write per workspace and process, none for workspaces outside an org)."""
    noted: set[tuple[str, str]] = set()

    async def note_enterprise(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        team, org = context.team_id, context.enterprise_id
        if team and org and (team, org) not in noted:
            try:
                await actors.note_enterprise(sessions, slack_team_id=team, enterprise_id=org)
                noted.add((team, org))
            except Exception:  # noqa: BLE001 - noted on the next request instead
                log.warning("could not note the workspace's org", exc_info=True)
        return await next()

    return note_enterprise
