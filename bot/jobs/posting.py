"""Slack calls the outbox needs besides posting: finding an already posted message by its
metadata key, and deleting duplicates. Its clients come from `bot.slack.clients`."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.checkin import METADATA_EVENT, metadata_lines

HISTORY_PAGES = 3


async def _ours(client: AsyncWebClient, channel: str, key: str) -> list[dict[str, object]]:
    """Our messages in `channel` carrying `key`, oldest first (newest pages only)."""
    found: list[dict[str, object]] = []
    cursor = None
    for _ in range(HISTORY_PAGES):
        response = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=100, cursor=cursor
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                found.append(message)
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return sorted(found, key=lambda m: float(str(m.get("ts"))))


async def find_posted(
    client: AsyncWebClient, channel: str, key: str
) -> tuple[str, str, list[tuple[int, str]], list[str]] | None:
    """The message already posted for `key`: (channel, ts, its lines, later duplicates)."""
    found = await _ours(client, channel, key)
    if not found:
        return None
    first = found[0]
    metadata = first.get("metadata")
    lines = metadata_lines(metadata) if isinstance(metadata, dict) else []
    return channel, str(first["ts"]), lines, [str(m["ts"]) for m in found[1:]]


async def remove_duplicates(client: AsyncWebClient, channel: str, key: str, *, keep: str) -> int:
    deleted = 0
    for message in await _ours(client, channel, key):
        if str(message["ts"]) != keep:
            await client.chat_delete(channel=channel, ts=str(message["ts"]))
            deleted += 1
    return deleted
