"""An async slack_sdk installation store over our own tables, tokens encrypted at rest.

Authorization always goes through it, so many workspaces work from day one. In single-token
mode without an encryption key nothing secret is stored: the token column stays NULL and
the store hands out SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import SlackBot, SlackInstallation, Workspace
from bot.repository.workspaces import ensure_workspace
from bot.slack.authorize import note_store_failure
from bot.slack.installation_rows import bot_from_row, installation_from_row
from bot.slack.seed import SingleTokenSeeder, TokenRejected
from bot.slack.tokens import TokenCipher

log = logging.getLogger(__name__)

SINGLE_TOKEN_CLIENT_ID = "single-token"


def _org_scoped(enterprise_id: str | None, team_id: str | None, org: bool) -> str | None:
    """Org-wide installs are stored without a team id."""
    return None if org or (enterprise_id and not team_id) else team_id


def _scopes(value: Any) -> str | None:
    if value is None:
        return None
    return ",".join(value) if isinstance(value, list | tuple) else str(value)


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        client_id: str,
        readers: async_sessionmaker[AsyncSession] | None = None,
        cipher: TokenCipher,
        fallback_bot_token: str | None = None,
        seeder: SingleTokenSeeder | None = None,
        default_timezone: str = "UTC",
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions
        self._client_id = client_id
        self._cipher = cipher
        self._fallback_bot_token = fallback_bot_token
        self._seeder = seeder
        self._default_timezone = default_timezone

    @property
    def logger(self) -> logging.Logger:
        return log

    def _owned_by(
        self,
        model: type[SlackBot] | type[SlackInstallation],
        enterprise_id: str | None,
        team_id: str | None,
    ) -> list[ColumnElement[bool]]:
        """Rows of this app for one workspace (or org), matching NULL ids as NULL."""
        return [
            model.client_id == self._client_id,
            model.enterprise_id.is_(None)
            if enterprise_id is None
            else model.enterprise_id == enterprise_id,
            model.team_id.is_(None) if team_id is None else model.team_id == team_id,
        ]

    # --- tokens ----------------------------------------------------------------------------

    def _seal(self, token: str | None) -> str | None:
        """Encrypt a token, or store nothing when it is the env token and no key is set."""
        if token is None:
            return None
        if not self._cipher.enabled and token == self._fallback_bot_token:
            return None
        return self._cipher.encrypt(token)

    async def _env_token_belongs_to(self, team_id: str | None) -> bool:
        """A row stored without a token stands for SLACK_BOT_TOKEN, but only for the workspace
        that token belongs to (the env token may since have been switched to another)."""
        if self._seeder is None:
            return False
        bot = await self._seeder.ensure()
        return bot is not None and bot.team_id == team_id

    def _open(self, stored: str | None) -> str | None:
        if stored is None:
            return self._fallback_bot_token
        return self._cipher.decrypt(stored)

    async def tokens_decrypt(self) -> bool:
        """Whether the newest stored bot token opens with the configured keys (a rotated-away
        key would otherwise fail every request while the database looks healthy)."""
        async with self._readers() as session:
            stored = await session.scalar(
                select(SlackBot.bot_token)
                .where(SlackBot.client_id == self._client_id, SlackBot.bot_token.is_not(None))
                .order_by(SlackBot.installed_at.desc(), SlackBot.id.desc())
                .limit(1)
            )
        if stored is None:
            return True
        try:
            self._cipher.decrypt(stored)
        except Exception:  # noqa: BLE001 - any failure to open it means "no"
            return False
        return True

    # --- save ------------------------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        async with self._sessions.begin() as session:
            workspace_id = await self._workspace_for(
                session, installation.team_id, installation.enterprise_id, installation.team_name
            )
            team_id = _org_scoped(
                installation.enterprise_id,
                installation.team_id,
                installation.is_enterprise_install or False,
            )
            session.add(
                SlackInstallation(
                    workspace_id=workspace_id,
                    client_id=self._client_id,
                    app_id=installation.app_id,
                    enterprise_id=installation.enterprise_id,
                    enterprise_name=installation.enterprise_name,
                    enterprise_url=installation.enterprise_url,
                    team_id=team_id,
                    team_name=installation.team_name,
                    bot_token=self._seal(installation.bot_token),
                    bot_id=installation.bot_id,
                    bot_user_id=installation.bot_user_id,
                    bot_scopes=_scopes(installation.bot_scopes),
                    bot_refresh_token=self._seal(installation.bot_refresh_token),
                    bot_token_expires_at=installation.bot_token_expires_at,
                    user_id=installation.user_id,
                    user_token=self._seal(installation.user_token),
                    user_scopes=_scopes(installation.user_scopes),
                    user_refresh_token=self._seal(installation.user_refresh_token),
                    user_token_expires_at=installation.user_token_expires_at,
                    incoming_webhook_url=self._seal(installation.incoming_webhook_url),
                    incoming_webhook_channel=installation.incoming_webhook_channel,
                    incoming_webhook_channel_id=installation.incoming_webhook_channel_id,
                    incoming_webhook_configuration_url=installation.incoming_webhook_configuration_url,
                    is_enterprise_install=installation.is_enterprise_install or False,
                    token_type=installation.token_type,
                )
            )
            # The installer is not made an admin here: like anyone, they are one only if Slack
            # says so (`users.info` when they are first seen, `user_change` after that).
            if installation.bot_token is not None:
                await self._add_bot(session, installation.to_bot(), workspace_id)

    async def async_save_bot(self, bot: Bot) -> None:
        async with self._sessions.begin() as session:
            workspace_id = await self._workspace_for(
                session, bot.team_id, bot.enterprise_id, bot.team_name
            )
            await self._add_bot(session, bot, workspace_id)

    async def _workspace_for(
        self,
        session: AsyncSession,
        team_id: str | None,
        enterprise_id: str | None,
        team_name: str | None,
    ) -> int | None:
        if not team_id:
            return None
        workspace = await ensure_workspace(
            session,
            slack_team_id=team_id,
            enterprise_id=enterprise_id,
            name=team_name,
            timezone=self._default_timezone,
        )
        if workspace.state == "paused":  # paused by a token Slack refused: a new one resumes
            workspace.state, workspace.pause_reason = "active", None
        return workspace.id

    async def _add_bot(self, session: AsyncSession, bot: Bot, workspace_id: int | None) -> None:
        session.add(
            SlackBot(
                workspace_id=workspace_id,
                client_id=self._client_id,
                app_id=bot.app_id,
                enterprise_id=bot.enterprise_id,
                enterprise_name=bot.enterprise_name,
                team_id=_org_scoped(bot.enterprise_id, bot.team_id, bot.is_enterprise_install),
                team_name=bot.team_name,
                bot_token=self._seal(bot.bot_token),
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=_scopes(bot.bot_scopes),
                bot_refresh_token=self._seal(bot.bot_refresh_token),
                bot_token_expires_at=bot.bot_token_expires_at,
                is_enterprise_install=bot.is_enterprise_install,
            )
        )

    # --- find ------------------------------------------------------------------------------

    async def ensure_seeded(self) -> Bot | None:
        """Single-token mode: store the env token's install unless it is stored already."""
        if self._seeder is None:
            return None
        bot = await self._seeder.ensure()
        if bot is None:
            return None
        stored = await self._find_stored_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
        if stored is None or (stored.bot_user_id, stored.bot_token) != (
            bot.bot_user_id,
            bot.bot_token,
        ):
            await self.async_save_bot(bot)
        return bot

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        team_id = _org_scoped(enterprise_id, team_id, is_enterprise_install or False)
        try:
            found = await self._find_stored_bot(enterprise_id=enterprise_id, team_id=team_id)
        except Exception as exc:  # the database is away, or the token no longer decrypts
            note_store_failure(exc)
            raise
        if found is None and self._seeder is not None:
            # Start-up could not reach Slack, or the row is gone: learn or store it now.
            try:
                seeded = await self.ensure_seeded()
            except TokenRejected:
                log.warning("SLACK_BOT_TOKEN is no longer accepted by Slack")
                return None
            if seeded is not None and seeded.team_id == team_id:
                return seeded
        return found

    async def _find_stored_bot(
        self, *, enterprise_id: str | None, team_id: str | None
    ) -> Bot | None:
        async with self._readers() as session:
            row = (
                await session.execute(
                    select(SlackBot)
                    .where(
                        *self._owned_by(SlackBot, enterprise_id, team_id),
                    )
                    .order_by(SlackBot.installed_at.desc(), SlackBot.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
        if row is None:
            return None
        if row.bot_token is None and not await self._env_token_belongs_to(row.team_id):
            return None
        token = self._open(row.bot_token)
        if token is None:
            return None
        return bot_from_row(row, token=token, cipher=self._cipher)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team_id = _org_scoped(enterprise_id, team_id, is_enterprise_install or False)
        query = select(SlackInstallation).where(
            *self._owned_by(SlackInstallation, enterprise_id, team_id),
        )
        if user_id is not None:
            query = query.where(SlackInstallation.user_id == user_id)
        async with self._readers() as session:
            row = (
                await session.execute(
                    query.order_by(
                        SlackInstallation.installed_at.desc(), SlackInstallation.id.desc()
                    ).limit(1)
                )
            ).scalar_one_or_none()
        if row is None:
            return None
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return installation_from_row(row, bot=bot, cipher=self._cipher)

    # --- delete ----------------------------------------------------------------------------

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if self._seeder is not None:
            self._seeder.forget()  # ask Slack again before handing the env token out
        async with self._sessions.begin() as session:
            await session.execute(
                delete(SlackBot).where(
                    *self._owned_by(SlackBot, enterprise_id, team_id),
                )
            )
            await session.execute(  # the install rows hold the revoked token too: forget it
                update(SlackInstallation)
                .where(*self._owned_by(SlackInstallation, enterprise_id, team_id))
                .values(bot_token=None, bot_refresh_token=None, bot_token_expires_at=None)
            )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        query = delete(SlackInstallation).where(
            *self._owned_by(SlackInstallation, enterprise_id, team_id),
        )
        if user_id is not None:
            query = query.where(SlackInstallation.user_id == user_id)
        async with self._sessions.begin() as session:
            await session.execute(query)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Uninstall: forget every token of the workspace and mark it uninstalled."""
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        if team_id:
            async with self._sessions.begin() as session:
                workspace = (
                    await session.execute(
                        select(Workspace).where(Workspace.slack_team_id == team_id)
                    )
                ).scalar_one_or_none()
                if workspace is not None:
                    workspace.state = "uninstalled"
