"""`/okr settings`: the workspace's time zone, company channel and default check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.blocks.ids import Callback, Field
from bot.blocks.modals import build_done_modal, option
from bot.blocks.team_modal import WEEKDAYS
from bot.blocks.text import context, escape, plain
from bot.okr.cycle_end import GRADING_DAYS, GRADING_DAYS_MAX
from bot.okr.schedule import COMPANY_AT

TITLE = "OKR settings"


@dataclass(frozen=True)
class WorkspaceSettings:
    timezone: str
    company_channel: str | None
    checkin_weekday: int
    checkin_time: time
    grading_days: int = GRADING_DAYS  # cycle end: days to grade, from the cycle's end
    retro_days: int | None = None  # days the retrospective stays open; None: as grading
    # The company digest's weekday and time; None: the day after the default check-in, 10:00.
    company_weekday: int | None = None
    company_time: time | None = None


COMPANY_DEFAULT = "the day after the default check-in, 10:00"


def company_schedule_text(saved: WorkspaceSettings) -> str:
    day = (
        f"{WEEKDAYS[saved.company_weekday]}s"
        if saved.company_weekday is not None
        else "the day after the default check-in"
    )
    return f"{day} at {(saved.company_time or COMPANY_AT):%H:%M}"


def _days_input(block: str, label: str, initial: int | None, hint: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "number_input", "action_id": block,
                               "is_decimal_allowed": False, "min_value": "1",
                               "max_value": str(GRADING_DAYS_MAX)}  # fmt: skip
    if initial is not None:
        element["initial_value"] = str(initial)
    return {"type": "input", "block_id": block, "label": plain(label), "optional": True,
            "element": element, "hint": plain(hint)}  # fmt: skip


def _company_day(days: list[dict[str, Any]], weekday: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": Field.COMPANY_DAY,
        "options": days,
        "placeholder": plain("The day after check-in"),
    }
    if weekday is not None:
        element["initial_option"] = days[weekday]
    return {"type": "input", "block_id": Field.COMPANY_DAY, "optional": True,
            "label": plain("Company digest day"), "element": element,
            "hint": plain(f"Empty: {COMPANY_DEFAULT}.")}  # fmt: skip


def _company_time(at: time | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "timepicker", "action_id": Field.COMPANY_TIME}
    if at is not None:
        element["initial_time"] = at.strftime("%H:%M")
    return {"type": "input", "block_id": Field.COMPANY_TIME, "optional": True,
            "label": plain("Company digest time"), "element": element,
            "hint": plain("Empty: 10:00, workspace time.")}  # fmt: skip


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
            _company_day(days, current.company_weekday),
            _company_time(current.company_time),
            _days_input(
                Field.GRADING_DAYS,
                "Days to grade after a cycle ends",
                current.grading_days,
                f"Default {GRADING_DAYS}.",
            ),
            _days_input(
                Field.RETRO_DAYS,
                "Days the retrospective stays open",
                current.retro_days,
                "Empty: as long as grading.",
            ),
        ],
    }


def build_settings_saved(saved: WorkspaceSettings) -> dict[str, Any]:
    channel = f"<#{saved.company_channel}>" if saved.company_channel else "none"
    summary = (
        f"Saved. Time zone {escape(saved.timezone)}; company channel {channel}; default "
        f"check-in {WEEKDAYS[saved.checkin_weekday]}s at {saved.checkin_time:%H:%M}; "
        f"company digest {company_schedule_text(saved)}; "
        f"{saved.grading_days} days to grade, the retrospective open "
        f"{saved.retro_days or saved.grading_days} days."
    )
    return build_done_modal(TITLE, summary)
