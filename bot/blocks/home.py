"""The App Home tab."""

from __future__ import annotations

from typing import Any

from bot.blocks.help import INTRO
from bot.blocks.text import header, section


def build_home_view(*, person_name: str | None = None) -> dict[str, Any]:
    greeting = f"Welcome, {person_name}" if person_name else "Welcome"
    return {
        "type": "home",
        "blocks": [
            header(greeting),  # plain_text: a name cannot ping anyone
            section(INTRO),
            section("Type `/okr help` in any channel to see what you can do."),
        ],
    }
