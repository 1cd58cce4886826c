"""The sandbox's Slack kept between starts: the emulator's workspace, people, channels,
messages, App Home tabs and files, and the sandbox instant, in one JSON file beside
var/sandbox.db. Modals, triggers, response URLs and ephemeral answers live seconds in Slack
too and are not kept."""

from __future__ import annotations

import base64
import itertools
import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.sandbox.emulator.state import (
    Channel,
    Message,
    SlackState,
    Token,
    UploadedFile,
    User,
    View,
    Workspace,
)

FORMAT = 1


def dump(state: SlackState, *, now: datetime) -> dict[str, Any]:
    next_id = next(state._ids)  # noqa: SLF001 - the id counter goes on where it stopped
    state._ids = itertools.count(next_id + 1)  # noqa: SLF001
    files = []
    for file in state.files.values():
        data = asdict(file)
        data["content"] = base64.b64encode(file.content).decode() if file.content else None
        files.append(data)
    return {
        "format": FORMAT,
        "now": now.isoformat(),
        "next_id": next_id + 1,
        "last_ts": state._last_ts,  # noqa: SLF001
        "workspaces": [asdict(w) for w in state.workspaces.values()],
        "users": [asdict(u) for u in state.users.values()],
        "channels": [asdict(c) | {"members": sorted(c.members)} for c in state.channels.values()],
        "messages": {
            channel: [asdict(m) | {"reply_users": sorted(m.reply_users)} for m in messages]
            for channel, messages in state.messages.items()
        },
        "home": [asdict(v) for v in state.home.values()],
        "files": files,
        "tokens": [asdict(t) for t in state.tokens.values()],
    }


def load(state: SlackState, data: dict[str, Any]) -> datetime:
    """Fill an empty emulator state from `data`; returns the sandbox instant it was kept at."""
    if data.get("format") != FORMAT:
        raise ValueError("the kept sandbox Slack is of another format: start with --fresh")
    for raw in data["workspaces"]:
        workspace = Workspace(**raw)
        state.workspaces[workspace.id] = workspace
    for raw in data["users"]:
        user = User(**raw)
        state.users[user.id] = user
    for raw in data["channels"]:
        channel = Channel(**(raw | {"members": set(raw["members"])}))
        state.channels[channel.id] = channel
    for channel_id, messages in data["messages"].items():
        state.messages[channel_id] = [
            Message(**(m | {"reply_users": set(m["reply_users"])})) for m in messages
        ]
    for raw in data["home"]:
        view = View(**raw)
        state.home[(view.team_id, view.user_id)] = view
        state.views[view.id] = view
    for raw in data["files"]:
        content = base64.b64decode(raw["content"]) if raw.get("content") else None
        file = UploadedFile(**(raw | {"content": content}))
        state.files[file.id] = file
    for raw in data["tokens"]:
        token = Token(**raw)
        state.tokens[token.value] = token
    state._ids = itertools.count(int(data["next_id"]))  # noqa: SLF001
    state._last_ts = float(data["last_ts"])  # noqa: SLF001
    return datetime.fromisoformat(data["now"])


def save(path: Path, state: SlackState, *, now: datetime) -> None:
    """Written whole to a temporary file, then renamed over the old one."""
    part = path.with_suffix(".part")
    part.write_text(json.dumps(dump(state, now=now)), encoding="utf-8")
    os.replace(part, path)


def read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a kept sandbox Slack: start with --fresh")
    return data
