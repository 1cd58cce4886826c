"""The team setup modal, and what it says once saved."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.blocks.ids import Callback, Field
from bot.blocks.modals import build_done_modal, input_block, option
from bot.blocks.text import context, escape, plain
from bot.okr.numbers import format_number

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class TeamForm:
    """The setup modal's fields: the channel's team as it is, or defaults for a new one."""

    channel_id: str | None
    name: str
    lead_slack_id: str
    member_slack_ids: Sequence[str]
    teams: Sequence[tuple[int, str]]  # the teams it may be part of
    parent_team_id: int | None
    weekday: int
    local_time: time
    timezone: str
    digest_delay_hours: float
    reminder_delay_hours: float
    anonymous_retros: bool
    editing: bool


def build_team_modal(form: TeamForm) -> dict[str, Any]:
    channel_id, name, lead_slack_id = form.channel_id, form.name, form.lead_slack_id
    member_slack_ids, teams, parent_team_id = form.member_slack_ids, form.teams, form.parent_team_id
    weekday, local_time, timezone = form.weekday, form.local_time, form.timezone
    digest_delay_hours, reminder_delay_hours = form.digest_delay_hours, form.reminder_delay_hours
    anonymous_retros, editing = form.anonymous_retros, form.editing
    days = [option(str(i), day) for i, day in enumerate(WEEKDAYS)]
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": Field.CHANNEL,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel["initial_conversation"] = channel_id
    members: dict[str, Any] = {"type": "multi_users_select", "action_id": Field.MEMBERS}
    if member_slack_ids:
        members["initial_users"] = list(member_slack_ids)
    anonymous = option("yes", "Retrospective answers are anonymous")
    retros: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": Field.ANONYMOUS,
        "options": [anonymous],
    }
    if anonymous_retros:
        retros["initial_options"] = [anonymous]
    blocks: list[dict[str, Any]] = [
        context("The team checks in every week in its channel; each owner also gets a DM."),
        input_block(
            Field.NAME,
            "Team name",
            {
                "type": "plain_text_input",
                "action_id": Field.NAME,
                "max_length": 80,
                "initial_value": name,
            },
        ),
        input_block(Field.CHANNEL, "Channel", channel, hint="Check-ins and digests go here."),
        input_block(
            Field.LEAD,
            "Lead",
            {"type": "users_select", "action_id": Field.LEAD, "initial_user": lead_slack_id},
        ),
        input_block(Field.MEMBERS, "Members", members, optional=True),
    ]
    parents = [option(str(i), n) for i, n in teams[:100]]
    if parents:
        parent: dict[str, Any] = {
            "type": "static_select",
            "action_id": Field.PARENT,
            "options": parents,
        }
        chosen = [o for o in parents if o["value"] == str(parent_team_id)]
        if chosen:
            parent["initial_option"] = chosen[0]
        blocks.append(input_block(Field.PARENT, "Part of", parent, optional=True))
    blocks += [
        input_block(
            Field.WEEKDAY,
            "Check-in day",
            {
                "type": "static_select",
                "action_id": Field.WEEKDAY,
                "options": days,
                "initial_option": days[weekday],
            },
        ),
        input_block(
            Field.TIME,
            "Check-in time",
            {
                "type": "timepicker",
                "action_id": Field.TIME,
                "initial_time": local_time.strftime("%H:%M"),
            },
        ),
        input_block(
            Field.TIMEZONE,
            "Time zone",
            {
                "type": "plain_text_input",
                "action_id": Field.TIMEZONE,
                "max_length": 64,
                "initial_value": timezone,
            },
            hint="IANA name, like Europe/Berlin",
        ),
        input_block(
            Field.REMINDER,
            "Reminder after (hours)",
            {
                "type": "plain_text_input",
                "action_id": Field.REMINDER,
                "max_length": 12,
                "initial_value": _hours(reminder_delay_hours),
            },
        ),
        input_block(
            Field.DIGEST,
            "Digest after (hours)",
            {
                "type": "plain_text_input",
                "action_id": Field.DIGEST,
                "max_length": 12,
                "initial_value": _hours(digest_delay_hours),
            },
        ),
        input_block(Field.ANONYMOUS, "Retrospective", retros, optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": Callback.TEAM_SETUP,
        "title": plain("Team setup" if not editing else "Change team"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": blocks,
    }


def build_team_saved(
    *,
    name: str,
    created: bool,
    channel_id: str,
    weekday: int,
    local_time: time,
    timezone: str,
) -> dict[str, Any]:
    when = f"{WEEKDAYS[weekday]}s at {local_time:%H:%M} ({escape(timezone)})"
    verb = "is set up" if created else "is updated"
    return build_done_modal(
        "Team saved", f"*{escape(name)}* {verb}: check-ins {when} in <#{channel_id}>."
    )


def _hours(hours: float) -> str:
    """Hours as the form shows them: whole minutes are stored, so four places read back as
    the same minutes (1 minute shows as 0.0167)."""
    return format_number(round(hours, 4))
