"""Registers listeners on the app and remembers what was registered, so the manifest can be
checked against the code (slash commands and bot events, both ways)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp

Handler = Callable[..., Awaitable[Any]]


# The bot scope each subscribed event needs; events not listed need none.
EVENT_SCOPES: dict[str, str] = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "member_joined_channel": "channels:read",
    "member_left_channel": "channels:read",
    "channel_archive": "channels:read",
    "group_archive": "groups:read",
    "user_change": "users:read",
}


class ListenerRegistry:
    def __init__(self, app: AsyncApp) -> None:
        self.app = app
        self.commands: set[str] = set()
        self.events: set[str] = set()
        self.listener_count = 0  # listeners added through this registry

    def command(self, name: str, *, ack: Handler, lazy: Sequence[Handler] = ()) -> None:
        self.app.command(name)(ack=ack, lazy=list(lazy))
        self.commands.add(name)
        self.listener_count += 1

    def event(
        self, event_type: str, handler: Handler, *, manifest_names: Sequence[str] = ()
    ) -> None:
        """Listen to `event_type`; `manifest_names` are its subscriptions in the manifest when
        they differ (a `message` listener is `message.channels`, `message.im`, ...)."""
        self.app.event(event_type)(handler)
        self.events.update(manifest_names or (event_type,))
        self.listener_count += 1

    def view(self, callback_id: str, handler: Handler) -> None:
        """A modal's submission (answered in the ack: field errors need it)."""
        self.app.view(callback_id)(handler)
        self.listener_count += 1

    def action(self, action_id: str, handler: Handler) -> None:
        self.app.action(action_id)(handler)
        self.listener_count += 1

    def options(self, action_id: str, handler: Handler) -> None:
        """Options for an external_select (a `block_suggestion` request)."""
        self.app.options(action_id)(handler)
        self.listener_count += 1

    def token_revocation(self) -> None:
        """Delete stored tokens on `app_uninstalled` and `tokens_revoked` (Bolt's listeners)."""
        self.app.enable_token_revocation_listeners()
        self.events.update({"app_uninstalled", "tokens_revoked"})
        self.listener_count += 2
