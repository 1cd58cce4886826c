"""Single-token mode: learn who the SLACK_BOT_TOKEN belongs to and store it as an install.

Run at start-up; a network failure there is not fatal (Slack may be briefly unreachable), so
the installation store also calls `ensure()` when a lookup misses. A token Slack rejects is.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

REJECTED_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}


class TokenRejected(RuntimeError):
    """Slack answered that SLACK_BOT_TOKEN is not valid."""


class SingleTokenSeeder:
    def __init__(self, *, client: AsyncWebClient, token: str) -> None:
        self._client = client
        self._token = token
        self._lock = asyncio.Lock()
        self.bot: Bot | None = None

    def forget(self) -> None:
        """Drop what Slack said (after an uninstall or a revocation)."""
        self.bot = None

    async def ensure(self) -> Bot | None:
        """The Bot for the env token, asking Slack once (None while Slack is unreachable)."""
        if self.bot is not None:
            return self.bot
        async with self._lock:
            if self.bot is not None:
                return self.bot
            try:
                response = await self._client.auth_test(token=self._token)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if error in REJECTED_TOKEN_ERRORS:
                    raise TokenRejected(
                        f"SLACK_BOT_TOKEN was rejected by Slack ({error}): copy the Bot User "
                        "OAuth Token from the app's OAuth & Permissions page"
                    ) from None
                log.warning("auth.test failed", extra={"slack_error": error})
                return None
            except (OSError, TimeoutError, aiohttp.ClientError) as exc:
                log.warning(
                    "Slack unreachable for auth.test", extra={"error_type": type(exc).__name__}
                )
                return None
            scopes = response.headers.get("x-oauth-scopes", "") if response.headers else ""
            self.bot = Bot(
                app_id=response.get("app_id"),
                enterprise_id=response.get("enterprise_id"),
                team_id=response.get("team_id"),
                team_name=response.get("team"),
                bot_token=self._token,
                bot_id=str(response.get("bot_id") or ""),
                bot_user_id=str(response.get("user_id") or ""),
                bot_scopes=scopes,
                is_enterprise_install=False,
                installed_at=time.time(),
            )
            return self.bot
