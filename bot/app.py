"""Build the Bolt AsyncApp: authorization through our installation store, listeners from
`bot/listeners/`, OAuth when SLACK_CLIENT_ID is set, request verification unless in Socket Mode.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Mode, Settings
from bot.db import make_async_engine, make_reader_sessionmaker, make_sessionmaker
from bot.listeners import register_listeners
from bot.listeners.registry import ListenerRegistry
from bot.listeners.unavailable import unavailable_answer
from bot.slack.authorize import AuthorizationUnavailable, StoreAuthorize
from bot.slack.clients import SharedHttp, web_client
from bot.slack.installation_store import SINGLE_TOKEN_CLIENT_ID, DatabaseInstallationStore
from bot.slack.oauth_state import DatabaseOAuthStateStore
from bot.slack.seed import SingleTokenSeeder
from bot.slack.tokens import TokenCipher
from bot.spool import Spool

BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "reactions:write",
    "team:read",
    "users:read",
    "users:read.email",
)


def authorization_url(api_url: str) -> str:
    """Slack's OAuth authorize page beside its Web API (the emulator's, in the sandbox)."""
    root = api_url.removesuffix("/").removesuffix("/api")
    return f"{root}/oauth/v2/authorize"


log = logging.getLogger(__name__)
# The database cannot serve this request now: gone, reset, or no connection free in time.
DATABASE_AWAY = (OperationalError, InterfaceError, PoolTimeout, ConnectionError, TimeoutError)


class OkrApp(AsyncApp):
    """The Bolt app plus what the rest of the bot needs to reach: settings, the database,
    the installation store, the event spool and the registry of listeners."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: DatabaseInstallationStore
    spool: Spool
    registry: ListenerRegistry
    http: SharedHttp  # the clock's connection pool to Slack (closed by whoever runs the clock)


def build_app(
    settings: Settings, *, mode: Mode = Mode.SERVE, engine: AsyncEngine | None = None
) -> OkrApp:
    """The app for `mode`; pass `engine` to share one (tests, the sandbox)."""
    engine = engine or make_async_engine(
        settings.database,
        busy_timeout_seconds=settings.db_busy_timeout_seconds,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
    )
    sessions = make_sessionmaker(engine)
    client = web_client(settings)
    env_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    seeder = (
        SingleTokenSeeder(client=client, token=env_token)
        if env_token and not settings.oauth_enabled
        else None
    )
    store = DatabaseInstallationStore(
        sessions=sessions,
        readers=make_reader_sessionmaker(engine),
        client_id=settings.slack_client_id or SINGLE_TOKEN_CLIENT_ID,
        cipher=TokenCipher(settings.encryption_keys()),
        fallback_bot_token=None if settings.oauth_enabled else env_token,
        seeder=seeder,
        default_timezone=settings.default_timezone,
    )
    authorize = StoreAuthorize(
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=(
            settings.slack_client_secret.get_secret_value()
            if settings.slack_client_secret
            else None
        ),
        bot_only=True,
        cache_enabled=True,
        client=client,
        logger=logging.getLogger("slack_bolt.authorize"),
    )
    kwargs: dict[str, Any] = {}
    if settings.oauth_enabled:
        state_store: AsyncOAuthStateStore = DatabaseOAuthStateStore(sessions=sessions)
        kwargs["oauth_settings"] = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=(
                settings.slack_client_secret.get_secret_value()
                if settings.slack_client_secret
                else None
            ),
            scopes=list(BOT_SCOPES),
            installation_store=store,
            installation_store_bot_only=True,
            state_store=state_store,
            authorization_url=authorization_url(settings.slack_api_url),
        )
    socket = mode is Mode.SOCKET
    app = OkrApp(
        name="okr-bot",
        client=client,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret and not socket
            else ""
        ),
        request_verification_enabled=mode is Mode.SERVE,
        installation_store=store,
        installation_store_bot_only=True,
        # Bolt takes an AsyncAuthorize instance as is (typed as a plain callable there).
        authorize=authorize,  # type: ignore[arg-type]
        ignoring_self_events_enabled=True,
        **kwargs,
    )
    app.settings = settings
    app.spool = Spool(settings.spool_path)
    app.http = SharedHttp()

    async def on_error(
        error: Exception, request: AsyncBoltRequest, response: BoltResponse | None
    ) -> BoltResponse | None:
        """Never a 200 without a record: when authorization cannot tell (the database is
        away, a token no longer decrypts), an event is spooled (or answered 503 so Slack
        redelivers) and a person is asked to try again in a minute.

        With no `response` the request was already answered (an event's work after its ack):
        there is nothing left to answer, and an event's inbox row waits for the clock's retry."""
        if response is None:
            if isinstance(error, DATABASE_AWAY):
                log.warning(
                    "database unavailable after the ack; the clock retries the inbox row",
                    extra={"error": type(error).__name__},
                )
            else:
                log.error("unhandled error after the ack", exc_info=error)
            return None
        if isinstance(error, AuthorizationUnavailable):
            log.warning("authorization unavailable", extra={"reason": str(error)})
            return unavailable_answer(request.body, app.spool, team_id=request.context.team_id)
        if isinstance(error, DATABASE_AWAY):
            # The database went away mid-request: nothing was committed. A person is asked to
            # try again; an event is answered 503 so Slack redelivers it (replies the inbox
            # could not store were spooled before this point).
            log.warning("database unavailable", extra={"error": type(error).__name__})
            if request.body.get("type") == "event_callback":
                return BoltResponse(status=503, body="")
            return unavailable_answer(request.body, app.spool, team_id=request.context.team_id)
        log.error("unhandled error", exc_info=error)
        return None

    app.error(on_error)
    app.engine = engine
    app.sessions = sessions
    app.store = store
    app.registry = register_listeners(
        app,
        sessions=sessions,
        update_every=settings.update_every_seconds,
        spool=app.spool,
        cipher=TokenCipher(settings.encryption_keys()),
    )
    return app
