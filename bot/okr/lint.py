"""OKR quality lint: warnings that explain and suggest. They never block a save.

What makes OKRs work: an objective is qualitative and inspiring (numbers belong in key
results); a key result is measurable (a start and a target, not an activity); 2 to 5 key
results an objective; someone owns each; a team's objective says what it serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MIN_KEY_RESULTS = 2
MAX_KEY_RESULTS = 5
_NUMBER = re.compile(r"(?<![\w.])[$€£]?\d[\d,.]*\s*(%|k\b|m\b|x\b)?", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_ACTIVITY_WORDS = re.compile(
    r"^\s*(launch|ship|build|create|write|hold|run|start|finish|complete|implement|migrate|"
    r"hire|organi[sz]e|deliver|release|introduce|set up|roll out)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class KeyResultFacts:
    title: str
    kind: str  # number | percent | currency | milestone
    start: float
    target: float
    owner: bool


@dataclass(frozen=True)
class ObjectiveFacts:
    title: str
    level: str  # company | team | personal
    owner: bool
    aligned: bool  # has a parent objective
    key_results: Sequence[KeyResultFacts]
    cycle_starts_on: date
    cycle_ends_on: date


@dataclass(frozen=True)
class Warning:
    code: str
    message: str  # says what is wrong and what to do instead


def _dates(text: str) -> list[date]:
    found = []
    for match in _ISO_DATE.finditer(text):
        try:
            found.append(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            continue
    return found


def lint_key_result(kr: KeyResultFacts, *, starts_on: date, ends_on: date) -> list[Warning]:
    warnings = []
    if kr.kind == "milestone" and _ACTIVITY_WORDS.search(kr.title):
        warnings.append(
            Warning(
                "activity",
                f"“{kr.title}” reads like an activity. A key result measures an outcome: "
                "what number moves when this is done? (e.g. “Weekly active teams from 40 to 60”)",
            )
        )
    elif kr.kind != "milestone" and kr.start == kr.target:
        warnings.append(
            Warning(
                "no_target",
                f"“{kr.title}” has no measurable target (start equals target). "
                "Say where it starts and where it should end.",
            )
        )
    if not kr.owner:
        warnings.append(
            Warning("kr_no_owner", f"“{kr.title}” has no owner: one person should check in on it.")
        )
    warnings += _dates_outside(kr.title, starts_on, ends_on)
    return warnings


def _dates_outside(title: str, starts_on: date, ends_on: date) -> list[Warning]:
    return [
        Warning(
            "date_outside_cycle",
            f"“{title}” names {day}, outside this cycle ({starts_on} to {ends_on}). "
            "Key results are met within their cycle.",
        )
        for day in _dates(title)
        if not starts_on <= day <= ends_on
    ]


def lint_objective(objective: ObjectiveFacts) -> list[Warning]:
    warnings = []
    if _NUMBER.search(_ISO_DATE.sub("", objective.title)):  # a date is checked on its own
        warnings.append(
            Warning(
                "number_in_objective",
                "The objective has a number in it: numbers usually belong in a key result. "
                "Keep the objective qualitative and inspiring, and measure it with key results.",
            )
        )
    count = len(objective.key_results)
    if count < MIN_KEY_RESULTS:
        warnings.append(
            Warning(
                "too_few_key_results",
                f"{count} key result{'s' if count != 1 else ''}: an objective is usually measured "
                f"by {MIN_KEY_RESULTS} to {MAX_KEY_RESULTS}. Add one with `/okr kr add`.",
            )
        )
    elif count > MAX_KEY_RESULTS:
        warnings.append(
            Warning(
                "too_many_key_results",
                f"{count} key results: more than {MAX_KEY_RESULTS} spreads focus thin. "
                "Keep the ones that matter most, or split the objective.",
            )
        )
    if not objective.owner:
        warnings.append(Warning("no_owner", "The objective has no owner: name one person."))
    if objective.level == "team" and not objective.aligned:
        warnings.append(
            Warning(
                "not_aligned",
                "This team objective is aligned to nothing. Say which company objective it "
                "serves with `/okr align`.",
            )
        )
    warnings += _dates_outside(objective.title, objective.cycle_starts_on, objective.cycle_ends_on)
    for kr in objective.key_results:
        warnings += lint_key_result(
            kr, starts_on=objective.cycle_starts_on, ends_on=objective.cycle_ends_on
        )
    return warnings
