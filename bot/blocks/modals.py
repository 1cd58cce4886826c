"""Modals for writing OKRs. Pure: data in, a view out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.ids import Action, Callback, Field
from bot.blocks.retro import build_lessons
from bot.blocks.text import context, escape, plain, section

STATIC_OPTIONS = 100
LEVEL_LABELS = {"company": "Company", "team": "Team", "personal": "Personal"}
COMMITMENT_LABELS = {
    "aspirational": "Aspirational: 0.6–0.7 is a good result",
    "committed": "Committed: expected to land at 1.0",
}
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


def text_input(
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


def select_input(
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


@dataclass(frozen=True)
class ObjectiveForm:
    """What the new-objective modal offers, for the person writing it."""

    teams: Sequence[tuple[int, str]]
    owner_slack_id: str
    cycle: str | None  # the active cycle; None: saving starts the current quarter
    can_write_company: bool
    channel_id: str | None = None  # where `/okr new` was typed (a channel, not a DM)
    channel_name: str | None = None
    channel_has_team: bool = False
    lessons_cycle: str = ""  # the team's first `/okr new` of a cycle: what it would change
    lessons: tuple[str, ...] = ()


def build_new_objective_modal(form: ObjectiveForm) -> dict[str, Any]:
    """In a channel with no team yet, the team picker offers to make one for it."""
    new_team = (
        (form.channel_id, form.channel_name)
        if form.channel_id and form.channel_name and not form.channel_has_team
        else None
    )
    return build_objective_modal(
        teams=form.teams,
        owner_slack_id=form.owner_slack_id,
        cycle_note=f"Cycle {form.cycle}"
        if form.cycle
        else "No cycle yet: saving starts the current quarter.",
        can_write_company=form.can_write_company,
        metadata={"channel": form.channel_id, "channel_name": form.channel_name},
        new_team_channel=new_team,
        lessons=build_lessons(form.lessons_cycle, form.lessons),
    )


def build_objective_modal(
    *,
    teams: Sequence[tuple[int, str]],
    owner_slack_id: str,
    cycle_note: str,
    can_write_company: bool,
    metadata: dict[str, Any] | None = None,
    new_team_channel: tuple[str, str] | None = None,
    lessons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`new_team_channel`: (channel id, name) of the channel this was typed in, when it has
    no team yet: the picker offers to make one for it (its value is `new:<channel id>`)."""
    levels = [option(k, v) for k, v in LEVEL_LABELS.items() if k != "company" or can_write_company]
    blocks: list[dict[str, Any]] = [
        *(lessons or []),
        context(escape(cycle_note)),
        input_block(
            Field.TITLE,
            "Objective",
            text_input(
                Field.TITLE,
                placeholder="Where do you want to go? e.g. Customers love our onboarding",
            ),
            hint="Qualitative and inspiring; the numbers go in its key results.",
        ),
        input_block(
            Field.DESCRIPTION,
            "Why it matters",
            text_input(Field.DESCRIPTION, multiline=True, max_length=3000),
            optional=True,
        ),
        input_block(
            Field.LEVEL,
            "Level",
            select_input(
                Field.LEVEL, levels, initial="team" if teams or new_team_channel else "personal"
            ),
        ),
        input_block(
            Field.COMMITMENT,
            "Kind",
            select_input(
                Field.COMMITMENT,
                [option(k, v) for k, v in COMMITMENT_LABELS.items()],
                initial="aspirational",
            ),
            hint="Graded by its kind at the cycle's end.",
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
                "action_id": Action.TEAM_OPTIONS,
                "min_query_length": 0,
                "placeholder": plain("Search teams"),
            }
        else:
            picker = select_input(
                Action.TEAM_OPTIONS, extra + [option(str(i), name) for i, name in teams]
            )
        blocks.append(
            input_block(
                Field.TEAM, "Team", picker, optional=True, hint="Needed for a team objective."
            )
        )
        if 1 < len(teams) <= STATIC_OPTIONS:
            shared = {
                "type": "multi_static_select",
                "action_id": Field.CONTRIBUTORS,
                "options": [option(str(i), name) for i, name in teams],
            }
            blocks.append(
                input_block(
                    Field.CONTRIBUTORS,
                    "Shared with",
                    shared,
                    optional=True,
                    hint="Other teams that own this objective too.",
                )
            )
    blocks += [
        input_block(
            Field.OWNER,
            "Owner",
            {"type": "users_select", "action_id": Field.OWNER, "initial_user": owner_slack_id},
        ),
        input_block(
            Field.PARENT,
            "Serves (aligned to)",
            {
                "type": "external_select",
                "action_id": Action.PARENT_OPTIONS,
                "min_query_length": 0,
                "placeholder": plain("Search objectives of this cycle"),
            },
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": Callback.OBJECTIVE_NEW,
        "title": plain("New objective"),
        "submit": plain("Next: key results"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata or {}),
        "blocks": blocks,
    }


def build_done_modal(title: str, text: str) -> dict[str, Any]:
    """What a modal becomes once saved: `text` (our own mrkdwn) and a Done button."""
    return {
        "type": "modal",
        "title": plain(title),
        "close": plain("Done"),
        "blocks": [section(text)],
    }
