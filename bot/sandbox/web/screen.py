"""What one person sees in the sandbox's Slack, read from the emulator's own state: the
sidebar, a channel or DM with threads, what only they see, their modal and App Home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.emulator.state import Channel, Message, SlackState, User, View, Workspace

HOME = "home"


@dataclass
class Shown:
    """One message as the page shows it."""

    ts: str
    channel: str
    author: str
    is_bot: bool
    at: str
    text: str
    blocks: list[dict[str, Any]]
    reactions: list[tuple[str, int, bool]]  # name, count, whether the viewer reacted
    edited: bool = False
    reply_count: int = 0
    only_you: bool = False


@dataclass
class Screen:
    person: User
    people: list[User]
    channels: list[Channel]
    dms: list[Channel]
    current: str  # a channel id, or HOME
    title: str
    messages: list[Shown]
    thread: list[Shown]
    thread_ts: str | None
    modal: View | None
    modal_depth: int
    home: View | None
    now_local: str
    now_utc: str
    names: dict[str, str]


def _local(ts: str, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(float(ts), UTC).astimezone(tz).strftime("%a %d %b %H:%M")


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.tz)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def names_of(state: SlackState, ws: Workspace) -> dict[str, str]:
    """Slack id -> what the page calls it (people by real name, channels by name)."""
    names = {u.id: u.real_name or u.name for u in state.users.values() if u.team_id == ws.id}
    names |= {c.id: c.name for c in state.channels.values() if c.team_id == ws.id and not c.is_im}
    return names


def _shown(
    state: SlackState, ws: Workspace, message: Message, viewer: User, *, only_you: bool = False
) -> Shown:
    author = state.users.get(message.user or "")
    is_bot = bool(message.bot_id) and message.bot_id == ws.bot_id
    name = "OKR Bot" if is_bot else (author.real_name if author else message.user or "someone")
    return Shown(
        ts=message.ts,
        channel=message.channel,
        author=name,
        is_bot=is_bot,
        at=_local(message.ts, _zone(viewer)),
        text=message.text,
        blocks=message.blocks,
        reactions=[
            (reaction, len(users), viewer.id in users)
            for reaction, users in message.reactions.items()
            if users
        ],
        edited=message.edited_ts is not None,
        reply_count=message.reply_count,
        only_you=only_you,
    )


def screen(
    state: SlackState,
    ws: Workspace,
    viewer: User,
    people: list[User],
    *,
    current: str | None,
    thread_ts: str | None,
) -> Screen:
    channels = sorted(
        (
            c
            for c in state.channels.values()
            if c.team_id == ws.id and not c.is_im and viewer.id in c.members and not c.is_archived
        ),
        key=lambda c: c.name,
    )
    dm = state.im_with(ws, viewer)
    shown_channel = state.channels.get(current or "")
    if current == HOME:
        shown_channel = None
    elif shown_channel is None or shown_channel not in [*channels, dm]:
        shown_channel = channels[0] if channels else dm
    messages: list[Shown] = []
    thread: list[Shown] = []
    if shown_channel is not None:
        top = [
            m
            for m in state.messages.get(shown_channel.id, [])
            if not m.deleted and (m.thread_ts in (None, m.ts) or m.subtype == "thread_broadcast")
        ]
        messages = [_shown(state, ws, m, viewer) for m in top]
        messages += [
            _shown(state, ws, e.message, viewer, only_you=True)
            for e in state.ephemerals
            if e.channel == shown_channel.id
            and e.user == viewer.id
            and not e.message.deleted
            and not e.message.thread_ts
        ]
        messages.sort(key=lambda s: float(s.ts))
        if thread_ts:
            thread = [
                _shown(state, ws, m, viewer)
                for m in state.messages.get(shown_channel.id, [])
                if not m.deleted and (m.ts == thread_ts or m.thread_ts == thread_ts)
            ]
            thread += [
                _shown(state, ws, e.message, viewer, only_you=True)
                for e in state.ephemerals
                if e.user == viewer.id and e.message.thread_ts == thread_ts
            ]
            thread.sort(key=lambda s: float(s.ts))
    modal = _top_modal(state, viewer)
    now = datetime.fromtimestamp(state.clock(), UTC)
    if shown_channel is None:
        title = "OKR Bot — Home"
    elif shown_channel.is_im:
        title = "OKR Bot"
    else:
        title = f"#{shown_channel.name}"
    return Screen(
        person=viewer,
        people=people,
        channels=channels,
        dms=[dm],
        current=shown_channel.id if shown_channel else HOME,
        title=title,
        messages=messages,
        thread=thread if thread_ts else [],
        thread_ts=thread_ts if thread else None,
        modal=modal,
        modal_depth=_depth(state, modal),
        home=state.home.get((ws.id, viewer.id)),
        now_local=now.astimezone(_zone(viewer)).strftime("%a %d %b %Y, %H:%M") + f" ({viewer.tz})",
        now_utc=now.strftime("%Y-%m-%d %H:%M UTC"),
        names=names_of(state, ws),
    )


def _top_modal(state: SlackState, viewer: User) -> View | None:
    stack = [
        v
        for v in state.views.values()
        if v.user_id == viewer.id and not v.closed and v.view.get("type") == "modal"
    ]
    return max(stack, key=lambda v: v.id) if stack else None


def _depth(state: SlackState, modal: View | None) -> int:
    if modal is None:
        return 0
    return sum(
        1 for v in state.views.values() if v.root_view_id == modal.root_view_id and not v.closed
    )
