"""The team setup modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import time
from typing import Any

from bot.blocks.modals import input_block, option
from bot.blocks.text import context, plain

TEAM_CALLBACK = "team_setup"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def build_team_modal(
    *,
    channel_id: str | None,
    name: str,
    lead_slack_id: str,
    member_slack_ids: Sequence[str],
    teams: Sequence[tuple[int, str]],
    parent_team_id: int | None,
    weekday: int,
    local_time: time,
    timezone: str,
    digest_delay_hours: float,
    reminder_delay_hours: float,
    anonymous_retros: bool,
    editing: bool,
) -> dict[str, Any]:
    days = [option(str(i), day) for i, day in enumerate(WEEKDAYS)]
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel["initial_conversation"] = channel_id
    members: dict[str, Any] = {"type": "multi_users_select", "action_id": "members"}
    if member_slack_ids:
        members["initial_users"] = list(member_slack_ids)
    anonymous = option("yes", "Retrospective answers are anonymous")
    retros: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "anonymous",
        "options": [anonymous],
    }
    if anonymous_retros:
        retros["initial_options"] = [anonymous]
    blocks: list[dict[str, Any]] = [
        context("The team checks in every week in its channel; each owner also gets a DM."),
        input_block(
            "name",
            "Team name",
            {
                "type": "plain_text_input",
                "action_id": "name",
                "max_length": 80,
                "initial_value": name,
            },
        ),
        input_block("channel", "Channel", channel, hint="Check-ins and digests go here."),
        input_block(
            "lead",
            "Lead",
            {"type": "users_select", "action_id": "lead", "initial_user": lead_slack_id},
        ),
        input_block("members", "Members", members, optional=True),
    ]
    parents = [option(str(i), n) for i, n in teams[:100]]
    if parents:
        parent: dict[str, Any] = {
            "type": "static_select",
            "action_id": "parent",
            "options": parents,
        }
        chosen = [o for o in parents if o["value"] == str(parent_team_id)]
        if chosen:
            parent["initial_option"] = chosen[0]
        blocks.append(input_block("parent", "Part of", parent, optional=True))
    blocks += [
        input_block(
            "weekday",
            "Check-in day",
            {
                "type": "static_select",
                "action_id": "weekday",
                "options": days,
                "initial_option": days[weekday],
            },
        ),
        input_block(
            "time",
            "Check-in time",
            {
                "type": "timepicker",
                "action_id": "time",
                "initial_time": local_time.strftime("%H:%M"),
            },
        ),
        input_block(
            "timezone",
            "Time zone",
            {
                "type": "plain_text_input",
                "action_id": "timezone",
                "max_length": 64,
                "initial_value": timezone,
            },
            hint="IANA name, like Europe/Berlin",
        ),
        input_block(
            "reminder",
            "Reminder after (hours)",
            {
                "type": "plain_text_input",
                "action_id": "reminder",
                "max_length": 6,
                "initial_value": f"{reminder_delay_hours:g}",
            },
        ),
        input_block(
            "digest",
            "Digest after (hours)",
            {
                "type": "plain_text_input",
                "action_id": "digest",
                "max_length": 6,
                "initial_value": f"{digest_delay_hours:g}",
            },
        ),
        input_block("anonymous", "Retrospective", retros, optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": TEAM_CALLBACK,
        "title": plain("Team setup" if not editing else "Change team"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": blocks,
    }
