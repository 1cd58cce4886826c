"""Carry-over: the DM offering each unfinished key result for the next cycle (keep, adjust
the target, drop), the target modal, and the facilitators' request to create the next cycle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.blocks.grading import grade_text
from bot.blocks.ids import Action, Callback
from bot.blocks.okrs import number
from bot.blocks.text import context, escape, plain, section

OFFERS_SHOWN = 20  # two blocks each, inside a message's 50


@dataclass(frozen=True)
class CarryLine:
    offer_id: int
    ref: str
    title: str
    grade: Decimal
    start: float
    target: float
    unit: str


def _button(action: str, label: str, offer_id: int, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button", "action_id": action, "text": plain(label), "value": str(offer_id),
    }  # fmt: skip
    if style:
        button["style"] = style
    return button


def build_carry_over(cycle: str, next_cycle: str, lines: list[CarryLine]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        section(
            f"*{escape(cycle)}* is closed. These key results of yours did not reach 1.0: carry "
            f"each into *{escape(next_cycle)}*, with its target or a new one, or drop it. "
            "Nothing is carried unless you say so."
        )
    ]
    for line in lines[:OFFERS_SHOWN]:
        blocks.append(
            section(
                f"*{line.ref}* {escape(line.title)} — final {grade_text(line.grade)}, target "
                f"{number(line.target, line.unit)}"
            )
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"carry.{line.offer_id}",
                "elements": [
                    _button(Action.CARRY_KEEP, "Keep", line.offer_id, "primary"),
                    _button(Action.CARRY_ADJUST, "Adjust target", line.offer_id),
                    _button(Action.CARRY_DROP, "Drop", line.offer_id),
                ],
            }
        )
    if len(lines) > OFFERS_SHOWN:
        blocks.append(context(f"…and {len(lines) - OFFERS_SHOWN} more in the next message."))
    return blocks


def with_decision(blocks: list[dict[str, Any]], offer_id: int, said: str) -> list[dict[str, Any]]:
    """The offer DM once one offer is decided: its buttons give way to what was done (the
    other offers keep theirs), so the message shows what is left to decide."""
    return [
        context(f"✓ {escape(said)}") if block.get("block_id") == f"carry.{offer_id}" else block
        for block in blocks
    ]


def carry_over_fallback(cycle: str, count: int) -> str:
    return escape(f"{count} unfinished key result(s) of {cycle}: keep, adjust or drop")


def build_adjust_modal(line: CarryLine, next_cycle: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": Callback.CARRY_ADJUST,
        "title": plain("Adjust the target"),
        "submit": plain("Carry it"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"offer": line.offer_id}),
        "blocks": [
            section(
                f"*{line.ref}* {escape(line.title)} goes into *{escape(next_cycle)}* from "
                f"{number(line.start, line.unit)} to the target you set."
            ),
            {
                "type": "input",
                "block_id": "target",
                "label": plain("New target"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "target",
                    "initial_value": number(line.target, "").strip(),
                    "max_length": 40,
                },
            },
        ],
    }


def offer_of(raw: str | None) -> int:
    return int(json.loads(raw or "{}").get("offer") or 0)


def build_next_cycle_ask(
    cycle_id: int, cycle: str, proposed: str, unfinished: int
) -> list[dict[str, Any]]:
    return [
        section(
            f"*{escape(cycle)}* is closed and {unfinished} unfinished key result(s) wait to be "
            f"offered to their owners for the next cycle, which does not exist yet. Create "
            f"*{escape(proposed)}* (the next quarter), or another with `/okr cycle new`; the "
            "offers go out as soon as it exists."
        ),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.CARRY_CREATE_CYCLE,
                    "text": plain(f"Create {proposed}"),
                    "style": "primary",
                    "value": str(cycle_id),
                }
            ],
        },
    ]
