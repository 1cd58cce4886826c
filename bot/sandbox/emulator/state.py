"""What the emulated Slack knows: workspaces, people, channels, messages, views, files."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BOT_SCOPES = (
    "app_mentions:read,channels:history,channels:join,channels:read,chat:write,commands,"
    "files:write,groups:history,groups:read,im:history,im:read,im:write,reactions:write,"
    "team:read,users:read,users:read.email"
).split(",")


class ApiError(Exception):
    """A Web API error answer: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str = ""
    tz: str = "UTC"
    tz_offset: int = 0
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, *, with_email: bool = True) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.name,
            "display_name": self.name,
        }
        if self.email and with_email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None  # the person of a DM with the bot
    members: set[str] = field(default_factory=set)
    is_archived: bool = False

    @property
    def channel_type(self) -> str:
        return "im" if self.is_im else "group" if self.is_private else "channel"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im and not self.is_private,
            "is_group": self.is_private and not self.is_im,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.is_archived,
            "num_members": len(self.members),
        }
        if self.is_im:
            data["user"] = self.im_user
        return data


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    edited_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    subtype: str | None = None
    reply_count: int = 0
    reply_users: set[str] = field(default_factory=set)
    latest_reply: str | None = None

    def to_api(self, *, include_metadata: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.reply_count:  # a thread parent
            data |= {
                "thread_ts": self.ts,
                "reply_count": self.reply_count,
                "reply_users": sorted(self.reply_users),
                "latest_reply": self.latest_reply,
            }
        if self.user:
            data["user"] = self.user
        if self.bot_id:
            data["bot_id"] = self.bot_id
        if self.subtype:
            data["subtype"] = self.subtype
        if self.blocks:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.edited_ts:
            data["edited"] = {"user": self.user or self.bot_id, "ts": self.edited_ts}
        if self.reactions:
            data["reactions"] = [
                {"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()
            ]
        if self.files:
            data["files"] = self.files
        if include_metadata and self.metadata:
            data["metadata"] = self.metadata
        return data


@dataclass
class View:
    id: str
    team_id: str
    user_id: str
    view: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str | None = None
    closed: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            **self.view,
            "id": self.id,
            "team_id": self.team_id,
            "hash": self.hash,
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "external_id": self.external_id or "",
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.view.get("callback_id", ""),
            "state": {"values": {}},
        }


@dataclass
class UploadedFile:
    """A file from files.getUploadURLExternal: its bytes once POSTed to the upload URL,
    completed by files.completeUploadExternal (shared only when given a channel)."""

    id: str
    team_id: str
    filename: str
    length: int
    user: str = ""  # who uploaded it (the bot user)
    alt_txt: str | None = None
    created: float = 0.0
    content: bytes | None = None
    title: str | None = None
    shared_in: list[str] = field(default_factory=list)
    completed_at: float | None = None
    ready_at: float | None = None  # when Slack has processed it: messages may show it
    deleted: bool = False


@dataclass
class Token:
    value: str
    team_id: str
    kind: str  # "bot" or "user"
    user_id: str
    scopes: list[str]
    revoked: bool = False


@dataclass
class Workspace:
    id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    bot_token: str = ""
    app_id: str = "AOKRBOT01"
    enterprise_id: str | None = None


@dataclass
class Ephemeral:
    """A message only `user` sees: chat.postEphemeral or a response_url answer."""

    channel: str
    user: str
    message: Message
    via: str  # "chat.postEphemeral" or "response_url"


@dataclass
class ResponseUrl:
    """A response_url: 5 uses within 30 minutes; `message_ts` is the message it came from."""

    team_id: str
    channel_id: str
    user_id: str
    issued_at: float
    message_ts: str | None = None
    uses_left: int = 5

    LIFETIME = 30 * 60.0


@dataclass
class Trigger:
    id: str
    team_id: str
    user_id: str
    issued_at: float
    used: bool = False


class SlackState:
    """Everything the emulator holds, with id and ts generators."""

    TRIGGER_LIFETIME = 3.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        # Seconds Slack takes to process a completed upload; until then a message naming
        # the file is refused (invalid slack file). 0: at once.
        self.file_processing_seconds = 0.0
        self.workspaces: dict[str, Workspace] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}  # channel id -> messages in ts order
        self.views: dict[str, View] = {}
        self.home: dict[tuple[str, str], View] = {}  # (team, user) -> published home
        self.files: dict[str, UploadedFile] = {}
        self.tokens: dict[str, Token] = {}
        self.triggers: dict[str, Trigger] = {}
        self.ephemerals: list[Ephemeral] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self._ids = itertools.count(1)
        self._last_ts = 0.0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def new_ts(self) -> str:
        """Strictly increasing message timestamps, like Slack's within a channel."""
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def new_trigger(self, *, team_id: str, user_id: str) -> str:
        trigger_id = f"{next(self._ids)}.{int(self.clock())}.{secrets.token_hex(8)}"
        self.triggers[trigger_id] = Trigger(trigger_id, team_id, user_id, self.clock())
        return trigger_id

    def use_trigger(self, trigger_id: str, *, team_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None or trigger.team_id != team_id:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.TRIGGER_LIFETIME:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    # --- lookups that raise Slack's errors --------------------------------------------------

    def user(self, user_id: str | None, *, team_id: str) -> User:
        user = self.users.get(user_id or "")
        if user is None or user.team_id != team_id:
            raise ApiError("user_not_found")
        return user

    def channel(self, channel_id: str | None, *, team_id: str) -> Channel:
        channel = self.channels.get(channel_id or "")
        if channel is None or channel.team_id != team_id:
            raise ApiError("channel_not_found")
        return channel

    def message(self, channel_id: str, ts: str | None) -> Message:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts and not message.deleted:
                return message
        raise ApiError("message_not_found")

    def im_with(self, workspace: Workspace, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.team_id == workspace.id and channel.im_user == user.id:
                return channel
        channel = Channel(
            id=self.new_id("D"),
            team_id=workspace.id,
            name=user.id,
            is_im=True,
            im_user=user.id,
            members={user.id, workspace.bot_user_id},
        )
        self.channels[channel.id] = channel
        return channel
