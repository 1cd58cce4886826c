"""The environment settings come from, and a clean one for subprocesses."""

from __future__ import annotations

import os

from bot.config import Settings

# Every setting's variable (pydantic-settings reads field names, case-insensitively), plus
# the clock offset the sandbox uses.
SETTINGS_ENV_VARS = tuple(name.upper() for name in Settings.model_fields) + (
    "OKR_CLOCK_OFFSET_SECONDS",
)


def clean_env(**values: str) -> dict[str, str]:
    """os.environ without any setting of ours, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV_VARS}
    env.update(values)
    return env
