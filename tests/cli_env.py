"""The environment settings come from, and a clean one for subprocesses."""

from __future__ import annotations

import os

SETTINGS_ENV_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "TOKEN_ENCRYPTION_KEY",
    "DATABASE_URL",
    "SLACK_API_URL",
    "PORT",
)


def clean_env(**values: str) -> dict[str, str]:
    """os.environ without any setting of ours, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV_VARS}
    env.update(values)
    return env
