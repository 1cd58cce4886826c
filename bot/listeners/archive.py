"""`/okr archive O7|KR12`: asks first, archives on the button (permission checked then)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.archive import archive_question_text, build_archive_question
from bot.blocks.help import CommandHelp
from bot.blocks.ids import Action
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.services import archiving
from bot.services.errors import DomainError, Invalid

ARCHIVE_HELP = (
    CommandHelp("/okr archive O7|KR12", "retire an objective or key result (kept, not deleted)"),
)


async def run_archive(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{ARCHIVE_HELP[0].usage}`.")
    actor = await call.actor()
    item = await archiving.to_archive(call.sessions, actor=actor, ref=call.args[0])
    await call.reply(archive_question_text(item), build_archive_question(item))


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_confirm(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        ref = str(body["actions"][0]["value"])
        try:
            actor = await actor_of(sessions, client, body)
            done = await archiving.archive(sessions, actor=actor, ref=ref)
        except DomainError as exc:
            await respond(replace_original=True, text=str(exc))
            return
        refresh_home_soon(sessions, client, actor)
        await respond(replace_original=True, text=f"{done} is archived. Its history stays.")

    async def on_cancel(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text=f"{body['actions'][0]['value']} stays as it is.")

    registry.action(Action.ARCHIVE_CONFIRM, on_confirm)
    registry.action(Action.ARCHIVE_CANCEL, on_cancel)
