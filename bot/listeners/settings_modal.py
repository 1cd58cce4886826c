"""`/okr settings`: the workspace's time zone, company channel and default check-in."""

from __future__ import annotations

from datetime import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import CommandHelp
from bot.blocks.modals import option
from bot.blocks.team_modal import WEEKDAYS
from bot.blocks.text import context, escape, plain, section
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, field_errors
from bot.services import settings
from bot.services.errors import DomainError, Invalid

SETTINGS_HELP = (CommandHelp("/okr settings", "time zone, company channel, default check-in"),)
SETTINGS_CALLBACK = "workspace_settings"


def build_settings_modal(current: settings.WorkspaceSettings) -> dict[str, Any]:
    days = [option(str(i), d) for i, d in enumerate(WEEKDAYS)]
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if current.company_channel:
        channel["initial_conversation"] = current.company_channel
    return {
        "type": "modal",
        "callback_id": SETTINGS_CALLBACK,
        "title": plain("OKR settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            context("Teams without a schedule of their own check in on the default day."),
            {
                "type": "input",
                "block_id": "timezone",
                "label": plain("Workspace time zone"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "timezone",
                    "max_length": 64,
                    "initial_value": current.timezone,
                },
            },
            {
                "type": "input",
                "block_id": "channel",
                "label": plain("Company channel"),
                "optional": True,
                "element": channel,
                "hint": plain("Company digests and the retrospective summary go here."),
            },
            {
                "type": "input",
                "block_id": "weekday",
                "label": plain("Default check-in day"),
                "element": {
                    "type": "static_select",
                    "action_id": "weekday",
                    "options": days,
                    "initial_option": days[current.checkin_weekday],
                },
            },
            {
                "type": "input",
                "block_id": "time",
                "label": plain("Default check-in time"),
                "element": {
                    "type": "timepicker",
                    "action_id": "time",
                    "initial_time": current.checkin_time.strftime("%H:%M"),
                },
            },
        ],
    }


async def run_settings(call: CommandCall) -> None:
    actor = await call.actor()
    settings.require_settings_access(actor)
    async with call.readers() as session:
        now = await settings.current(session, actor=actor)
    await call.open_modal(build_settings_modal(now))


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_save(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        try:
            actor = await actor_of(sessions, client, body)
            try:
                at = time.fromisoformat(entered(values, "time") or "10:00")
            except ValueError:
                raise Invalid("Pick a time like 10:00.", field="time") from None
            wanted = settings.WorkspaceSettings(
                (entered(values, "timezone") or "").strip(),
                entered(values, "channel"),
                int(entered(values, "weekday") or 0),
                at,
            )
            async with sessions.begin() as session:
                saved = await settings.save(session, actor=actor, wanted=wanted)
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], "timezone"))
            return
        channel = f"<#{saved.company_channel}>" if saved.company_channel else "none"
        summary = (
            f"Saved. Time zone {escape(saved.timezone)}; company channel {channel}; default "
            f"check-in {WEEKDAYS[saved.checkin_weekday]}s at {saved.checkin_time:%H:%M}."
        )
        await ack(
            response_action="update",
            view={
                "type": "modal",
                "title": plain("OKR settings"),
                "close": plain("Done"),
                "blocks": [section(summary)],
            },
        )

    registry.view(SETTINGS_CALLBACK, on_save)
