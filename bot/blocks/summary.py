"""A cycle's summary as posted and kept: final grades with bands, the sweet-spot reading,
committed objectives met or missed, the retrospective's ratings and answers, participation.
`SummaryData` round-trips through JSON: it is stored as written at the deadline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from bot.blocks.grading import grade_text
from bot.blocks.retro import ANSWER_PARTS
from bot.blocks.text import context, escape, header, section, truncate

LINES_MAX = 30  # key results or answers listed in one section before "and N more"
ANSWER_SHOWN_MAX = 300


@dataclass(frozen=True)
class SummaryObjective:
    ref: str
    title: str
    commitment: str
    grade: str | None  # two decimals
    explanation: str | None = None


@dataclass(frozen=True)
class SummaryKeyResult:
    ref: str
    title: str
    objective_ref: str
    grade: str
    measured: bool
    reason: str | None = None


@dataclass(frozen=True)
class SummaryAnswer:
    part: str  # went_well | went_badly | to_change
    text: str
    author: str | None  # Slack user id; None when anonymous


@dataclass(frozen=True)
class SummaryData:
    cycle: str
    title: str  # the team's name, or "Company"
    objectives: list[SummaryObjective]
    key_results: list[SummaryKeyResult]
    sweet_spot: tuple[int, int, int, int]  # aspirational, inside, above, below
    sweet_share: str | None
    sweet_reading: str
    ratings: list[int] | None = None  # votes for 1..5; None: no retro (company)
    rating_mean: str | None = None
    answers: list[SummaryAnswer] = field(default_factory=list)
    hidden_anonymous: int = 0  # anonymous answers kept back (fewer than 3 answered)
    anonymous: bool = False
    participation: tuple[int, int, int, int] | None = None  # responded, people, voted, answered

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SummaryData:
        return cls(
            **{
                **body,
                "objectives": [SummaryObjective(**o) for o in body.get("objectives") or []],
                "key_results": [SummaryKeyResult(**k) for k in body.get("key_results") or []],
                "answers": [SummaryAnswer(**a) for a in body.get("answers") or []],
                "sweet_spot": tuple(body.get("sweet_spot") or (0, 0, 0, 0)),
                "participation": tuple(body["participation"])
                if body.get("participation")
                else None,
            }
        )


def _grade(text: str | None, *, measured: bool = False) -> str:
    return grade_text(Decimal(text), measured=measured) if text is not None else "not graded"


def _listed(lines: list[str]) -> str:
    shown = "\n".join(lines[:LINES_MAX])
    if len(lines) > LINES_MAX:
        shown += f"\n…and {len(lines) - LINES_MAX} more."
    return shown


def build_summary(data: SummaryData) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [header(f"{data.cycle} summary · {data.title}"[:150])]
    objectives = [
        f"*{o.ref}* {escape(o.title)} ({o.commitment}) {_grade(o.grade)}" for o in data.objectives
    ]
    blocks.append(section("*Objectives*\n" + (_listed(objectives) or "_None._")))
    key_results = [
        f"*{k.ref}* {escape(k.title)} ({k.objective_ref}) {_grade(k.grade, measured=k.measured)}"
        + (f" — _{escape(k.reason)}_" if k.reason else "")
        for k in data.key_results
    ]
    if key_results:
        blocks.append(section("*Key results*\n" + _listed(key_results)))
    total, inside, above, below = data.sweet_spot
    if total:
        blocks.append(
            section(
                f"*Sweet spot* (aspirational key results at 0.6–0.7): {inside} of {total} "
                f"({data.sweet_share}); {above} above, {below} below. {data.sweet_reading}"
            )
        )
    committed = [
        f"*{o.ref}* {escape(o.title)}: "
        + ("met" if Decimal(o.grade) >= 1 else f"missed ({o.grade})")
        + (f" — _{escape(o.explanation)}_" if o.explanation else "")
        for o in data.objectives
        if o.commitment == "committed" and o.grade is not None
    ]
    if committed:
        blocks.append(section("*Committed objectives*\n" + _listed(committed)))
    if data.ratings is not None:
        spread = " · ".join(f"{n}: {count}" for n, count in enumerate(data.ratings, start=1))
        mean = f", mean {data.rating_mean}" if data.rating_mean else ""
        blocks.append(section(f"*Rating of the cycle* ({sum(data.ratings)} votes{mean})\n{spread}"))
        blocks += _answers(data)
    if data.participation is not None:
        responded, people, voted, answered = data.participation
        blocks.append(
            context(
                f"Participation: {responded} of {people} responded ({voted} voted, "
                f"{answered} answered)" + (" · anonymous retrospective" if data.anonymous else "")
            )
        )
    return blocks[:50]


def _answers(data: SummaryData) -> list[dict[str, Any]]:
    blocks = []
    for part, label in ANSWER_PARTS:
        lines = [
            f"• {escape(truncate(a.text, ANSWER_SHOWN_MAX))}"
            + (f" — <@{a.author}>" if a.author else "")
            for a in data.answers
            if a.part == part
        ]
        if lines:
            blocks.append(section(f"*{label}*\n{_listed(lines)}"))
    if data.hidden_anonymous:
        blocks.append(
            context(
                f"{data.hidden_anonymous} anonymous answer(s) are not shown: anonymous answers "
                "are shown only when at least 3 people answered."
            )
        )
    return blocks


def summary_fallback(data: SummaryData) -> str:
    return escape(f"{data.cycle} summary · {data.title}")


HISTORY_BLOCKS_MAX = 50  # one message


def build_cycle_history(
    cycle_line: str, state: str, summaries: list[SummaryData]
) -> list[dict[str, Any]]:
    """A past cycle: its kept summaries (the company's, then each team's), within a message's
    limits; a cycle not closed yet says when its summary comes."""
    blocks: list[dict[str, Any]] = [section(cycle_line)]
    if not summaries:
        when = {
            "grading": "when its grading ends",
            "closed": "never: it closed with nothing graded",
        }.get(state, "once it has ended and been graded")
        blocks.append(context(f"No summary yet: it comes {when}."))
        return blocks
    shown = 0
    for data in summaries:
        part = build_summary(data)
        if len(blocks) + len(part) > HISTORY_BLOCKS_MAX - 1:
            break
        blocks += part
        shown += 1
    if shown < len(summaries):
        left = ", ".join(escape(s.title) for s in summaries[shown:])
        blocks.append(context(f"Not shown for lack of room: {left}."))
    return blocks
