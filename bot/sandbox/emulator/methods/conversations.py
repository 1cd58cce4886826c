"""conversations.open, .info, .members, .join, .history, .replies."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.methods.registry import Call, as_bool, as_int, method
from bot.sandbox.emulator.state import ApiError, Channel, Message

READ_SCOPES = ("channels:read", "groups:read", "im:read", "mpim:read")
HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history")


def visible_channel(call: Call, channel_id: Any) -> Channel:
    """A channel the token can see: a private one only when it is a member."""
    channel = call.state.channel(channel_id, team_id=call.ws.id)
    assert call.token is not None
    if (channel.is_private or channel.is_im) and call.token.user_id not in channel.members:
        raise ApiError("channel_not_found")
    return channel


def member_channel(call: Call, channel_id: Any) -> Channel:
    channel = visible_channel(call, channel_id)
    assert call.token is not None
    if call.token.user_id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


# Reading a conversation's messages needs the scope of its kind, as Slack checks it: a bot
# with channels:history alone cannot read a private channel's threads.
HISTORY_SCOPE_OF = {"channel": "channels:history", "group": "groups:history", "im": "im:history"}


def readable_channel(call: Call, channel_id: Any) -> Channel:
    channel = member_channel(call, channel_id)
    assert call.token is not None
    needed = HISTORY_SCOPE_OF[channel.channel_type]
    if needed not in call.token.scopes:
        raise ApiError("missing_scope", needed=needed, provided=",".join(call.token.scopes))
    return channel


def _page(items: list[Any], call: Call, default: int = 100) -> tuple[list[Any], str]:
    limit = max(1, min(as_int(call.args.get("limit"), default), 1000))
    if call.method in ("conversations.history", "conversations.replies"):
        cap = call.emulator.limits.history_page_limit()
        limit = min(limit, cap) if cap else limit
    start = as_int(call.args.get("cursor") or 0, 0)
    cursor = str(start + limit) if start + limit < len(items) else ""
    return items[start : start + limit], cursor


@method("conversations.open", tier=3, scopes=("im:write",))
async def conversations_open(call: Call) -> dict[str, Any]:
    users = [u for u in str(call.arg("users")).split(",") if u]
    if len(users) != 1:
        raise ApiError("not_enough_users" if not users else "too_many_users")
    user = call.state.user(users[0], team_id=call.ws.id)
    if user.deleted:
        raise ApiError("user_disabled")
    channel = call.state.im_with(call.ws, user)
    return {"channel": {"id": channel.id}, "no_op": True, "already_open": True}


@method("conversations.info", tier=3, scopes=READ_SCOPES)
async def conversations_info(call: Call) -> dict[str, Any]:
    return {"channel": visible_channel(call, call.arg("channel")).to_api()}


@method("conversations.members", tier=4, scopes=READ_SCOPES)
async def conversations_members(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    page, cursor = _page(sorted(channel.members), call)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@method("conversations.join", tier=3, scopes=("channels:join",))
async def conversations_join(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    assert call.token is not None
    already = call.token.user_id in channel.members
    channel.members.add(call.token.user_id)
    body: dict[str, Any] = {"channel": channel.to_api()}
    if already:
        body["warning"] = "already_in_channel"
    return body


def _timestamp(raw: Any, default: float) -> float:
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ApiError("invalid_ts_oldest") from None


def _listing(messages: list[Message], call: Call) -> list[dict[str, Any]]:
    metadata = as_bool(call.args.get("include_all_metadata"))
    return [m.to_api(include_metadata=metadata) for m in messages]


@method("conversations.history", tier=3, scopes=HISTORY_SCOPES)
async def conversations_history(call: Call) -> dict[str, Any]:
    channel = readable_channel(call, call.arg("channel"))
    oldest = _timestamp(call.args.get("oldest"), 0.0)
    latest = _timestamp(call.args.get("latest"), float("inf"))
    inclusive = as_bool(call.args.get("inclusive"))

    def within(ts: float) -> bool:
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    top = [
        m
        for m in call.state.messages.get(channel.id, [])
        if not m.deleted
        and (m.thread_ts in (None, m.ts) or m.subtype == "thread_broadcast")
        and within(float(m.ts))
    ]
    page, cursor = _page(list(reversed(top)), call)
    return {
        "messages": _listing(page, call),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.replies", tier=3, scopes=HISTORY_SCOPES)
async def conversations_replies(call: Call) -> dict[str, Any]:
    channel = readable_channel(call, call.arg("channel"))
    ts = str(call.arg("ts"))
    parent = next((m for m in call.state.messages.get(channel.id, []) if m.ts == ts), None)
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    root = parent.thread_ts or parent.ts
    thread = [
        m
        for m in call.state.messages.get(channel.id, [])
        if not m.deleted and (m.ts == root or m.thread_ts == root)
    ]
    page, cursor = _page(thread, call, default=1000)
    return {
        "messages": _listing(page, call),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }
