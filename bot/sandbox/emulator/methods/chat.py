"""chat.postMessage, .update, .delete, .postEphemeral, .getPermalink; reactions.add/remove."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.emulator.blockkit import validate_message
from bot.sandbox.emulator.images import check_images
from bot.sandbox.emulator.methods.conversations import visible_channel
from bot.sandbox.emulator.methods.registry import Call, as_bool, method
from bot.sandbox.emulator.state import ApiError, Channel, Ephemeral, Message


def target_channel(call: Call) -> Channel:
    """Where a post goes: a channel id, or a user id meaning the bot's DM with that person."""
    raw = str(call.arg("channel"))
    if raw[:1] in ("U", "W") and raw in call.state.users:
        user = call.state.user(raw, team_id=call.ws.id)
        if user.deleted:
            raise ApiError("user_disabled")
        return call.state.im_with(call.ws, user)
    channel = visible_channel(call, raw)
    if channel.is_archived:
        raise ApiError("is_archived")
    assert call.token is not None
    if call.token.user_id not in channel.members:
        raise ApiError("not_in_channel")
    if channel.is_im and channel.im_user and call.state.users[channel.im_user].deleted:
        raise ApiError("user_disabled")
    return channel


def _metadata(raw: Any) -> dict[str, Any] | None:
    if raw in (None, ""):
        return None
    metadata = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(metadata, dict) or "event_type" not in metadata:
        raise ApiError("invalid_metadata_format")
    return metadata


def _own(call: Call, message: Message, error: str) -> None:
    if message.bot_id != call.ws.bot_id:
        raise ApiError(error)


@method("chat.postMessage", tier=None, scopes=("chat:write",))
async def chat_post_message(call: Call) -> dict[str, Any]:
    channel = target_channel(call)
    text, blocks = validate_message(call.args)
    check_images(call.state, call.ws.id, blocks)
    thread_ts = call.args.get("thread_ts") or None
    parent = None
    if thread_ts is not None:
        parent = call.state.message(channel.id, str(thread_ts))
        thread_ts = parent.thread_ts or parent.ts
    message = Message(
        channel=channel.id,
        ts=call.state.new_ts(),
        text=text,
        bot_id=call.ws.bot_id,
        user=call.ws.bot_user_id,
        blocks=blocks,
        thread_ts=thread_ts,
        metadata=_metadata(call.args.get("metadata")),
        subtype="thread_broadcast"
        if thread_ts and as_bool(call.args.get("reply_broadcast"))
        else None,
    )
    call.state.messages.setdefault(channel.id, []).append(message)
    if parent is not None:
        root = call.state.message(channel.id, str(thread_ts))
        root.reply_count += 1
        root.reply_users.add(call.ws.bot_user_id)
        root.latest_reply = message.ts
    return {"channel": channel.id, "ts": message.ts, "message": message.to_api()}


@method("chat.update", tier=3, scopes=("chat:write",))
async def chat_update(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    message = call.state.message(channel.id, call.arg("ts"))
    _own(call, message, "cant_update_message")
    if channel.is_archived:
        raise ApiError("is_archived")
    merged = {"text": call.args.get("text", message.text), "blocks": call.args.get("blocks")}
    if merged["blocks"] is None:
        merged["blocks"] = message.blocks
    text, blocks = validate_message(merged)
    if call.args.get("blocks") is not None:  # images already shown are not checked again
        check_images(call.state, call.ws.id, blocks)
    message.text, message.blocks = text, blocks
    if "metadata" in call.args:
        message.metadata = _metadata(call.args["metadata"])
    message.edited_ts = call.state.new_ts()
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_api(),
    }


@method("chat.delete", tier=3, scopes=("chat:write",))
async def chat_delete(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    message = call.state.message(channel.id, call.arg("ts"))
    _own(call, message, "cant_delete_message")
    message.deleted = True
    return {"channel": channel.id, "ts": message.ts}


@method("chat.postEphemeral", tier=4, scopes=("chat:write",))
async def chat_post_ephemeral(call: Call) -> dict[str, Any]:
    channel = target_channel(call)
    user = call.state.user(call.arg("user"), team_id=call.ws.id)
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks = validate_message(call.args)
    check_images(call.state, call.ws.id, blocks)
    ts = call.state.new_ts()
    message = Message(channel=channel.id, ts=ts, text=text, blocks=blocks, bot_id=call.ws.bot_id)
    call.state.ephemerals.append(Ephemeral(channel.id, user.id, message, "chat.postEphemeral"))
    return {"message_ts": ts}


@method("chat.getPermalink", tier=None)
async def chat_get_permalink(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    ts = str(call.arg("message_ts"))
    call.state.message(channel.id, ts)
    link = f"https://{call.ws.domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
    return {"channel": channel.id, "permalink": link}


@method("reactions.add", tier=3, scopes=("reactions:write",))
async def reactions_add(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    message = call.state.message(channel.id, call.arg("timestamp"))
    name = str(call.arg("name")).strip(":")
    if not name or " " in name:
        raise ApiError("invalid_name")
    assert call.token is not None
    users = message.reactions.setdefault(name, [])
    if call.token.user_id in users:
        raise ApiError("already_reacted")
    users.append(call.token.user_id)
    return {}


@method("reactions.remove", tier=2, scopes=("reactions:write",))
async def reactions_remove(call: Call) -> dict[str, Any]:
    channel = visible_channel(call, call.arg("channel"))
    message = call.state.message(channel.id, call.arg("timestamp"))
    name = str(call.arg("name")).strip(":")
    assert call.token is not None
    users = message.reactions.get(name, [])
    if call.token.user_id not in users:
        raise ApiError("no_reaction")
    users.remove(call.token.user_id)
    if not users:
        del message.reactions[name]
    return {}
