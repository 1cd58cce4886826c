"""`/okr settings`: the workspace's time zone, company channel and default check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.blocks.ids import Callback, Field
from bot.blocks.modals import build_done_modal, option
from bot.blocks.team_modal import WEEKDAYS
from bot.blocks.text import context, escape, plain

TITLE = "OKR settings"


@dataclass(frozen=True)
class WorkspaceSettings:
    timezone: str
    company_channel: str | None
    checkin_weekday: int
    checkin_time: time


def build_settings_modal(current: WorkspaceSettings) -> dict[str, Any]:
    days = [option(str(i), d) for i, d in enumerate(WEEKDAYS)]
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": Field.CHANNEL,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if current.company_channel:
        channel["initial_conversation"] = current.company_channel
    return {
        "type": "modal",
        "callback_id": Callback.SETTINGS,
        "title": plain(TITLE),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            context("Teams without a schedule of their own check in on the default day."),
            {
                "type": "input",
                "block_id": Field.TIMEZONE,
                "label": plain("Workspace time zone"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": Field.TIMEZONE,
                    "max_length": 64,
                    "initial_value": current.timezone,
                },
            },
            {
                "type": "input",
                "block_id": Field.CHANNEL,
                "label": plain("Company channel"),
                "optional": True,
                "element": channel,
                "hint": plain("Company digests and the retrospective summary go here."),
            },
            {
                "type": "input",
                "block_id": Field.WEEKDAY,
                "label": plain("Default check-in day"),
                "element": {
                    "type": "static_select",
                    "action_id": Field.WEEKDAY,
                    "options": days,
                    "initial_option": days[current.checkin_weekday],
                },
            },
            {
                "type": "input",
                "block_id": Field.TIME,
                "label": plain("Default check-in time"),
                "element": {
                    "type": "timepicker",
                    "action_id": Field.TIME,
                    "initial_time": current.checkin_time.strftime("%H:%M"),
                },
            },
        ],
    }


def build_settings_saved(saved: WorkspaceSettings) -> dict[str, Any]:
    channel = f"<#{saved.company_channel}>" if saved.company_channel else "none"
    summary = (
        f"Saved. Time zone {escape(saved.timezone)}; company channel {channel}; default "
        f"check-in {WEEKDAYS[saved.checkin_weekday]}s at {saved.checkin_time:%H:%M}."
    )
    return build_done_modal(TITLE, summary)
