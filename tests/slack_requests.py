"""Build what Slack sends: signed slash commands, interactivity payloads and events."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret-1234"


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def slash_command(
    text: str,
    *,
    team_id: str,
    response_url: str,
    user_id: str = "U1",
    channel_id: str = "C1",
) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "team_domain": "acme",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "pat",
            "command": "/okr",
            "text": text,
            "api_app_id": "AOKR",
            "response_url": response_url,
            "trigger_id": "1.2.abc",
        }
    )


def event(event_body: dict[str, Any], *, team_id: str, event_id: str = "Ev1") -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": "AOKR",
            "event": event_body,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": team_id, "user_id": "UBOT", "is_bot": True}
            ],
        }
    )


def interactive(payload: dict[str, Any]) -> str:
    return "payload=" + quote(json.dumps(payload))
