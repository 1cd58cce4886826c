"""The `/okr` slash command: parse the first word, answer through the ack body."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks.help import (
    CommandHelp,
    build_help,
    build_unknown_command,
    help_text,
    unknown_command_text,
)
from bot.blocks.text import unescape
from bot.listeners.registry import ListenerRegistry

SLASH_COMMAND = "/okr"

Reply = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    word: str
    usage: str
    summary: str
    run: Callable[[AsyncAck, dict[str, Any], list[str]], Awaitable[None]]


async def _help(ack: AsyncAck, _command: dict[str, Any], _args: list[str]) -> None:
    listed = [CommandHelp(usage=s.usage, summary=s.summary) for s in SUBCOMMANDS.values()]
    await ack(response_type="ephemeral", text=help_text(listed), blocks=build_help(listed))


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": Subcommand("help", "/okr help", "this list of commands", _help),
}


def suggest(word: str) -> str | None:
    """The closest known subcommand to a mistyped word, if any is close."""
    matches = difflib.get_close_matches(word, list(SUBCOMMANDS), n=1, cutoff=0.6)
    return matches[0] if matches else None


async def handle_okr(ack: AsyncAck, command: dict[str, Any]) -> None:
    words = unescape(str(command.get("text") or "")).split()
    if not words:
        await _help(ack, command, [])
        return
    word = words[0].lower()
    subcommand = SUBCOMMANDS.get(word)
    if subcommand is None:
        await ack(
            response_type="ephemeral",
            text=unknown_command_text(words[0]),
            blocks=build_unknown_command(words[0], suggest(word)),
        )
        return
    await subcommand.run(ack, command, words[1:])


def register(registry: ListenerRegistry) -> None:
    registry.command(SLASH_COMMAND, ack=handle_okr)
