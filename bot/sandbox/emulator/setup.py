"""Building the emulated world: workspaces, people, channels, OAuth clients."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.sandbox.emulator.methods.oauth import OAuthClient
from bot.sandbox.emulator.state import (
    DEFAULT_BOT_SCOPES,
    Channel,
    SlackState,
    Token,
    User,
    Workspace,
)


class Setup:
    state: SlackState
    oauth_clients: dict[str, OAuthClient]
    authorize_as: tuple[str, str] | None

    def add_workspace(
        self,
        name: str = "Acme",
        *,
        team_id: str | None = None,
        domain: str | None = None,
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        installed: bool = True,
        bot_token: str | None = None,
    ) -> Workspace:
        """A workspace with the bot in it; `installed=False` leaves out the bot token."""
        team_id = team_id or self.state.new_id("T")
        bot_user = User(self.state.new_id("U"), team_id, "okr", real_name="OKR Bot", is_bot=True)
        ws = Workspace(
            id=team_id,
            name=name,
            domain=domain or name.lower().replace(" ", "-"),
            bot_user_id=bot_user.id,
            bot_id=self.state.new_id("B"),
        )
        self.state.workspaces[ws.id] = ws
        self.state.users[bot_user.id] = bot_user
        if installed:
            ws.bot_token = bot_token or f"xoxb-{ws.id}-{secrets.token_hex(12)}"
            self.state.tokens[ws.bot_token] = Token(
                ws.bot_token, ws.id, "bot", bot_user.id, list(scopes)
            )
        return ws

    def add_user(
        self,
        ws: Workspace,
        name: str,
        *,
        tz: str = "UTC",
        admin: bool = False,
        owner: bool = False,
        email: str | None = None,
        real_name: str | None = None,
    ) -> User:
        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
        user = User(
            id=self.state.new_id("U"),
            team_id=ws.id,
            name=name,
            real_name=real_name or name.title(),
            tz=tz,
            tz_offset=int(offset.total_seconds()) if offset else 0,
            email=email,
            is_admin=admin or owner,
            is_owner=owner,
        )
        self.state.users[user.id] = user
        if self.authorize_as is None and (admin or owner):
            self.authorize_as = (ws.id, user.id)
        return user

    def add_channel(
        self,
        ws: Workspace,
        name: str,
        *,
        private: bool = False,
        members: Iterable[User] = (),
        bot_member: bool = True,
    ) -> Channel:
        channel = Channel(
            id=self.state.new_id("G" if private else "C"),
            team_id=ws.id,
            name=name,
            is_private=private,
            members={m.id for m in members},
        )
        if bot_member:
            channel.members.add(ws.bot_user_id)
        self.state.channels[channel.id] = channel
        return channel

    def deactivate(self, user: User) -> None:
        user.deleted = True

    def revoke_tokens(self, ws: Workspace) -> None:
        for token in self.state.tokens.values():
            if token.team_id == ws.id:
                token.revoked = True

    def add_oauth_client(
        self, client_id: str, client_secret: str, redirect_uri: str | None = None
    ) -> None:
        self.oauth_clients[client_id] = OAuthClient(client_id, client_secret, redirect_uri)
