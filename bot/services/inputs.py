"""Checks on what people type: lengths Slack can show, no control characters."""

from __future__ import annotations

import re

from bot.services.errors import Invalid

TITLE_MAX = 300
DESCRIPTION_MAX = 3000
NOTE_MAX = 2000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline


def clean_text(text: str, *, field: str, label: str, limit: int, required: bool = True) -> str:
    value = text.strip()
    if required and not value:
        raise Invalid(f"The {label} is empty: write one.", field=field)
    if CONTROL_CHARACTERS.search(value):
        raise Invalid(f"The {label} has control characters; type it as plain text.", field=field)
    if len(value) > limit:
        raise Invalid(f"The {label} has {len(value)} characters; keep it to {limit}.", field=field)
    return value
