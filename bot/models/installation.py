"""Installation store tables (slack_sdk-compatible shape), tokens encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, created_column


class SlackInstallation(Base):
    """One row per install (OAuth completion or single-token seed); newest wins."""

    __tablename__ = "slack_installation"
    __table_args__ = (
        Index(
            "ix_slack_installation_lookup",
            "client_id",
            "enterprise_id",
            "team_id",
            "user_id",
            "installed_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("workspace.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    enterprise_url: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    bot_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(Text)
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    bot_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[str] = mapped_column(String(32))
    user_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    user_scopes: Mapped[str | None] = mapped_column(Text)
    user_refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    user_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incoming_webhook_url: Mapped[str | None] = mapped_column(Text)  # encrypted
    incoming_webhook_channel: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_channel_id: Mapped[str | None] = mapped_column(String(32))
    incoming_webhook_configuration_url: Mapped[str | None] = mapped_column(Text)
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    token_type: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime] = created_column()


class SlackBot(Base):
    """The bot token of a workspace (or an org-wide install), the one authorization reads."""

    __tablename__ = "slack_bot"
    __table_args__ = (
        Index("ix_slack_bot_lookup", "client_id", "enterprise_id", "team_id", "installed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("workspace.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    bot_token: Mapped[str | None] = mapped_column(Text)  # encrypted; NULL = use env token
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(Text)
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    bot_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_at: Mapped[datetime] = created_column()


class SlackOAuthState(Base):
    """OAuth `state` values handed out on /slack/install, each usable once until it expires."""

    __tablename__ = "slack_oauth_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(200), unique=True)
    expire_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
