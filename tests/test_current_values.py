"""DESIGN.md's rule for the value of a period, and the current value of a key result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import Checkin
from bot.repository.checkins import current_from, value_for_period

T0 = datetime(2027, 1, 4, 10, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def row(
    value: float | None,
    *,
    minutes: int,
    period: str = "2027-W01",
    source_ref: str = "C1:1",
    confidence: int | None = None,
    retraction: bool = False,
    revision: str = "",
) -> Checkin:
    return Checkin(
        id=next(_ids),
        workspace_id=1,
        key_result_id=1,
        period=period,
        value=value,
        confidence=confidence,
        recorded_at=T0 + timedelta(minutes=minutes),
        source="thread",
        source_ref=source_ref,
        revision=revision,
        retraction=retraction,
    )


def test_newest_wins_and_confidence_carries_over() -> None:
    got = value_for_period(
        [row(40, minutes=0, confidence=7), row(45, minutes=5, source_ref="C1:2")]
    )
    assert got is not None and (got.value, got.confidence) == (45, 7)


def test_an_edit_is_a_revision_and_a_delete_retracts_its_message() -> None:
    first = row(40, minutes=0, source_ref="C1:1")
    edit = row(42, minutes=3, source_ref="C1:1", revision="3.0")
    other = row(30, minutes=1, source_ref="C1:9")
    got = value_for_period([first, edit, other])
    assert got is not None and got.value == 42
    deleted = row(None, minutes=9, source_ref="C1:1", retraction=True, revision="9.0")
    got = value_for_period([first, edit, other, deleted])
    assert got is not None and got.value == 30  # back to the other message's value
    assert value_for_period([first, deleted]) is None


def test_a_late_answer_to_last_week_does_not_replace_this_week() -> None:
    this_week = row(50, minutes=0, period="2027-W02", source_ref="C2:1")
    late = row(20, minutes=60, period="2027-W01", source_ref="C1:7")
    got = current_from([this_week, late])
    assert got is not None and (got.value, got.period) == (50, "2027-W02")
