"""Slack calls the outbox needs besides posting: a client per workspace from the
installation store, finding an already posted message by its metadata key, and deleting
duplicates."""

from __future__ import annotations

from typing import cast

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.checkin import METADATA_EVENT, metadata_lines
from bot.config import Settings
from bot.models import Workspace
from bot.slack.installation_store import DatabaseInstallationStore

HISTORY_PAGES = 3


class WorkspaceClients:
    """One Web API client per workspace, with no automatic retries: a retried post could be
    a duplicate, so every failure goes back to the outbox, which knows what to do."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: DatabaseInstallationStore,
        readers: async_sessionmaker[AsyncSession],
    ) -> None:
        self._settings = settings
        self._store = store
        self._readers = readers
        self._clients: dict[int, AsyncWebClient] = {}

    async def get(self, workspace_id: int) -> AsyncWebClient | None:
        client = self._clients.get(workspace_id)
        if client is not None:
            return client
        async with self._readers() as session:
            found = (
                await session.execute(
                    select(Workspace.slack_team_id, Workspace.enterprise_id).where(
                        Workspace.id == workspace_id
                    )
                )
            ).first()
        if found is None:
            return None
        bot = await self._store.async_find_bot(enterprise_id=found[1], team_id=found[0])
        if bot is None or not bot.bot_token:
            return None
        client = AsyncWebClient(
            token=bot.bot_token,
            base_url=self._settings.slack_api_url,
            # A call always ends (or times out, outcome unknown) well inside a claim's lease, so
            # no other sender can take the row over while a post is under way.
            timeout=cast(
                int,
                min(
                    self._settings.slack_http_timeout_seconds,
                    self._settings.outbox_lease_seconds / 3,
                ),
            ),
            retry_handlers=[],
        )
        self._clients[workspace_id] = client
        return client

    def forget(self, workspace_id: int) -> None:
        self._clients.pop(workspace_id, None)

    @staticmethod
    async def open_dm(client: AsyncWebClient, user_id: str) -> str | None:
        """The DM channel with a person: used only to reconcile an uncertain first DM."""
        if not user_id.startswith(("U", "W")):
            return user_id
        response = await client.conversations_open(users=user_id)
        channel = response.get("channel") or {}
        return str(channel.get("id")) if channel.get("id") else None


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
