"""Reading what a person entered in a modal (`view.state.values[block][action]`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.okr.numbers import HOURS, START, TARGET, WEIGHT, NumberProblem, read_number
from bot.services.errors import DomainError, Invalid


def entered(values: dict[str, Any], block: str, action: str | None = None) -> str | None:
    """The text typed, the option picked or the user chosen; None when left empty."""
    element = (values.get(block) or {}).get(action or block) or {}
    if element.get("selected_option"):
        return str(element["selected_option"]["value"])
    if element.get("selected_user"):
        return str(element["selected_user"])
    if element.get("selected_conversation"):
        return str(element["selected_conversation"])
    if element.get("selected_time"):
        return str(element["selected_time"])
    value = element.get("value")
    return str(value) if value not in (None, "") else None


FORM_NUMBERS = {"start": START, "target": TARGET, "weight": WEIGHT}  # else hours


def entered_number(
    values: dict[str, Any], block: str, *, label: str, default: float | None = None
) -> float | None:
    """A number typed in a form, read by the one number grammar (`okr/numbers.py`) and held
    to its field's bounds; `default` when left empty."""
    text = entered(values, block)
    if text is None:
        return default
    bounds = replace(FORM_NUMBERS.get(block, HOURS), label=label)
    try:
        return read_number(text, bounds)
    except NumberProblem as problem:
        raise Invalid(problem.reason, field=block) from None


def entered_many(values: dict[str, Any], block: str, action: str | None = None) -> list[str]:
    """Users or options picked in a multi-select or checkboxes (empty when none)."""
    element = (values.get(block) or {}).get(action or block) or {}
    if element.get("selected_users"):
        return [str(u) for u in element["selected_users"]]
    return [str(o["value"]) for o in element.get("selected_options") or []]


def field_errors(exc: DomainError, view: dict[str, Any], default: str) -> dict[str, Any]:
    """A `response_action: errors` ack; the field must be an input block the modal has."""
    inputs = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    field = exc.field if exc.field and exc.field in inputs else default
    return {"response_action": "errors", "errors": {field: str(exc)}}
