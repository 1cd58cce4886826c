"""The DM sweep: once before each round's digest, read each owner's DM with the bot since that
week's check-in DM, and put any reply the inbox lacks through the intake.

The inbox is written before Slack is answered, and the spool keeps what the database could not
take; the sweep is the last net, for an event Slack gave up on. A bot token may read its own
DMs (`conversations.history` on the IM), not channel threads, so threads rely on the spool.
Each DM is swept once (the DM's outbox row notes it), a few DMs a tick per workspace to stay
under the method's limits; a DM that could not be read is logged with why.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import readers_for
from bot.models import InboxEvent, OutboxItem, Person, Prompt
from bot.models.outbox_keys import Kind
from bot.services import inbox
from bot.slack.clients import WorkspaceClients

log = logging.getLogger(__name__)
SWEEP_BEFORE_DIGEST = timedelta(minutes=30)  # the sweep's window closes at the digest time D
SWEEPS_PER_TICK = 20  # per workspace: conversations.history allows about 50 a minute
HISTORY_PAGE = 100


async def due_sweeps(session: AsyncSession, *, now: datetime) -> list[tuple[OutboxItem, Prompt]]:
    """Sent check-in DMs whose digest is near (or just past, the clock having been down) and
    that were not swept yet."""
    rows = await session.execute(
        select(OutboxItem, Prompt)
        .join(Prompt, Prompt.outbox_id == OutboxItem.id)
        .where(
            OutboxItem.kind == Kind.DM,
            OutboxItem.state == "sent",
            OutboxItem.next_attempt_at >= now - timedelta(days=10),  # this week's and last
        )
        .order_by(OutboxItem.workspace_id, OutboxItem.id)
    )
    due: list[tuple[OutboxItem, Prompt]] = []
    per_workspace: dict[int, int] = {}
    for item, prompt in rows.all():
        payload = item.payload or {}
        if payload.get("swept_at") or "deadline" not in payload:
            continue
        deadline = datetime.fromisoformat(str(payload["deadline"]))
        if not deadline - SWEEP_BEFORE_DIGEST <= now < deadline + timedelta(days=1):
            continue
        if per_workspace.get(item.workspace_id, 0) >= SWEEPS_PER_TICK:
            continue
        per_workspace[item.workspace_id] = per_workspace.get(item.workspace_id, 0) + 1
        due.append((item, prompt))
    return due


async def sweep_dms(
    sessions: async_sessionmaker[AsyncSession], clients: WorkspaceClients, *, now: datetime
) -> list[int]:
    """Sweep the DMs that are due; returns the inbox rows of replies it lacked until now."""
    async with readers_for(sessions)() as session:
        due = await due_sweeps(session, now=now)
        people = {
            p.id: p.slack_user_id
            for p in (
                await session.execute(
                    select(Person).where(Person.id.in_({pr.person_id for _, pr in due}))
                )
            ).scalars()
        }
    found: list[int] = []
    for item, prompt in due:
        user = people.get(prompt.person_id or 0)
        client = await clients.get(item.workspace_id)
        if user is None or client is None:
            continue
        try:
            messages = await _replies(client, channel=prompt.channel_id, since=prompt.message_ts)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error == "ratelimited":
                break  # the next tick goes on
            log.warning("DM not swept", extra={"person_id": prompt.person_id, "slack_error": error})
            await _mark(sessions, item.id, now=now, unchecked=error)
            continue
        found += await _keep_missing(sessions, item.workspace_id, prompt.channel_id, user, messages)
        await _mark(sessions, item.id, now=now, unchecked=None)
    if found:
        log.warning("DM sweep found replies the inbox lacked", extra={"count": len(found)})
    return found


async def _replies(client: Any, *, channel: str, since: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await client.conversations_history(
            channel=channel, oldest=since, inclusive=False, limit=HISTORY_PAGE, cursor=cursor
        )
        messages += list(answer.get("messages") or [])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor or len(messages) >= 1000:
            return messages


async def _keep_missing(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    channel: str,
    user: str,
    messages: list[dict[str, Any]],
) -> list[int]:
    """Store, as the inbox middleware would have, the person's messages the inbox lacks;
    returns their inbox rows."""
    theirs = [m for m in messages if m.get("user") == user and not m.get("bot_id") and m.get("ts")]
    if not theirs:
        return []
    async with sessions.begin() as session:
        known = set(
            (
                await session.execute(
                    select(InboxEvent.message_ts).where(
                        InboxEvent.workspace_id == workspace_id,
                        InboxEvent.channel_id == channel,
                        InboxEvent.message_ts.in_([str(m["ts"]) for m in theirs]),
                    )
                )
            ).scalars()
        )
        added: list[int] = []
        for message in sorted(theirs, key=lambda m: float(m["ts"])):
            if str(message["ts"]) in known:
                continue
            event = {
                "type": "message",
                "channel": channel,
                "channel_type": "im",
                "user": user,
                "text": str(message.get("text") or ""),
                "ts": str(message["ts"]),
                "event_ts": str(message["ts"]),
            }
            key = inbox.inbox_key(event, bot_user_id=None)
            if key is None:
                continue
            await inbox.store(
                session,
                workspace_id=workspace_id,
                event_id=None,
                key=key,
                payload={"event": event, "event_id": None, "swept": True},
            )
            row = await inbox.find(session, workspace_id=workspace_id, key=key)
            if row is not None:
                added.append(row.id)
    return added


async def _mark(
    sessions: async_sessionmaker[AsyncSession],
    item_id: int,
    *,
    now: datetime,
    unchecked: str | None,
) -> None:
    async with sessions.begin() as session:
        item = await session.get(OutboxItem, item_id)
        if item is not None:
            item.payload = {
                **(item.payload or {}),
                "swept_at": now.isoformat(),
                **({"sweep_unchecked": unchecked} if unchecked else {}),
            }
