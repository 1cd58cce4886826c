"""Settings: URL forms, what each mode needs, secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, Mode, database_urls, load_settings


@pytest.mark.parametrize(
    ("raw", "async_url", "sync_url"),
    [
        (
            "postgres://u:p@db:5432/okr",
            "postgresql+psycopg://u:***@db:5432/okr",
            "postgresql+psycopg://u:***@db:5432/okr",
        ),
        ("postgresql://u@db/okr", "postgresql+psycopg://u@db/okr", "postgresql+psycopg://u@db/okr"),
        (
            "postgresql+psycopg://u@db/okr",
            "postgresql+psycopg://u@db/okr",
            "postgresql+psycopg://u@db/okr",
        ),
        ("sqlite:///var/okr.db", "sqlite+aiosqlite:///var/okr.db", "sqlite+pysqlite:///var/okr.db"),
        (
            "sqlite+aiosqlite:////tmp/a.db",
            "sqlite+aiosqlite:////tmp/a.db",
            "sqlite+pysqlite:////tmp/a.db",
        ),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db", "sqlite+pysqlite:///x.db"),
    ],
)
def test_database_url_forms(raw: str, async_url: str, sync_url: str) -> None:
    urls = database_urls(raw)
    assert str(urls.async_url) == async_url
    assert str(urls.sync_url) == sync_url


@pytest.mark.parametrize(
    "raw", ["nonsense", "mysql://u@h/db", "postgresql+psycopg2://u@h/db", "sqlite://", ""]
)
def test_other_database_urls_are_one_clear_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="^DATABASE_URL "):
        load_settings(database_url=raw)


@pytest.mark.parametrize(
    ("fields", "mode", "message"),
    [
        ({}, Mode.SERVE, "SLACK_BOT_TOKEN is required"),
        ({"slack_bot_token": "xoxb-1"}, Mode.SERVE, "SLACK_SIGNING_SECRET is required"),
        ({"slack_bot_token": "xoxb-1"}, Mode.SOCKET, "SLACK_APP_TOKEN"),
        ({"slack_client_id": "1.2"}, Mode.SERVE, "SLACK_CLIENT_SECRET is required"),
        (
            {"slack_client_id": "1.2", "slack_client_secret": "s"},
            Mode.OFFLINE,
            "TOKEN_ENCRYPTION_KEY is required",
        ),
    ],
)
def test_each_mode_names_what_is_missing(fields: dict[str, str], mode: Mode, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**fields).require(mode)


def test_complete_settings_pass() -> None:
    load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s").require(Mode.SERVE)
    load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1").require(
        Mode.SOCKET
    )  # no signing secret
    load_settings(
        slack_client_id="1.2",
        slack_client_secret="s",
        slack_signing_secret="s",
        token_encryption_key=Fernet.generate_key().decode(),
    ).require(Mode.SERVE)
    load_settings().require(Mode.OFFLINE)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slack_bot_token": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"slack_app_token": "xoxb-1"}, "SLACK_APP_TOKEN must be an app-level token"),
        (
            {"token_encryption_key": "short"},
            "TOKEN_ENCRYPTION_KEY must be comma-separated Fernet keys",
        ),
        ({"default_timezone": "Mars/Olympus"}, "DEFAULT_TIMEZONE must be an IANA time zone"),
        ({"port": "eighty"}, "PORT is invalid"),
        ({"log_level": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"slack_api_url": "slack.com/api"}, "SLACK_API_URL must be an http"),
    ],
)
def test_malformed_settings_name_the_variable(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**fields)


def test_secrets_never_print() -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(
        slack_bot_token="xoxb-very-secret",
        slack_signing_secret="signing-very-secret",
        token_encryption_key=key,
        database_url="postgresql://okr:db-very-secret@db/okr",
    )
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("xoxb-very-secret", "signing-very-secret", key, "db-very-secret"):
        assert secret not in shown
        assert secret in settings.secret_values()  # so the log redactor masks it too
    assert settings.slack_api_url == "https://slack.com/api/"


def test_blank_values_count_as_unset_and_env_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\nSLACK_APP_TOKEN=\nPORT=4000\n"
    )
    settings = load_settings(_env_file=".env")  # the test suite switches .env off elsewhere
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-dotenv"
    assert settings.slack_app_token is None and settings.port == 4000


def test_several_encryption_keys() -> None:
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings = load_settings(token_encryption_key=" , ".join(keys))
    assert [k.decode() for k in settings.encryption_keys()] == keys


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://okr:s3cr3t-pw@db.internal:notaport/okr",
        "mysql://okr:s3cr3t-pw@db/okr",
        "okr:s3cr3t-pw@db.internal://okr",
        "s3cr3t-pw",
    ],
)
def test_a_bad_database_url_never_prints_its_password(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_urls(raw)
    assert "s3cr3t" not in str(caught.value) and str(caught.value).startswith("DATABASE_URL ")


def test_a_request_waits_for_a_postgres_connection_less_than_slacks_ack_window() -> None:
    """A busy pool must fail fast enough for the answer ("try again") to reach Slack in 3 s."""
    from bot.app import build_app

    settings = load_settings(
        slack_bot_token="xoxb-1",
        slack_signing_secret="s",
        database_url="postgresql://u@127.0.0.1:1/none",  # never connected to here
    )
    app = build_app(settings)
    assert settings.db_pool_timeout_seconds < 3
    assert app.engine.sync_engine.pool.timeout() == settings.db_pool_timeout_seconds
