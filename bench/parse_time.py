"""`parse_reply` on adversarial input of 10 kB and 100 kB (mention fragments, separators and
numbers that once made the patterns backtrack): the larger over the smaller, best of 5.
Linear work gives about 10; the goal is at most 20."""

from __future__ import annotations

import time

from bot.okr.parse import parse_reply

SHAPES = {
    "mentions": "<@a|",
    "numbers": "1,",
    "lines": "KR1 1,2.3 conf\n",
    "separators": " - — : ",
}


def _adversarial(size: int) -> list[str]:
    return [(unit * (size // len(unit) + 1))[:size] for unit in SHAPES.values()]


def _best_of(texts: list[str], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            parse_reply(text)
        best = min(best, time.perf_counter() - started)
    return best


def parse_time() -> tuple[float, float]:
    """Seconds to read the 100 kB inputs and the 10 kB ones (each best of 5)."""
    return _best_of(_adversarial(100_000)), _best_of(_adversarial(10_000))
