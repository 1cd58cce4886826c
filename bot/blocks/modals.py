"""Modals for writing OKRs. Pure: data in, a view out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks.text import context, escape, plain, section

OBJECTIVE_CALLBACK = "objective_new"
KEY_RESULT_CALLBACK = "key_result_new"
PARENT_ACTION = "parent"
TEAM_ACTION = "team"
STATIC_OPTIONS = 100
LEVEL_LABELS = {"company": "Company", "team": "Team", "personal": "Personal"}
KIND_LABELS = {
    "number": "Number",
    "percent": "Percentage",
    "currency": "Money",
    "milestone": "Milestone (done or not)",
}
DIRECTION_LABELS = {
    "auto": "From start and target",
    "increase": "Increase",
    "decrease": "Decrease",
    "hold": "Hold (stay at or beyond the target)",
}
COMPARATOR_LABELS = {"at_least": "at least the target", "at_most": "at most the target"}


def option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label[:75]), "value": value}


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    """An input block (its block_id names the field errors come back on)."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _text_input(
    action_id: str,
    *,
    multiline: bool = False,
    max_length: int = 300,
    placeholder: str = "",
    initial: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = plain(placeholder)
    if initial:
        element["initial_value"] = initial
    return element


def _select(
    action_id: str, options: Sequence[dict[str, Any]], initial: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": action_id,
        "options": list(options),
    }
    for candidate in options:
        if candidate["value"] == initial:
            element["initial_option"] = candidate
    return element


def build_objective_modal(
    *,
    teams: Sequence[tuple[int, str]],
    owner_slack_id: str,
    cycle_note: str,
    can_write_company: bool,
    metadata: dict[str, Any] | None = None,
    new_team_channel: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """`new_team_for`: (channel id, name) of the channel this was typed in, when it has no
    team yet: the picker offers to make one for it."""
    levels = [option(k, v) for k, v in LEVEL_LABELS.items() if k != "company" or can_write_company]
    blocks: list[dict[str, Any]] = [
        context(escape(cycle_note)),
        input_block(
            "title",
            "Objective",
            _text_input(
                "title", placeholder="Where do you want to go? e.g. Customers love our onboarding"
            ),
            hint="Qualitative and inspiring; the numbers go in its key results.",
        ),
        input_block(
            "description",
            "Why it matters",
            _text_input("description", multiline=True, max_length=3000),
            optional=True,
        ),
        input_block(
            "level",
            "Level",
            _select("level", levels, initial="team" if teams or new_team_channel else "personal"),
        ),
    ]
    extra = (
        [option(f"new:{new_team_channel[0]}", f"New team for #{new_team_channel[1]}")]
        if new_team_channel
        else []
    )
    if teams or extra:
        if len(teams) > STATIC_OPTIONS:  # Slack shows at most 100: search instead
            picker: dict[str, Any] = {
                "type": "external_select",
                "action_id": TEAM_ACTION,
                "min_query_length": 0,
                "placeholder": plain("Search teams"),
            }
        else:
            picker = _select(TEAM_ACTION, extra + [option(str(i), name) for i, name in teams])
        blocks.append(
            input_block("team", "Team", picker, optional=True, hint="Needed for a team objective.")
        )
        if 1 < len(teams) <= STATIC_OPTIONS:
            shared = {
                "type": "multi_static_select",
                "action_id": "contributors",
                "options": [option(str(i), name) for i, name in teams],
            }
            blocks.append(
                input_block(
                    "contributors",
                    "Shared with",
                    shared,
                    optional=True,
                    hint="Other teams that own this objective too.",
                )
            )
    blocks += [
        input_block(
            "owner",
            "Owner",
            {"type": "users_select", "action_id": "owner", "initial_user": owner_slack_id},
        ),
        input_block(
            "parent",
            "Serves (aligned to)",
            {
                "type": "external_select",
                "action_id": PARENT_ACTION,
                "min_query_length": 0,
                "placeholder": plain("Search objectives of this cycle"),
            },
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": OBJECTIVE_CALLBACK,
        "title": plain("New objective"),
        "submit": plain("Next: key results"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata or {}),
        "blocks": blocks,
    }


def build_key_result_modal(
    *,
    objective_ref: str,
    objective_title: str,
    owner_slack_id: str,
    added: Sequence[str] = (),
    suggestions: Sequence[str] = (),
    notice: str = "",
) -> dict[str, Any]:
    done = (
        f"Added {', '.join(added)}. Add another, or close this when you are done."
        if added
        else "Add 2 to 5 key results: each a number with a start and a target."
    )
    blocks: list[dict[str, Any]] = [
        section(f"*{objective_ref}* {escape(objective_title)}"),
        context(f"{escape(notice)} {done}".strip()),
        *(
            [context("*Suggestions*\n" + "\n".join(f"• {escape(s)}" for s in suggestions[:5]))]
            if suggestions
            else []
        ),
        input_block(
            "title",
            "Key result",
            _text_input(
                "title",
                placeholder="What number shows you got there? e.g. Activation from 30% to 50%",
            ),
        ),
        input_block(
            "kind",
            "Kind",
            _select("kind", [option(k, v) for k, v in KIND_LABELS.items()], initial="number"),
        ),
        input_block("start", "Start", _text_input("start", max_length=30, initial="0")),
        input_block(
            "target",
            "Target",
            _text_input("target", max_length=30),
            optional=True,
            hint="Leave empty for a milestone.",
        ),
        input_block(
            "unit",
            "Unit",
            _text_input("unit", max_length=20, placeholder="%, €, signups…"),
            optional=True,
        ),
        input_block(
            "direction",
            "Direction",
            _select(
                "direction", [option(k, v) for k, v in DIRECTION_LABELS.items()], initial="auto"
            ),
        ),
        input_block(
            "comparator",
            "For hold",
            _select("comparator", [option(k, v) for k, v in COMPARATOR_LABELS.items()]),
            optional=True,
        ),
        input_block(
            "owner",
            "Owner",
            {"type": "users_select", "action_id": "owner", "initial_user": owner_slack_id},
        ),
        input_block(
            "weight", "Weight", _text_input("weight", max_length=10, initial="1"), optional=True
        ),
    ]
    return {
        "type": "modal",
        "callback_id": KEY_RESULT_CALLBACK,
        "title": plain(f"Key results of {objective_ref}"[:24]),
        "submit": plain("Add key result"),
        "close": plain("Done"),
        "private_metadata": json.dumps(
            {"objective": objective_ref, "title": objective_title, "added": list(added)}
        ),
        "blocks": blocks,
    }
