"""The `/okr` slash command: parse the first word, run its subcommand, answer through the
ack body. A domain error's message is the answer; nothing is changed then."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import (
    CommandHelp,
    build_help,
    build_unknown_command,
    help_text,
    unknown_command_text,
)
from bot.blocks.text import unescape
from bot.listeners import (
    archive,
    away_commands,
    checkin_commands,
    cycle_commands,
    digest_commands,
    edit_modals,
    grading,
    okr_commands,
    okr_modals,
    report_commands,
    settings_modal,
    source_commands,
    team_commands,
)
from bot.listeners.command_call import CommandCall, Run
from bot.listeners.registry import ListenerRegistry
from bot.services.errors import DomainError
from bot.services.inputs import CONTROL_CHARACTERS
from bot.slack.tokens import TokenCipher

log = logging.getLogger(__name__)

SLASH_COMMAND = "/okr"


@dataclass(frozen=True)
class Subcommand:
    word: str
    usages: tuple[CommandHelp, ...]
    run: Run


async def _help(call: CommandCall) -> None:
    listed = [usage for sub in SUBCOMMANDS.values() for usage in sub.usages]
    await call.ack(response_type="ephemeral", text=help_text(listed), blocks=build_help(listed))


SUBCOMMANDS: dict[str, Subcommand] = {
    sub.word: sub
    for sub in (
        Subcommand("help", (CommandHelp("/okr help", "this list of commands"),), _help),
        Subcommand("new", okr_modals.NEW_HELP, okr_modals.run_new),
        Subcommand("kr", okr_modals.KR_HELP, okr_modals.run_kr),
        Subcommand("mine", okr_commands.LIST_HELP[:1], okr_commands.run_mine),
        Subcommand("company", okr_commands.LIST_HELP[1:2], okr_commands.run_company),
        Subcommand("tree", okr_commands.LIST_HELP[2:], okr_commands.run_tree),
        Subcommand("show", okr_commands.SHOW_HELP, okr_commands.run_show),
        Subcommand("checkin", checkin_commands.CHECKIN_HELP, checkin_commands.run_checkin),
        Subcommand("update", checkin_commands.UPDATE_HELP, checkin_commands.run_update),
        Subcommand("align", okr_commands.ALIGN_HELP[:1], okr_commands.run_align),
        Subcommand("unalign", okr_commands.ALIGN_HELP[1:], okr_commands.run_unalign),
        Subcommand("edit", edit_modals.EDIT_HELP, edit_modals.run_edit),
        Subcommand("share", okr_commands.SHARE_HELP, okr_commands.run_share),
        Subcommand("archive", archive.ARCHIVE_HELP, archive.run_archive),
        Subcommand("team", team_commands.TEAM_HELP, team_commands.run_team),
        Subcommand("away", away_commands.AWAY_HELP, away_commands.run_away),
        Subcommand("digest", digest_commands.DIGEST_HELP, digest_commands.run_digest),
        Subcommand("cycle", cycle_commands.CYCLE_HELP, cycle_commands.run_cycle),
        Subcommand("settings", settings_modal.SETTINGS_HELP, settings_modal.run_settings),
        Subcommand("facilitator", cycle_commands.FACILITATOR_HELP, cycle_commands.run_facilitator),
        Subcommand("report", report_commands.REPORT_HELP, report_commands.run_report),
        Subcommand("grade", grading.GRADE_HELP, grading.run_grade),
        Subcommand("source", source_commands.SOURCE_HELP, source_commands.run_source),
        Subcommand("refresh", source_commands.REFRESH_HELP, source_commands.run_refresh),
        Subcommand("token", source_commands.TOKEN_HELP, source_commands.run_token),
    )
}


def suggest(word: str) -> str | None:
    """The closest known subcommand to a mistyped word, if any is close."""
    matches = difflib.get_close_matches(word, list(SUBCOMMANDS), n=1, cutoff=0.6)
    return matches[0] if matches else None


def make_handler(
    sessions: async_sessionmaker[AsyncSession], cipher: TokenCipher | None = None
) -> Callable[..., Awaitable[None]]:
    async def handle_okr(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        # Control characters (a NUL cannot even be stored in PostgreSQL text) are spaces here.
        words = CONTROL_CHARACTERS.sub(" ", unescape(str(command.get("text") or ""))).split()
        call = CommandCall(ack, command, words[1:], client, sessions, respond=respond)
        if cipher is not None:
            call.cipher = cipher
        if not words:
            await _help(call)
            return
        subcommand = SUBCOMMANDS.get(words[0].lower())
        if subcommand is None:
            await ack(
                response_type="ephemeral",
                text=unknown_command_text(words[0]),
                blocks=build_unknown_command(words[0], suggest(words[0].lower())),
            )
            return
        try:
            await subcommand.run(call)
        except DomainError as exc:
            if call.answered:  # the change was made and answered; a later step failed
                log.warning("error after answering", extra={"error_type": type(exc).__name__})
                return
            await call.reply(str(exc))

    return handle_okr


def register(
    registry: ListenerRegistry,
    *,
    sessions: async_sessionmaker[AsyncSession],
    cipher: TokenCipher | None = None,
) -> None:
    registry.command(SLASH_COMMAND, ack=make_handler(sessions, cipher))
