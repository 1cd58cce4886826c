"""What people (and other bots, and admins) do in channels and DMs, as message and
membership events. Mixed into the driver."""

from __future__ import annotations

from typing import Any

from bot.sandbox import payloads
from bot.sandbox.delivery import Answer
from bot.sandbox.emulator.server import SlackEmulator
from bot.sandbox.emulator.state import Channel, Message, User, Workspace


class PeopleActions:
    slack: SlackEmulator
    ws: Workspace

    async def event(self, event: dict[str, Any], *, retries: int = 0) -> list[Answer]:
        raise NotImplementedError

    def _dm(self, user: User) -> Channel:
        return self.slack.state.im_with(self.ws, user)

    async def say(
        self,
        user: User,
        text: str,
        *,
        channel: Channel | None = None,
        thread_ts: str | None = None,
        broadcast: bool = False,
        files: list[dict[str, Any]] | None = None,
        retries: int = 0,
        raw: bool = False,
    ) -> Message:
        """The person writes `text` in a channel, a thread (thread_ts) or their DM with the bot."""
        channel = channel or self._dm(user)
        state = self.slack.state
        text = text if raw else payloads.as_typed(text)
        parent_user = None
        if thread_ts is not None:
            parent = state.message(channel.id, thread_ts)
            thread_ts = parent.thread_ts or parent.ts
            parent_user = parent.user
        subtype = "thread_broadcast" if broadcast and thread_ts else "file_share" if files else None
        message = Message(
            channel.id,
            state.new_ts(),
            text,
            user=user.id,
            thread_ts=thread_ts,
            subtype=subtype,
            files=files or [],
        )
        state.messages.setdefault(channel.id, []).append(message)
        if thread_ts is not None:
            root = state.message(channel.id, thread_ts)
            root.reply_users.add(user.id)
            root.reply_count += 1
            root.latest_reply = message.ts
        if not self.bot_hears(channel):
            return message  # Slack sends channel messages only where the bot is a member
        event = payloads.message_event(
            user=user.id,
            channel=channel,
            text=text,
            ts=message.ts,
            thread_ts=thread_ts,
            parent_user_id=parent_user,
            subtype=subtype,
            files=files,
        )
        await self.event(event, retries=retries)
        return message

    def bot_hears(self, channel: Channel) -> bool:
        return channel.is_im or self.ws.bot_user_id in channel.members

    async def edit(self, user: User, message: Message, text: str) -> Answer:
        channel = self.slack.state.channels[message.channel]
        previous = message.to_api()
        message.text, message.edited_ts = text, self.slack.state.new_ts()
        event = {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel.id,
            "channel_type": channel.channel_type,
            "hidden": True,
            "ts": message.edited_ts,
            "event_ts": message.edited_ts,
            "message": message.to_api(),
            "previous_message": previous,
        }
        return (await self.event(event))[0]

    async def delete(self, user: User, message: Message) -> Answer:
        channel = self.slack.state.channels[message.channel]
        previous = message.to_api()
        message.deleted = True
        ts = self.slack.state.new_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel.id,
            "channel_type": channel.channel_type,
            "hidden": True,
            "ts": ts,
            "event_ts": ts,
            "deleted_ts": message.ts,
            "previous_message": previous,
        }
        if message.thread_ts and message.thread_ts != message.ts:
            event["thread_ts"] = message.thread_ts
        return (await self.event(event))[0]

    async def other_bot_says(
        self,
        channel: Channel,
        text: str,
        *,
        thread_ts: str | None = None,
        bot_id: str = "B0OTHERBOT",
        legacy: bool = False,
    ) -> Message:
        """Another app's message. Apps today post as their bot user (`user`, `bot_id`,
        `app_id`, no subtype); `legacy=True` sends the old `subtype: bot_message` shape."""
        state = self.slack.state
        bot_user = "U0OTHERBOT"
        message = Message(
            channel.id,
            state.new_ts(),
            text,
            user=None if legacy else bot_user,
            bot_id=bot_id,
            thread_ts=thread_ts,
            subtype="bot_message" if legacy else None,
        )
        state.messages.setdefault(channel.id, []).append(message)
        if not self.bot_hears(channel):
            return message
        event = payloads.message_event(
            user=bot_user,
            channel=channel,
            text=text,
            ts=message.ts,
            thread_ts=thread_ts,
            subtype="bot_message" if legacy else None,
            bot_id=bot_id,
        )
        if legacy:
            event.pop("user")
        else:
            event["app_id"] = "A0OTHERAPP"
        await self.event(event)
        return message

    async def mention(
        self, user: User, channel: Channel, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """`@okr text`: Slack sends app_mention *and* the channel message, with two event ids."""
        full = f"<@{self.ws.bot_user_id}> {payloads.as_typed(text)}"
        message = await self.say(user, full, channel=channel, thread_ts=thread_ts, raw=True)
        event = {
            "type": "app_mention",
            "user": user.id,
            "text": full,
            "ts": message.ts,
            "channel": channel.id,
            "event_ts": message.ts,
        }
        if message.thread_ts and message.thread_ts != message.ts:
            event["thread_ts"] = message.thread_ts
        await self.event(event)
        return message

    async def join(self, user: User, channel: Channel) -> Answer:
        channel.members.add(user.id)
        return await self._membership("member_joined_channel", user, channel)

    async def leave(self, user: User, channel: Channel) -> Answer:
        channel.members.discard(user.id)
        return await self._membership("member_left_channel", user, channel)

    async def _membership(self, kind: str, user: User, channel: Channel) -> Answer:
        event = {
            "type": kind,
            "user": user.id,
            "channel": channel.id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.ws.id,
        }
        return (await self.event(event))[0]

    async def archive(self, user: User, channel: Channel) -> Answer:
        channel.is_archived = True
        kind = "group_archive" if channel.is_private else "channel_archive"
        return (await self.event({"type": kind, "channel": channel.id, "user": user.id}))[0]

    async def change_user(self, user: User, **fields: Any) -> Answer:
        for name, value in fields.items():
            setattr(user, name, value)
        return (await self.event({"type": "user_change", "user": user.to_api()}))[0]

    async def uninstall(self) -> Answer:
        self.slack.revoke_tokens(self.ws)
        return (await self.event({"type": "app_uninstalled"}))[0]

    async def revoke_tokens(self) -> Answer:
        self.slack.revoke_tokens(self.ws)
        event = {"type": "tokens_revoked", "tokens": {"bot": [self.ws.bot_user_id], "oauth": []}}
        return (await self.event(event))[0]
