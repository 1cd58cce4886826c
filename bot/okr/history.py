"""A key result's history as people read it: a sparkline of its periods (`okr.series`
says which periods a cycle has), and which check-ins a later row revised or withdrew.

Check-in rows are never changed (DESIGN.md): an edit is a later row with the same source and
source_ref, a deletion a later retraction row. Nothing is hidden from the history; rows that
no longer count are marked instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

SPARK_LEVELS = "▁▂▃▄▅▆▇█"  # progress 0 to 1, clamped, in eight steps
SPARK_GAP = "·"  # a period with no check-in


def sparkline(levels: Iterable[float | None]) -> str:
    """One character per period: its progress (clamped to [0, 1]) as a bar, or a gap."""
    top = len(SPARK_LEVELS) - 1
    return "".join(
        SPARK_GAP if level is None else SPARK_LEVELS[round(max(0.0, min(1.0, level)) * top)]
        for level in levels
    )


class Mark(StrEnum):
    """Why a check-in row no longer counts."""

    REVISED = "revised"  # the same message or form recorded again later (an edit)
    WITHDRAWN = "withdrawn"  # a later retraction of the same message or form (a deletion)


class CheckinFacts(Protocol):
    """What the marks need of a check-in row (the stored row has all of it)."""

    @property
    def id(self) -> int: ...
    @property
    def period(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def source_ref(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def retraction(self) -> bool: ...


def marks(rows: Sequence[CheckinFacts]) -> dict[int, Mark]:
    """The mark of each row (by id) a later row of the same period, source and source_ref
    supersedes: revised by a later value, else withdrawn by a later retraction. Order is
    recorded_at, then id, as for the period's value."""
    found: dict[int, Mark] = {}
    later: dict[tuple[str, str, str], Mark] = {}  # the newest row seen so far, per ref
    for row in sorted(rows, key=lambda r: (r.recorded_at, r.id), reverse=True):
        key = (row.period, row.source, row.source_ref)
        if row.retraction:
            later.setdefault(key, Mark.WITHDRAWN)
            continue
        if key in later:
            found[row.id] = later[key]
        later[key] = Mark.REVISED
    return found
