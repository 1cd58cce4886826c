"""The inbox: qualifying Slack events are stored before they are acknowledged, then
processed from the table, idempotently (twice changes nothing).

Qualifying: messages in a DM with the bot, replies in the thread of a known prompt, and
edits and deletes of those. One message is one row whether Slack delivers it as `message`,
as `app_mention`, or again as a retry (unique on event id and on the message key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import InboxEvent, Prompt, Team, Workspace
from bot.repository.upsert import insert_ignoring_conflicts

log = logging.getLogger(__name__)

IGNORED_SUBTYPES = {
    "bot_message", "channel_join", "channel_leave", "channel_topic", "channel_purpose",
    "channel_name", "channel_archive", "pinned_item", "unpinned_item", "ekm_access_denied",
}  # fmt: skip


@dataclass(frozen=True)
class InboxKey:
    channel: str
    message_ts: str
    action: str  # post | edit | delete
    edited_ts: str
    user: str | None
    thread_ts: str | None
    is_dm: bool
    text: str


def inbox_key(event: dict[str, Any], *, bot_user_id: str | None) -> InboxKey | None:
    """The message an event is about, or None when no person's message is in it."""
    kind = event.get("type")
    if kind not in ("message", "app_mention"):
        return None
    subtype = event.get("subtype")
    channel = str(event.get("channel") or "")
    is_dm = event.get("channel_type") == "im" or channel.startswith("D")
    if subtype == "message_changed":
        message = event.get("message") or {}
        if message.get("bot_id") or message.get("subtype") in IGNORED_SUBTYPES:
            return None
        if not message.get("edited"):
            return None  # not a person's edit: an unfurl, a reply count, a reaction...
        edited = str((message.get("edited") or {}).get("ts") or event.get("event_ts") or "")
        return InboxKey(
            channel, str(message.get("ts") or ""), "edit", edited, message.get("user"),
            message.get("thread_ts"), is_dm, str(message.get("text") or ""),
        )  # fmt: skip
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        if previous.get("bot_id"):
            return None
        return InboxKey(
            channel, str(event.get("deleted_ts") or ""), "delete", "", previous.get("user"),
            previous.get("thread_ts"), is_dm, "",
        )  # fmt: skip
    if subtype in IGNORED_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    if bot_user_id and event.get("user") == bot_user_id:
        return None
    return InboxKey(
        channel, str(event.get("ts") or ""), "post", "", event.get("user"),
        event.get("thread_ts"), is_dm, str(event.get("text") or ""),
    )  # fmt: skip


async def qualifies(session: AsyncSession, *, workspace_id: int, key: InboxKey) -> bool:
    if key.is_dm:
        return True
    if not key.thread_ts or key.thread_ts == key.message_ts:
        return False
    found = await session.execute(
        select(Prompt.id).where(
            Prompt.workspace_id == workspace_id,
            Prompt.channel_id == key.channel,
            Prompt.message_ts == key.thread_ts,
        )
    )
    if found.first() is not None:
        return True
    # A team channel's thread may answer a prompt posted but not recorded yet (its record is
    # a moment behind, or reconciliation will find it): kept, matched when it is processed.
    team = await session.execute(
        select(Team.id).where(Team.workspace_id == workspace_id, Team.channel_id == key.channel)
    )
    return team.first() is not None


async def workspace_id_of(session: AsyncSession, slack_team_id: str) -> int | None:
    return (
        await session.execute(select(Workspace.id).where(Workspace.slack_team_id == slack_team_id))
    ).scalar_one_or_none()


async def store(
    session: AsyncSession,
    *,
    workspace_id: int,
    event_id: str | None,
    key: InboxKey,
    payload: dict[str, Any],
) -> None:
    """Insert the event unless it (or the same message by another event type) is there."""
    await session.execute(
        insert_ignoring_conflicts(
            session,
            InboxEvent,
            {
                "workspace_id": workspace_id,
                "event_id": event_id,
                "channel_id": key.channel,
                "message_ts": key.message_ts,
                "action": key.action,
                "edited_ts": key.edited_ts,
                "slack_user_id": key.user,
                "payload": payload,
            },
        )
    )


async def unprocessed(
    session: AsyncSession, *, now: datetime, older_than_seconds: float, limit: int = 100
) -> list[int]:
    cutoff = now - timedelta(seconds=older_than_seconds)
    return list(
        (
            await session.execute(
                select(InboxEvent.id)
                .where(InboxEvent.processed_at.is_(None), InboxEvent.received_at <= cutoff)
                .order_by(InboxEvent.received_at)
                .limit(limit)
            )
        ).scalars()
    )


async def find(session: AsyncSession, *, workspace_id: int, key: InboxKey) -> InboxEvent | None:
    return (
        await session.execute(
            select(InboxEvent).where(
                InboxEvent.workspace_id == workspace_id,
                InboxEvent.channel_id == key.channel,
                InboxEvent.message_ts == key.message_ts,
                InboxEvent.action == key.action,
                InboxEvent.edited_ts == key.edited_ts,
            )
        )
    ).scalar_one_or_none()


INBOX_DAYS = 30


async def prune(session: AsyncSession, *, now: datetime, days: int = INBOX_DAYS) -> int:
    """Forget events received more than `days` ago (their check-ins stay); returns how many."""
    cutoff = now - timedelta(days=days)
    gone = await session.execute(
        delete(InboxEvent).where(InboxEvent.received_at < cutoff).returning(InboxEvent.id)
    )
    count = len(gone.all())
    if count:
        log.info("inbox pruned", extra={"rows": count})
    return count


async def keep(
    sessions: async_sessionmaker[AsyncSession],
    *,
    slack_team_id: str,
    key: InboxKey,
    event_id: str | None,
    payload: dict[str, Any],
) -> int | None:
    """Store a qualifying event before it is acknowledged; its row id, or None when the event
    is not one the bot keeps. Raises when it cannot be stored (Slack must deliver it again)."""
    async with sessions.begin() as session:
        workspace_id = await workspace_id_of(session, slack_team_id)
        if workspace_id is None or not await qualifies(session, workspace_id=workspace_id, key=key):
            return None
        await store(session, workspace_id=workspace_id, event_id=event_id, key=key, payload=payload)
        row = await find(session, workspace_id=workspace_id, key=key)
        return row.id if row is not None else None


async def keep_spooled(sessions: async_sessionmaker[AsyncSession], record: dict[str, Any]) -> None:
    """Store an event the spool kept while the database was away (as the middleware would
    have); raises while the database is still away, so the spool keeps it."""
    event = record.get("event") or {}
    bot_user_id = next(
        (a.get("user_id") for a in record.get("authorizations") or [] if a.get("is_bot")), None
    )
    key = inbox_key(event, bot_user_id=bot_user_id)
    if key is None or not record.get("team_id"):
        return
    await keep(
        sessions,
        slack_team_id=str(record["team_id"]),
        key=key,
        event_id=record.get("event_id"),
        payload={"event": event, "event_id": record.get("event_id")},
    )
