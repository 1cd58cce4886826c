"""One place for configuration: environment variables and `.env`, validated once.

A missing or malformed setting becomes a `ConfigError` whose message names the variable;
the CLI prints that one line and exits with status 2.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.okr.period import known_zone
from bot.sources.safety import parse_allow_list

DEFAULT_DATABASE_URL = "sqlite:///var/okr.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

_ASYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+aiosqlite"}
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+pysqlite"}
_ACCEPTED_SCHEMES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "postgresql+psycopg": "postgresql",
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


class Mode(StrEnum):
    """How the process talks to Slack."""

    SERVE = "serve"  # HTTP request URLs, verified by the signing secret
    SOCKET = "socket"  # Socket Mode, app-level token
    OFFLINE = "offline"  # jobs and migrations: no inbound Slack traffic


@dataclass(frozen=True)
class DatabaseUrls:
    """The async URL the app uses and the sync URL Alembic uses, for one database."""

    dialect: str  # "postgresql" or "sqlite"
    async_url: URL
    sync_url: URL


def database_urls(raw: str) -> DatabaseUrls:
    """Normalise an accepted database URL into its async and sync driver forms."""
    text = raw.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    dialect = _ACCEPTED_SCHEMES.get(scheme)
    if dialect is None:  # never print the value: it may hold a password
        got = f"{scheme}://" if re.fullmatch(r"[a-z][a-z0-9+.-]{0,30}", scheme) else "no scheme"
        raise ConfigError(f"DATABASE_URL must start with postgresql:// or sqlite:/// (got {got})")
    try:
        url = make_url(text)
        url.port  # noqa: B018 - a port that is not a number fails here, not at connect
    except (ArgumentError, ValueError):
        raise ConfigError(
            "DATABASE_URL is not a valid database URL: write it like "
            "postgresql://user:password@host:5432/name (the value is not shown: it may hold "
            "a password)"
        ) from None
    if dialect == "sqlite" and url.database in (None, ""):
        raise ConfigError("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/okr.db")
    return DatabaseUrls(
        dialect=dialect,
        async_url=url.set(drivername=_ASYNC_DRIVERS[dialect]),
        sync_url=url.set(drivername=_SYNC_DRIVERS[dialect]),
    )


class Settings(BaseSettings):
    """Every setting the bot reads. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)  # may hold a password
    token_encryption_key: SecretStr | None = None
    default_timezone: str = "UTC"
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"
    # `python -m bot serve` on several processes sharing PORT (use the cores the host has).
    web_concurrency: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    # Timeouts and intervals: real defaults, small in tests.
    slack_http_timeout_seconds: float = Field(default=10.0, gt=0)
    clock_tick_seconds: float = Field(default=60.0, gt=0)
    lock_poll_seconds: float = Field(default=15.0, gt=0)
    inbox_retry_seconds: float = Field(default=60.0, gt=0)
    # The outbox: who sends (the clock itself, or `python -m bot worker`), how fast, and how
    # long a claimed row stays leased before another sender treats its outcome as unknown.
    outbox_sender: Literal["clock", "worker"] = "clock"
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    outbox_messages_per_minute: float = Field(default=240.0, gt=0)
    outbox_concurrency: int = Field(default=8, ge=1, le=64)
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    update_every_seconds: float = Field(default=30.0, ge=0)
    db_busy_timeout_seconds: float = Field(default=15.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)  # under Slack's 3 s ack window
    # Events the database cannot take wait here (a persistent disk), drained every few seconds.
    spool_path: Path = Path("var/spool/slack-events.jsonl")
    spool_drain_seconds: float = Field(default=5.0, gt=0)
    # Metric sources (pulls): addresses a source may reach besides public ones, and the pull
    # runner's own limits (not Slack's: a slow source never holds a message back).
    metric_source_allow: str = ""
    metric_pull_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    metric_pull_max_bytes: int = Field(default=1_000_000, ge=1_000, le=50_000_000)
    metric_pull_concurrency: int = Field(default=16, ge=1, le=256)
    # The push API: requests a token may make a minute (counted in the database).
    api_requests_per_minute: int = Field(default=60, ge=1, le=100_000)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_secret",
        "token_encryption_key",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_client_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: SecretStr) -> SecretStr:
        try:
            database_urls(value.get_secret_value())
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("DATABASE_URL ")) from None
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        if known_zone(value) is None:
            raise ValueError("must be an IANA time zone such as Europe/Berlin")
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        for key in value.get_secret_value().split(","):
            try:
                Fernet(key.strip().encode())
            except (ValueError, TypeError):
                raise ValueError(
                    "must be comma-separated Fernet keys (make one with "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`)"
                ) from None
        return value

    @field_validator("metric_source_allow")
    @classmethod
    def _allow_list_shape(cls, value: str) -> str:
        parse_allow_list(value)  # raises ValueError naming the first bad entry
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level_name(cls, value: str) -> str:
        name = value.upper()
        if name not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return name

    # --- derived ---------------------------------------------------------------------------

    @property
    def database(self) -> DatabaseUrls:
        return database_urls(self.database_url.get_secret_value())

    @property
    def metric_source_networks(self) -> tuple[Any, ...]:
        """`METRIC_SOURCE_ALLOW` read as networks (`bot.sources.safety.AddressPolicy`)."""
        return parse_allow_list(self.metric_source_allow)

    @property
    def oauth_enabled(self) -> bool:
        return self.slack_client_id is not None

    @property
    def slack_configured(self) -> bool:
        """True when any way of reaching Slack is set (otherwise `make run` needs the sandbox)."""
        return any(
            (self.slack_bot_token, self.slack_app_token, self.slack_client_id),
        )

    def encryption_keys(self) -> list[bytes]:
        if self.token_encryption_key is None:
            return []
        raw = self.token_encryption_key.get_secret_value()
        return [key.strip().encode() for key in raw.split(",") if key.strip()]

    def require(self, mode: Mode) -> None:
        """Check what `mode` needs; raise `ConfigError` naming the first missing variable."""
        if self.oauth_enabled:
            if self.slack_client_secret is None:
                raise ConfigError("SLACK_CLIENT_SECRET is required when SLACK_CLIENT_ID is set")
            if self.token_encryption_key is None:
                raise ConfigError(
                    "TOKEN_ENCRYPTION_KEY is required when SLACK_CLIENT_ID is set "
                    "(tokens of installed workspaces are stored encrypted)"
                )
        if mode is Mode.OFFLINE:
            return
        if not self.oauth_enabled and self.slack_bot_token is None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is required (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "for installs into many workspaces)"
            )
        if mode is Mode.SERVE and self.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is required to serve Slack requests over HTTP "
                "(or set SLACK_APP_TOKEN to use Socket Mode)"
            )
        if mode is Mode.SOCKET and self.slack_app_token is None:
            raise ConfigError("SLACK_APP_TOKEN (xapp-...) is required for Socket Mode")

    def secret_values(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        secrets = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None]
        values.extend(key.decode() for key in self.encryption_keys())
        password = self.database.sync_url.password
        if password:
            values.append(str(password))
        return [v for v in values if v]


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and `.env`), turning errors into `ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        if not message.startswith("must "):
            message = f"is invalid: {message[:1].lower()}{message[1:]}"
        raise ConfigError(f"{field.upper()} {message}") from None


def project_root() -> Path:
    """The checkout the package runs from (where alembic.ini and migrations/ live)."""
    return Path(os.environ.get("OKR_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
