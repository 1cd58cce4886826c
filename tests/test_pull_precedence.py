"""Within a period, a value a person gave (typed or pushed) wins over a pulled one whatever
their order; among given values, or among pulled ones, the newest wins; a confidence or note
carries over from either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Checkin
from bot.repository.checkins import value_for_period

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def row(source: str, value: float | None, minutes: int, *, ref: str | None = None,
        confidence: int | None = None, retraction: bool = False) -> Checkin:  # fmt: skip
    return Checkin(
        id=next(_ids), workspace_id=1, key_result_id=1, period="2026-W49", value=value,
        confidence=confidence, recorded_at=T0 + timedelta(minutes=minutes), source=source,
        source_ref=ref or f"{source}:{minutes}", revision="", retraction=retraction,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "value", "source"),
    [
        ([row("pull", 10, 0), row("thread", 20, 5)], 20, "thread"),
        ([row("thread", 20, 0), row("pull", 10, 5)], 20, "thread"),
        ([row("api", 20, 0), row("pull", 10, 5), row("pull", 11, 9)], 20, "api"),
        ([row("pull", 10, 0), row("pull", 11, 5)], 11, "pull"),
        ([row("dm", 20, 0), row("command", 30, 5), row("pull", 10, 9)], 30, "command"),
        (
            [row("thread", 20, 0, ref="m1"), row("pull", 10, 5),
             row("thread", None, 7, ref="m1", retraction=True)],
            10, "pull",
        ),
    ],
)  # fmt: skip
def test_given_values_win_over_pulled_ones(rows: list[Checkin], value: float, source: str) -> None:
    found = value_for_period(rows)
    assert found is not None and (found.value, found.source) == (value, source)


def test_a_confidence_carries_over_onto_a_pulled_value() -> None:
    found = value_for_period([row("thread", 20, 0, confidence=7), row("pull", 10, 5)])
    assert found is not None and (found.value, found.confidence) == (20, 7)
    found = value_for_period([row("pull", 10, 0), row("pull", 12, 5, confidence=None)])
    assert found is not None and found.confidence is None
