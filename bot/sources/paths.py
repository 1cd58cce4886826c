"""Field paths into a JSON document: `data.total`, `results[0].value`, `items[-1].n`.

A path is names separated by dots, each optionally followed by `[n]` list indexes (a
negative index counts from the end). Pure: a path in, the value found (or why not) out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

PATH_MAX = 200
_SEGMENT = re.compile(r"([A-Za-z0-9_$@\-]+)?((?:\[-?\d{1,6}\])*)")
_INDEX = re.compile(r"\[(-?\d+)\]")


class PathProblem(ValueError):
    """A path that cannot be read, or a document it does not fit; the message says which."""


@dataclass(frozen=True)
class Step:
    name: str | None
    indexes: tuple[int, ...]


def parse_path(path: str) -> tuple[Step, ...]:
    """The steps of `path`, or `PathProblem` saying what to write instead."""
    text = path.strip()
    if not text:
        raise PathProblem("The field path is empty: write one, like `data.total`.")
    if len(text) > PATH_MAX:
        raise PathProblem(f"The field path has {len(text)} characters; keep it to {PATH_MAX}.")
    steps: list[Step] = []
    for part in text.split("."):
        match = _SEGMENT.fullmatch(part)
        if not part or match is None or not (match.group(1) or match.group(2)):
            raise PathProblem(
                "I could not read that field path: use names and [n] indexes joined by dots, "
                "like `data.total` or `results[0].value`."
            )
        indexes = tuple(int(i) for i in _INDEX.findall(match.group(2) or ""))
        steps.append(Step(match.group(1), indexes))
    return tuple(steps)


def _where(steps: tuple[Step, ...], upto: int) -> str:
    parts = []
    for step in steps[:upto]:
        parts.append((step.name or "") + "".join(f"[{i}]" for i in step.indexes))
    return ".".join(parts) or "the top level"


def read_path(document: Any, path: str) -> Any:
    """The value at `path` in `document`; `PathProblem` names the first step not found."""
    steps = parse_path(path)
    found = document
    for number, step in enumerate(steps):
        if step.name is not None:
            if not isinstance(found, dict) or step.name not in found:
                raise PathProblem(f"The answer has no field `{_where(steps, number + 1)}`.")
            found = found[step.name]
        for index in step.indexes:
            if not isinstance(found, list) or not -len(found) <= index < len(found):
                raise PathProblem(
                    f"The answer has no item [{index}] in `{_where(steps, number + 1)}`."
                )
            found = found[index]
    return found


def number_at(document: Any, path: str) -> float:
    """The number at `path`: a JSON number (not true/false, text or null), finite."""
    found = read_path(document, path)
    if isinstance(found, bool) or not isinstance(found, int | float):
        kind = "null" if found is None else type(found).__name__
        kind = {"str": "text", "dict": "an object", "list": "a list", "bool": "true/false"}.get(
            kind, kind
        )
        raise PathProblem(f"`{path.strip()}` is {kind}, not a number.")
    value = float(found)
    if not math.isfinite(value):
        raise PathProblem(f"`{path.strip()}` is not a finite number.")
    return value
