"""Web API clients: one base URL (`SLACK_API_URL`), bounded timeouts, and no blind retries.

Only rate-limit retries are automatic: a connection error after Slack accepted a post would
make a retry a duplicate, so those go to the caller (and the outbox's reconciliation).
"""

from __future__ import annotations

from typing import cast

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings


def retry_handlers() -> list[AsyncRetryHandler]:
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=2)]


def web_client(settings: Settings, *, token: str | None = None) -> AsyncWebClient:
    """A client for one workspace's token (or none: Bolt fills it in per request)."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=cast(int, settings.slack_http_timeout_seconds),
        retry_handlers=retry_handlers(),
    )
