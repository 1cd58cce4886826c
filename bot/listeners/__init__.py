"""Slack in: listeners registered on the app. Each parses input, calls one service, replies."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.listeners import (
    archive,
    carry_over,
    checkin_modal,
    commands,
    edit_modals,
    events,
    grading,
    home,
    key_result_page,
    middleware,
    okr_modals,
    replies,
    retro,
    settings_modal,
    team_commands,
)
from bot.listeners.registry import ListenerRegistry
from bot.slack.tokens import TokenCipher
from bot.spool import Spool


def register_listeners(
    app: AsyncApp,
    *,
    sessions: async_sessionmaker[AsyncSession],
    spool: Spool,
    update_every: float = 30.0,
    cipher: TokenCipher | None = None,
) -> ListenerRegistry:
    registry = ListenerRegistry(app)
    app.middleware(middleware.bind_log_context)
    app.middleware(middleware.make_enterprise_middleware(sessions))
    app.middleware(replies.make_inbox_middleware(sessions, spool))
    commands.register(registry, sessions=sessions, cipher=cipher)
    okr_modals.register(registry, sessions=sessions)
    home.register(registry, sessions=sessions)
    key_result_page.register(registry, sessions=sessions)
    team_commands.register(registry, sessions=sessions)
    archive.register(registry, sessions=sessions)
    settings_modal.register(registry, sessions=sessions)
    checkin_modal.register(registry, sessions=sessions)
    grading.register(registry, sessions=sessions)
    retro.register(registry, sessions=sessions, update_every=update_every)
    carry_over.register(registry, sessions=sessions)
    edit_modals.register(registry, sessions=sessions)
    events.register(registry, sessions=sessions)
    replies.register(registry, sessions=sessions, update_every=update_every)
    return registry
