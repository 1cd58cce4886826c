"""Cycles as people read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.blocks.text import context, section


@dataclass(frozen=True)
class CycleView:
    id: int
    name: str
    starts_on: date
    ends_on: date
    state: str
    grading_deadline: date | None = None  # the local day grading ends (set when it starts)


STATE_WORDS = {
    "planning": "planning",
    "active": "active",
    "grading": "grading",
    "closed": "closed",
}


def cycle_line(cycle: CycleView) -> str:
    state = STATE_WORDS[cycle.state]
    if cycle.state == "grading" and cycle.grading_deadline is not None:
        state = f"grading until {cycle.grading_deadline}"
    return f"*{cycle.name}*  {cycle.starts_on} → {cycle.ends_on}  _{state}_"


def build_cycle_list(cycles: Sequence[CycleView]) -> list[dict[str, Any]]:
    if not cycles:
        return [
            section(
                "No cycles yet. A facilitator creates one with "
                "`/okr cycle new 2027-Q1 2027-01-01 2027-03-31`, or the first `/okr new` "
                "starts the current quarter."
            )
        ]
    lines = "\n".join(cycle_line(c) for c in cycles[:40])
    blocks = [section(f"*Cycles*\n{lines}")]
    if len(cycles) > 40:
        blocks.append(context(f"…and {len(cycles) - 40} older cycles."))
    return blocks
