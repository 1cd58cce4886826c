"""What Slack sends an app, as pure builders: slash commands, interactivity payloads and
Events API envelopes (shapes as documented on docs.slack.dev)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from bot.sandbox.emulator.state import Channel, User, Workspace

LEGACY_TOKEN = "verification-token-unused"


def as_typed(text: str) -> str:
    """What Slack sends for text a person typed: `&`, `<` and `>` arrive escaped (mentions
    picked from the menu arrive as `<@U…>`; pass those with `raw=True`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_ref(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def team_ref(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.id, "domain": ws.domain}


def slash_command(
    ws: Workspace,
    user: User,
    channel: Channel,
    *,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> str:
    return urlencode(
        {
            "token": LEGACY_TOKEN,
            "team_id": ws.id,
            "team_domain": ws.domain,
            "channel_id": channel.id,
            "channel_name": channel.name if not channel.is_im else "directmessage",
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": ws.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive(payload: dict[str, Any]) -> str:
    return "payload=" + quote(json.dumps(payload))


def base_interaction(kind: str, ws: Workspace, user: User, trigger_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "team": team_ref(ws),
        "user": user_ref(user),
        "api_app_id": ws.app_id,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_envelope(ws: Workspace, event: dict[str, Any], *, event_id: str, event_time: int) -> str:
    return json.dumps(
        {
            "token": LEGACY_TOKEN,
            "team_id": ws.id,
            "api_app_id": ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": ws.enterprise_id,
                    "team_id": ws.id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{event_id}",
        }
    )


def message_event(
    *,
    user: str,
    channel: Channel,
    text: str,
    ts: str,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel.id,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel.channel_type,
    }
    if subtype:
        event["subtype"] = subtype
    if bot_id:
        event["bot_id"] = bot_id
    if thread_ts:
        event["thread_ts"] = thread_ts
        if parent_user_id:
            event["parent_user_id"] = parent_user_id
    if files:
        event["files"] = files
    if subtype is None and not bot_id:
        event["client_msg_id"] = f"{channel.id}-{ts}"
    return event
