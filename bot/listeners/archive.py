"""`/okr archive O7|KR12`: asks first, archives on the button (permission checked then)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import CommandHelp
from bot.blocks.text import escape, plain, section
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.home_refresh import refresh_home_soon
from bot.listeners.registry import ListenerRegistry
from bot.models import KeyResult, Objective
from bot.services import key_results, objectives
from bot.services.errors import DomainError, Invalid
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref

ARCHIVE_HELP = (
    CommandHelp("/okr archive O7|KR12", "retire an objective or key result (kept, not deleted)"),
)
CONFIRM, CANCEL = "okr.archive.confirm", "okr.archive.cancel"


async def run_archive(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{ARCHIVE_HELP[0].usage}`.")
    actor = await call.actor()
    async with call.readers() as session:
        ref = call.args[0].strip().upper()
        thing: KeyResult | Objective
        if ref.startswith("KR"):
            thing = await key_result_by_ref(session, actor=actor, ref=ref)
        else:
            thing = await objective_by_ref(session, actor=actor, ref=ref)
        ref, title = thing.ref, thing.title
    question = (
        f"Archive *{ref}* {escape(title)}? It leaves lists and check-in prompts; its history "
        "stays and nothing is deleted."
    )
    buttons = {
        "type": "actions",
        "block_id": "archive",
        "elements": [
            {
                "type": "button",
                "action_id": CONFIRM,
                "style": "danger",
                "value": ref,
                "text": plain(f"Archive {ref}"),
            },
            {"type": "button", "action_id": CANCEL, "value": ref, "text": plain("Keep it")},
        ],
    }
    await call.reply(f"Archive {ref}?", [section(question), buttons])


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_confirm(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        ref = str(body["actions"][0]["value"])
        try:
            actor = await actor_of(sessions, client, body)
            async with sessions.begin() as session:
                if ref.startswith("KR"):
                    done = await key_results.archive_key_result(session, actor=actor, ref=ref)
                else:
                    done = await objectives.archive(session, actor=actor, ref=ref)
        except DomainError as exc:
            await respond(replace_original=True, text=str(exc))
            return
        refresh_home_soon(sessions, client, actor)
        await respond(replace_original=True, text=f"{done} is archived. Its history stays.")

    async def on_cancel(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text=f"{body['actions'][0]['value']} stays as it is.")

    registry.action(CONFIRM, on_confirm)
    registry.action(CANCEL, on_cancel)
