"""Grades: 0.0-1.0, two decimals, banded green / yellow / red."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

GREEN_FROM = Decimal("0.70")
YELLOW_FROM = Decimal("0.40")
SWEET_SPOT = (Decimal("0.60"), Decimal("0.70"))  # inclusive: ambitious and mostly reached
_HUNDREDTH = Decimal("0.01")


class Band(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def to_grade(value: float | str | Decimal) -> Decimal:
    """A grade stored to two decimals, rounded half-up; outside 0.0-1.0 is an error."""
    grade = Decimal(str(value)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
    if not Decimal(0) <= grade <= Decimal(1):
        raise ValueError("a grade goes from 0.0 to 1.0")
    return grade


def objective_grade(grades: Iterable[tuple[Decimal, float]]) -> Decimal | None:
    """Weighted mean of key-result grades (grade, weight), rounded half-up before banding."""
    total = Decimal(0)
    weights = Decimal(0)
    for grade, weight in grades:
        if weight <= 0:
            continue
        w = Decimal(str(weight))
        total += grade * w
        weights += w
    if weights == 0:
        return None
    return (total / weights).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def band(grade: Decimal) -> Band:
    if grade >= GREEN_FROM:
        return Band.GREEN
    if grade >= YELLOW_FROM:
        return Band.YELLOW
    return Band.RED


def in_sweet_spot(grade: Decimal) -> bool:
    low, high = SWEET_SPOT
    return low <= grade <= high
