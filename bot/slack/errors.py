"""Web API failures, one table: what each means for a message we tried to send.

- workspace-fatal: the token no longer works there: pause that workspace.
- target-permanent: this channel or person cannot receive it: record and tell a human.
- uncertain: Slack may or may not have done it (timeouts, resets, 5xx, `fatal_error`):
  reconcile through the message metadata key before any re-send.
- rate-limited: 429: wait `Retry-After` for that workspace; not a failed attempt.
- broken: anything else (`invalid_blocks`...): our bug; record it and stop retrying.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from slack_sdk.errors import SlackApiError


class Failure(StrEnum):
    WORKSPACE_FATAL = "workspace_fatal"
    TARGET_PERMANENT = "target_permanent"
    UNCERTAIN = "uncertain"
    RATE_LIMITED = "rate_limited"
    BROKEN = "broken"


WORKSPACE_FATAL = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
        "two_factor_setup_required",
        "team_not_found",
        "app_uninstalled",
    }
)
TARGET_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "thread_not_found",
    }
)
UNCERTAIN = frozenset({"fatal_error", "internal_error", "request_timeout", "service_unavailable"})

# Plain words for the notices people get when a delivery fails for good.
EXPLAINED = {
    "channel_not_found": "the channel is gone or private without me in it",
    "not_in_channel": "I am not a member of the channel: invite me with /invite",
    "is_archived": "the channel is archived",
    "user_not_found": "the person is no longer in this workspace",
    "user_disabled": "the person's account is deactivated",
    "cannot_dm_bot": "that user is a bot",
    "messages_tab_disabled": "direct messages to the bot are turned off",
}


@dataclass(frozen=True)
class Classified:
    failure: Failure
    error: str
    retry_after: float = 0.0

    @property
    def explanation(self) -> str:
        return EXPLAINED.get(self.error, self.error.replace("_", " "))


def classify(exc: BaseException) -> Classified:
    """What a failed Web API call means (see the module docstring)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        data = getattr(response, "data", None)  # text, not a dict, when a 5xx has no JSON body
        body = data if isinstance(data, dict) else {}
        error = str(body.get("error") or f"http_{status}") if response is not None else "unknown"
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", {}) or {}
            raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
            try:
                retry_after = max(0.0, float(raw))
            except (TypeError, ValueError):
                retry_after = 1.0
            return Classified(Failure.RATE_LIMITED, "ratelimited", retry_after)
        if status >= 500 or error in UNCERTAIN:
            return Classified(Failure.UNCERTAIN, error)
        if error in WORKSPACE_FATAL:
            return Classified(Failure.WORKSPACE_FATAL, error)
        if error in TARGET_PERMANENT:
            return Classified(Failure.TARGET_PERMANENT, error)
        return Classified(Failure.BROKEN, error)
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return Classified(Failure.UNCERTAIN, "timeout")
    if isinstance(exc, aiohttp.ClientError | ConnectionError | OSError):
        return Classified(Failure.UNCERTAIN, type(exc).__name__)
    return Classified(Failure.BROKEN, type(exc).__name__)
