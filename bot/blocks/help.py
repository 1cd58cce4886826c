"""`/okr help`: what the bot is for and every command it understands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.text import context, escape, header, section


@dataclass(frozen=True)
class CommandHelp:
    usage: str  # e.g. "/okr help"
    summary: str


INTRO = (
    "*Objectives* say where you want to go: qualitative and inspiring. *Key results* say how "
    "you will know you got there: a number with a start, a target and an owner, by the end "
    "of the cycle. Every week each owner checks in with the current value and how confident "
    "they are; progress is shared openly in the team channel."
)


def build_help(commands: Sequence[CommandHelp]) -> list[dict[str, Any]]:
    lines = "\n".join(f"`{c.usage}` — {c.summary}" for c in commands)
    return [
        header("OKRs in Slack"),
        section(INTRO),
        section(f"*Commands*\n{lines}"),
        context("Refs like `O7` (an objective) and `KR12` (a key result) name OKRs in commands."),
    ]


def help_text(commands: Sequence[CommandHelp]) -> str:
    """The plain-text fallback of the help message (notifications, screen readers)."""
    return "OKR bot commands: " + ", ".join(c.usage for c in commands)


def build_unknown_command(word: str, suggestion: str | None) -> list[dict[str, Any]]:
    hint = f" Did you mean `/okr {suggestion}`?" if suggestion else ""
    return [
        section(
            f"I don't know the command `{escape(word)}`.{hint} Type `/okr help` to see them all."
        )
    ]


def unknown_command_text(word: str) -> str:
    """Fallback text for notifications; escaped like the blocks, since Slack renders it too."""
    return f"Unknown command `{escape(word)}`: type /okr help"
