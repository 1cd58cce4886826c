"""The key-result modal: one objective's key results, written one at a time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.ids import Callback, Field
from bot.blocks.modals import (
    COMPARATOR_LABELS,
    DIRECTION_LABELS,
    KIND_LABELS,
    input_block,
    option,
    select_input,
    text_input,
)
from bot.blocks.text import context, escape, plain, section
from bot.okr.numbers import NUMBER_CHARS


@dataclass(frozen=True)
class KeyResultForm:
    """The key-result modal of one objective, after `added` key results were saved."""

    objective_ref: str
    objective_title: str
    owner_slack_id: str
    added: Sequence[str] = ()
    suggestions: Sequence[str] = ()  # the quality lint, said where the person is writing
    notice: str = ""


def build_key_result_modal(form: KeyResultForm) -> dict[str, Any]:
    objective_ref, objective_title = form.objective_ref, form.objective_title
    owner_slack_id, added, suggestions = form.owner_slack_id, form.added, form.suggestions
    notice = form.notice
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
            Field.TITLE,
            "Key result",
            text_input(
                Field.TITLE,
                placeholder="What number shows you got there? e.g. Activation from 30% to 50%",
            ),
        ),
        input_block(
            Field.KIND,
            "Kind",
            select_input(
                Field.KIND, [option(k, v) for k, v in KIND_LABELS.items()], initial="number"
            ),
        ),
        input_block(
            Field.START, "Start", text_input(Field.START, max_length=NUMBER_CHARS, initial="0")
        ),
        input_block(
            Field.TARGET,
            "Target",
            text_input(Field.TARGET, max_length=NUMBER_CHARS),
            optional=True,
            hint="Leave empty for a milestone.",
        ),
        input_block(
            Field.UNIT,
            "Unit",
            text_input(Field.UNIT, max_length=20, placeholder="%, €, signups…"),
            optional=True,
        ),
        input_block(
            Field.DIRECTION,
            "Direction",
            select_input(
                Field.DIRECTION, [option(k, v) for k, v in DIRECTION_LABELS.items()], initial="auto"
            ),
        ),
        input_block(
            Field.COMPARATOR,
            "For hold",
            select_input(Field.COMPARATOR, [option(k, v) for k, v in COMPARATOR_LABELS.items()]),
            optional=True,
        ),
        input_block(
            Field.OWNER,
            "Owner",
            {"type": "users_select", "action_id": Field.OWNER, "initial_user": owner_slack_id},
        ),
        input_block(
            Field.WEIGHT,
            "Weight",
            text_input(Field.WEIGHT, max_length=NUMBER_CHARS, initial="1"),
            optional=True,
        ),
        input_block(
            Field.SOURCE_URL,
            "Source URL",
            text_input(Field.SOURCE_URL, max_length=2000, placeholder="https://… (JSON)"),
            optional=True,
            hint="Its value is pulled from this URL before each round. A source that needs a "
            "secret header: `/okr source`.",
        ),
        input_block(
            Field.SOURCE_PATH,
            "Field path",
            text_input(Field.SOURCE_PATH, max_length=200, placeholder="data.total"),
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": Callback.KEY_RESULT_NEW,
        "title": plain(f"Key results of {objective_ref}"[:24]),
        "submit": plain("Add key result"),
        "close": plain("Done"),
        "private_metadata": json.dumps(
            {"objective": objective_ref, "title": objective_title, "added": list(added)}
        ),
        "blocks": blocks,
    }
