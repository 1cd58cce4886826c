"""Web API clients: the one factory. Every client gets `SLACK_API_URL` and a bounded timeout;
what differs is who may retry.

- `web_client(settings)` (Bolt's client, command and modal calls) retries only on rate limits
  (429 with `Retry-After`): Slack did not act on a rate-limited call, so retrying it is safe.
- `web_client(settings, token=..., retries=False, timeout=...)` retries nothing. The
  outbox's clients (`WorkspaceClients`) are built so: a connection error or timeout after
  Slack accepted a post would make any retry a duplicate, so every failure goes back to the
  outbox, which reconciles by the message's metadata key before sending again (and honours
  `Retry-After` itself, per workspace and method).
"""

from __future__ import annotations

from typing import cast

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import Workspace
from bot.slack.installation_store import DatabaseInstallationStore

RATE_LIMIT_RETRIES = 2


def retry_handlers() -> list[AsyncRetryHandler]:
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]


class SharedHttp:
    """One HTTP session (one connection pool) per timeout for the clock's Web API calls, so a
    post reuses a kept-alive connection instead of opening one (a new TCP connection was a
    good part of the sender's CPU per message). aiohttp never retries a POST on a reused
    connection that turned out closed, so this adds no duplicate. slack_sdk applies its own
    timeout only to sessions it makes, so each session carries its clients' timeout. Made on
    first use, on the running loop; whoever runs the loop closes it (`close`)."""

    def __init__(self) -> None:
        self._sessions: dict[float, aiohttp.ClientSession] = {}

    def session(self, *, timeout_seconds: float) -> aiohttp.ClientSession:
        found = self._sessions.get(timeout_seconds)
        if found is None or found.closed:
            found = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds))
            self._sessions[timeout_seconds] = found
        return found

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if not session.closed:
                await session.close()


def web_client(
    settings: Settings,
    *,
    token: str | None = None,
    retries: bool = True,
    timeout: float | None = None,
    http: SharedHttp | None = None,
) -> AsyncWebClient:
    """A client for one workspace's token (or none: Bolt fills it in per request).

    `retries=False` for anything whose repeat could be a duplicate (the outbox's sends);
    `timeout` (seconds) may only shorten the configured Slack HTTP timeout."""
    seconds = settings.slack_http_timeout_seconds
    if timeout is not None:
        seconds = min(seconds, timeout)
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=cast(int, seconds),
        retry_handlers=retry_handlers() if retries else [],
        session=http.session(timeout_seconds=seconds) if http is not None else None,
    )


class WorkspaceClients:
    """One Web API client per workspace, from the installation store, for the clock and the
    outbox. No automatic retries (see the module's note): a retried post could be a
    duplicate, so every failure goes back to the outbox, which knows what to do."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: DatabaseInstallationStore,
        readers: async_sessionmaker[AsyncSession],
        http: SharedHttp | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
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
        if bot is None and found[1]:  # Enterprise Grid: the org-wide install serves it
            bot = await self._store.async_find_bot(
                enterprise_id=found[1], team_id=found[0], is_enterprise_install=True
            )
        if bot is None or not bot.bot_token:
            return None
        client = web_client(
            self._settings,
            token=bot.bot_token,
            retries=False,
            # A call always ends (or times out, outcome unknown) well inside a claim's lease, so
            # no other sender can take the row over while a post is under way.
            timeout=self._settings.outbox_lease_seconds / 3,
            http=self._http,
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
