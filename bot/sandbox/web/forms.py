"""What a person entered in a modal, as Slack puts it in `view.state.values`: the page sends
plain strings per input; the options, users and conversations are looked up in the view
the bot sent, so only what it offered can be chosen."""

from __future__ import annotations

import json
from typing import Any

MAX_FIELD = 3000  # Slack's own bound on a text input; the page sends no more


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += list(group.get("options") or [])
    return found


def _option(element: dict[str, Any], value: str) -> dict[str, Any] | None:
    for option in _options(element):
        if option.get("value") == value:
            return dict(option)
    return None


def _external(raw: str) -> dict[str, Any] | None:
    """An external_select's choice: the option the bot suggested, as the page kept it."""
    try:
        option = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(option, dict) or not isinstance(option.get("value"), str):
        return None
    return {
        "text": option.get("text") or {"type": "plain_text", "text": ""},
        "value": option["value"],
    }


def input_value(element: dict[str, Any], raw: list[str]) -> dict[str, Any]:
    """One input's entry in `state.values[block_id][action_id]`."""
    kind = str(element.get("type"))
    first = raw[0][:MAX_FIELD] if raw and raw[0] != "" else None
    entry: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        entry["value"] = first
    elif kind in ("static_select", "radio_buttons"):
        entry["selected_option"] = _option(element, first) if first else None
    elif kind == "external_select":
        entry["selected_option"] = _external(first) if first else None
    elif kind in ("multi_static_select", "checkboxes"):
        entry["selected_options"] = [o for v in raw if (o := _option(element, v)) is not None]
    elif kind == "multi_external_select":
        entry["selected_options"] = [o for v in raw if (o := _external(v)) is not None]
    elif kind == "users_select":
        entry["selected_user"] = first
    elif kind == "multi_users_select":
        entry["selected_users"] = [v for v in raw if v]
    elif kind == "conversations_select":
        entry["selected_conversation"] = first
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = [v for v in raw if v]
    elif kind == "channels_select":
        entry["selected_channel"] = first
    elif kind == "timepicker":
        entry["selected_time"] = first
    elif kind == "datepicker":
        entry["selected_date"] = first
    else:
        entry["value"] = first
    return entry


def state_values(view: dict[str, Any], entered: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """`entered[block_id]` -> the values of every input block of `view`, keyed as Slack does."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        values[block_id] = {action_id: input_value(element, entered.get(block_id) or [])}
    return values


def selected(element: dict[str, Any], raw: str) -> dict[str, Any]:
    """A choice made outside a form (a select in a message or App Home), as block_actions
    carries it."""
    kind = str(element.get("type"))
    if kind == "external_select":
        return {"type": kind, "selected_option": _external(raw)}
    if kind == "users_select":
        return {"type": kind, "selected_user": raw}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": raw}
    if kind == "overflow" or kind == "static_select":
        return {"type": kind, "selected_option": _option(element, raw)}
    return {"type": kind, "value": raw}
