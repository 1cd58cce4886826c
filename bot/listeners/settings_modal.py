"""`/okr settings`: the workspace's time zone, company channel and default check-in."""

from __future__ import annotations

from datetime import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.help import CommandHelp
from bot.blocks.ids import Callback, Field
from bot.blocks.settings_modal import (
    WorkspaceSettings,
    build_settings_modal,
    build_settings_saved,
)
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, field_errors
from bot.okr.cycle_end import GRADING_DAYS, GRADING_DAYS_MAX
from bot.okr.schedule import DEFAULT_CHECKIN_TIME
from bot.services import settings
from bot.services.errors import DomainError, Invalid

SETTINGS_HELP = (CommandHelp("/okr settings", "time zone, company channel, default check-in"),)


async def run_settings(call: CommandCall) -> None:
    actor = await call.actor()
    now = await settings.for_editing(call.sessions, actor=actor)
    await call.open_modal(build_settings_modal(now))


def _wanted(values: dict[str, Any]) -> WorkspaceSettings:
    try:
        at = time.fromisoformat(entered(values, Field.TIME) or DEFAULT_CHECKIN_TIME.isoformat())
    except ValueError:
        raise Invalid("Pick a time like 10:00.", field=Field.TIME) from None
    return WorkspaceSettings(
        (entered(values, Field.TIMEZONE) or "").strip(),
        entered(values, Field.CHANNEL),
        int(entered(values, Field.WEEKDAY) or 0),
        at,
        _days(values, Field.GRADING_DAYS) or GRADING_DAYS,
        _days(values, Field.RETRO_DAYS),
        _company_day(values),
        _company_time(values),
    )


def _company_day(values: dict[str, Any]) -> int | None:
    chosen = entered(values, Field.COMPANY_DAY)
    if chosen is None or chosen == "":
        return None
    if not (chosen.isascii() and chosen.isdigit()) or not 0 <= int(chosen) <= 6:
        raise Invalid("Pick a weekday, or leave it empty.", field=Field.COMPANY_DAY)
    return int(chosen)


def _company_time(values: dict[str, Any]) -> time | None:
    chosen = entered(values, Field.COMPANY_TIME)
    if not chosen:
        return None
    try:
        return time.fromisoformat(chosen)
    except ValueError:
        raise Invalid(
            "Pick a time like 16:00, or leave it empty.", field=Field.COMPANY_TIME
        ) from None


def _days(values: dict[str, Any], field: Field) -> int | None:
    typed = entered(values, field)
    if typed is None:
        return None
    if (
        not (typed.strip().isascii() and typed.strip().isdigit())
        or not 1 <= int(typed) <= GRADING_DAYS_MAX
    ):
        raise Invalid(f"A number of days from 1 to {GRADING_DAYS_MAX}.", field=field)
    return int(typed)


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_save(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            actor = await actor_of(sessions, client, body)
            wanted = _wanted(body["view"]["state"]["values"])
            saved = await settings.save(sessions, actor=actor, wanted=wanted)
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], Field.TIMEZONE))
            return
        await ack(response_action="update", view=build_settings_saved(saved))

    registry.view(Callback.SETTINGS, on_save)
