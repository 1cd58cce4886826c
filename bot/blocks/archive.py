"""`/okr archive`: the question asked before anything is archived."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks.ids import Action, Block
from bot.blocks.text import escape, plain, section


@dataclass(frozen=True)
class Archivable:
    ref: str
    title: str


def archive_question_text(item: Archivable) -> str:
    return f"Archive {item.ref}?"


def build_archive_question(item: Archivable) -> list[dict[str, Any]]:
    question = (
        f"Archive *{item.ref}* {escape(item.title)}? It leaves lists and check-in prompts; its "
        "history stays and nothing is deleted."
    )
    buttons = {
        "type": "actions",
        "block_id": Block.ARCHIVE,
        "elements": [
            {
                "type": "button",
                "action_id": Action.ARCHIVE_CONFIRM,
                "style": "danger",
                "value": item.ref,
                "text": plain(f"Archive {item.ref}"),
            },
            {
                "type": "button",
                "action_id": Action.ARCHIVE_CANCEL,
                "value": item.ref,
                "text": plain("Keep it"),
            },
        ],
    }
    return [section(question), buttons]
