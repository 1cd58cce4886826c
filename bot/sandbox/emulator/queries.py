"""Reading what happened: calls made, channels, threads, DMs, answers, modals, App Home,
uploaded files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.emulator.images import shown_files
from bot.sandbox.emulator.state import Ephemeral, Message, SlackState, UploadedFile, View

if TYPE_CHECKING:
    from bot.sandbox.emulator.server import RecordedCall


class Queries:
    state: SlackState
    calls: list[RecordedCall]

    def recorded(self, method: str | None = None, *, ok: bool | None = None) -> list[RecordedCall]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and (ok is None or c.ok is ok)
        ]

    def channel_messages(self, channel_id: str) -> list[Message]:
        """Top-level messages of a channel, oldest first (thread broadcasts included)."""
        return [
            m
            for m in self.state.messages.get(channel_id, [])
            if not m.deleted and (m.thread_ts in (None, m.ts) or m.subtype == "thread_broadcast")
        ]

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """The replies under a message, oldest first."""
        return [
            m
            for m in self.state.messages.get(channel_id, [])
            if not m.deleted and m.thread_ts == ts and m.ts != ts
        ]

    def dm_channel(self, user_id: str) -> str | None:
        for channel in self.state.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel.id
        return None

    def dms(self, user_id: str) -> list[Message]:
        """What the bot wrote to a person in their DM, oldest first."""
        channel = self.dm_channel(user_id)
        if channel is None:
            return []
        return [m for m in self.state.messages.get(channel, []) if not m.deleted and m.bot_id]

    def answers_to(self, user_id: str) -> list[Ephemeral]:
        """What only this person saw: response_url answers and ephemeral messages."""
        return [e for e in self.state.ephemerals if e.user == user_id]

    def open_modal(self, user_id: str) -> View | None:
        """The modal on top of the person's stack, if any."""
        stack = [
            v
            for v in self.state.views.values()
            if v.user_id == user_id and not v.closed and v.view.get("type") == "modal"
        ]
        return max(stack, key=lambda v: v.id) if stack else None

    def home(self, user_id: str) -> View | None:
        for (_team, user), view in self.state.home.items():
            if user == user_id:
                return view
        return None

    def args_of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.recorded(method)]

    def uploaded_files(
        self, team_id: str | None = None, *, deleted: bool | None = None
    ) -> list[UploadedFile]:
        """Completed uploads in the order they were made, deleted ones too unless `deleted`
        says otherwise; each keeps its bytes (`content`), `title`, `shared_in`, `deleted`."""
        done = [
            f
            for f in self.state.files.values()
            if f.completed_at is not None
            and (team_id is None or f.team_id == team_id)
            and (deleted is None or f.deleted is deleted)
        ]
        return sorted(done, key=lambda f: (f.completed_at or 0.0, f.id))

    def files_shown(self, message: Message) -> list[UploadedFile]:
        """The uploaded files a message shows in its image blocks (`slack_file`)."""
        return shown_files(self.state, message.blocks)
