"""The figures of a cycle's summary, pure: the sweet-spot share of aspirational key results and
what it says, committed objectives met or missed, the rating's distribution, participation.

Reading the sweet spot (0.60–0.70, DESIGN.md): aspirational key results are meant to land
there. When more than half land above it the goals were too easy; more than half below, too
ambitious; otherwise the ambition was about right.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.okr.cycle_end import ANONYMOUS_SHOWN_FROM, COMMITTED_MET, RATINGS
from bot.okr.grading import SWEET_SPOT


@dataclass(frozen=True)
class SweetSpot:
    aspirational: int  # aspirational key results graded
    inside: int
    above: int
    below: int

    @property
    def share(self) -> Decimal | None:
        """The share inside the sweet spot, to two decimals (None with none to count)."""
        if not self.aspirational:
            return None
        return (Decimal(self.inside) / Decimal(self.aspirational)).quantize(Decimal("0.01"))

    @property
    def reading(self) -> str:
        if not self.aspirational:
            return "No aspirational key results to read."
        if self.above * 2 > self.aspirational:
            return "Mostly above the sweet spot: the goals were too easy. Aim higher next cycle."
        if self.below * 2 > self.aspirational:
            return (
                "Mostly below the sweet spot: the goals were too ambitious (or something got in "
                "the way). Aim for what 0.6–0.7 would really mean."
            )
        return "Around the sweet spot: ambitious goals, mostly reached. Keep the ambition."


def sweet_spot(grades: Iterable[Decimal]) -> SweetSpot:
    """Counts the grades of aspirational key results against the sweet spot."""
    low, high = SWEET_SPOT
    inside = above = below = total = 0
    for grade in grades:
        total += 1
        if grade > high:
            above += 1
        elif grade < low:
            below += 1
        else:
            inside += 1
    return SweetSpot(total, inside, above, below)


def committed_met(grade: Decimal) -> bool:
    return grade >= COMMITTED_MET


@dataclass(frozen=True)
class Ratings:
    counts: tuple[int, ...]  # votes for 1..5

    @property
    def votes(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> Decimal | None:
        if not self.votes:
            return None
        total = sum(r * c for r, c in zip(RATINGS, self.counts, strict=True))
        return (Decimal(total) / Decimal(self.votes)).quantize(Decimal("0.1"))


def ratings(votes: Sequence[int]) -> Ratings:
    return Ratings(tuple(sum(1 for v in votes if v == rating) for rating in RATINGS))


def anonymous_answers_shown(answered: int) -> bool:
    """Anonymous answers are shown only once enough people answered to hide who said what."""
    return answered >= ANONYMOUS_SHOWN_FROM
