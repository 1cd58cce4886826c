"""The settings form's numbers and choices read only ASCII digits: a superscript or another
script's digit is a field error, never an exception."""

from __future__ import annotations

from typing import Any

import pytest

from bot.listeners.settings_modal import _wanted
from bot.services.errors import Invalid


def values(**extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "timezone": {"timezone": {"type": "plain_text_input", "value": "UTC"}},
        "weekday": {"weekday": {"type": "static_select", "selected_option": {"value": "0"}}},
        **extra,
    }


@pytest.mark.parametrize(
    ("block", "element"),
    [
        ("grading_days", {"type": "number_input", "value": "²"}),
        ("retro_days", {"type": "number_input", "value": "٣"}),
        ("company_day", {"type": "static_select", "selected_option": {"value": "²"}}),
    ],
)
def test_non_ascii_digits_are_a_field_error(block: str, element: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as refused:
        _wanted(values(**{block: {block: element}}))
    assert refused.value.field == block
