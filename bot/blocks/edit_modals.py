"""`/okr edit O7|KR12`: the fields it was written with, prefilled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks.ids import Callback, Field
from bot.blocks.modals import (
    COMPARATOR_LABELS,
    DIRECTION_LABELS,
    build_done_modal,
    input_block,
    option,
    select_input,
    text_input,
)
from bot.blocks.text import plain
from bot.okr.numbers import NUMBER_CHARS, format_number


@dataclass(frozen=True)
class ObjectiveEditForm:
    ref: str
    title: str
    description: str
    owner_slack_id: str | None


@dataclass(frozen=True)
class KeyResultEditForm:
    ref: str
    title: str
    start: float
    target: float
    unit: str
    direction: str
    comparator: str | None
    owner_slack_id: str | None
    weight: float
    source_url: str = ""  # its metric source, if any (the secret is never shown)
    source_path: str = ""


def _owner(slack_id: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select", "action_id": Field.OWNER}
    if slack_id:
        element["initial_user"] = slack_id
    return input_block(Field.OWNER, "Owner", element)


def _choice(
    field: Field, label: str, labels: dict[str, str], initial: str | None, optional: bool = False
) -> dict[str, Any]:
    options = [option(k, v) for k, v in labels.items()]
    return input_block(field, label, select_input(field, options, initial), optional=optional)


def _modal(callback: Callback, ref: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "title": plain(f"Edit {ref}"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"ref": ref}),
        "blocks": blocks,
    }


def build_objective_edit_modal(form: ObjectiveEditForm) -> dict[str, Any]:
    return _modal(
        Callback.OBJECTIVE_EDIT,
        form.ref,
        [
            input_block(Field.TITLE, "Objective", text_input(Field.TITLE, initial=form.title)),
            input_block(
                Field.DESCRIPTION,
                "Why it matters",
                text_input(
                    Field.DESCRIPTION, multiline=True, max_length=3000, initial=form.description
                ),
                optional=True,
            ),
            _owner(form.owner_slack_id),
        ],
    )


def build_key_result_edit_modal(form: KeyResultEditForm) -> dict[str, Any]:
    return _modal(
        Callback.KEY_RESULT_EDIT,
        form.ref,
        [
            input_block(Field.TITLE, "Key result", text_input(Field.TITLE, initial=form.title)),
            input_block(
                Field.START,
                "Start",
                text_input(Field.START, max_length=NUMBER_CHARS, initial=format_number(form.start)),
            ),
            input_block(
                Field.TARGET,
                "Target",
                text_input(
                    Field.TARGET, max_length=NUMBER_CHARS, initial=format_number(form.target)
                ),
            ),
            input_block(
                Field.UNIT,
                "Unit",
                text_input(Field.UNIT, max_length=20, initial=form.unit),
                optional=True,
            ),
            _choice(Field.DIRECTION, "Direction", DIRECTION_LABELS, form.direction),
            _choice(
                Field.COMPARATOR, "For hold", COMPARATOR_LABELS, form.comparator, optional=True
            ),
            _owner(form.owner_slack_id),
            input_block(
                Field.WEIGHT,
                "Weight",
                text_input(
                    Field.WEIGHT, max_length=NUMBER_CHARS, initial=format_number(form.weight)
                ),
                optional=True,
            ),
            input_block(
                Field.SOURCE_URL,
                "Source URL",
                text_input(Field.SOURCE_URL, max_length=2000, initial=form.source_url),
                optional=True,
                hint="Empty both source fields to stop pulling. A secret header: `/okr source`.",
            ),
            input_block(
                Field.SOURCE_PATH,
                "Field path",
                text_input(Field.SOURCE_PATH, max_length=200, initial=form.source_path),
                optional=True,
            ),
        ],
    )


def build_edit_saved(ref: str) -> dict[str, Any]:
    return build_done_modal(f"Edit {ref}", f"Saved {ref}. `/okr show {ref}` shows it.")
