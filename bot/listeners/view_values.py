"""Reading what a person entered in a modal (`view.state.values[block][action]`)."""

from __future__ import annotations

from typing import Any

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


def entered_number(
    values: dict[str, Any], block: str, *, label: str, default: float | None = None
) -> float | None:
    text = entered(values, block)
    if text is None:
        return default
    try:
        return float(text.replace(",", "").replace("%", "").strip())
    except ValueError:
        raise Invalid(f"The {label} must be a number, like 42 or 3.5.", field=block) from None


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
