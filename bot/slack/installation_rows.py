"""Rows of the installation tables turned back into slack_sdk's objects (tokens decrypted by
the caller's cipher)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store import Bot, Installation

from bot.models import SlackBot, SlackInstallation
from bot.slack.tokens import TokenCipher


def bot_from_row(row: SlackBot, *, token: str, cipher: TokenCipher) -> Bot:
    return Bot(
        app_id=row.app_id,
        enterprise_id=row.enterprise_id,
        enterprise_name=row.enterprise_name,
        team_id=row.team_id,
        team_name=row.team_name,
        bot_token=token,
        bot_id=row.bot_id or "",
        bot_user_id=row.bot_user_id or "",
        bot_scopes=row.bot_scopes or "",
        bot_refresh_token=cipher.decrypt(row.bot_refresh_token),
        bot_token_expires_at=row.bot_token_expires_at,
        is_enterprise_install=row.is_enterprise_install,
        installed_at=row.installed_at,
    )


def installation_from_row(
    row: SlackInstallation, *, bot: Bot | None, cipher: TokenCipher
) -> Installation:
    return Installation(
        app_id=row.app_id,
        enterprise_id=row.enterprise_id,
        enterprise_name=row.enterprise_name,
        enterprise_url=row.enterprise_url,
        team_id=row.team_id,
        team_name=row.team_name,
        bot_token=bot.bot_token if bot else None,
        bot_id=bot.bot_id if bot else row.bot_id,
        bot_user_id=bot.bot_user_id if bot else row.bot_user_id,
        bot_scopes=bot.bot_scopes if bot else (row.bot_scopes or ""),
        user_id=row.user_id,
        user_token=cipher.decrypt(row.user_token) if row.user_token else None,
        user_scopes=row.user_scopes or "",
        incoming_webhook_url=cipher.decrypt(row.incoming_webhook_url)
        if row.incoming_webhook_url
        else None,
        incoming_webhook_channel=row.incoming_webhook_channel,
        incoming_webhook_channel_id=row.incoming_webhook_channel_id,
        incoming_webhook_configuration_url=row.incoming_webhook_configuration_url,
        is_enterprise_install=row.is_enterprise_install,
        token_type=row.token_type,
        installed_at=row.installed_at,
    )
