"""Objectives and key results as people read them. Every title is user text: escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.blocks.grading import grade_text
from bot.blocks.text import context, escape, header, section
from bot.okr.numbers import format_number

BAR_CELLS = 10
OUTDATED_MARK = "⏳ outdated"  # no check-in for `okr.progress.OUTDATED_AFTER_PERIODS` periods


def progress_bar(progress: float | None) -> str:
    if progress is None:
        return "`··········` –"
    filled = round(max(0.0, min(1.0, progress)) * BAR_CELLS)
    return f"`{'█' * filled}{'·' * (BAR_CELLS - filled)}` {round(progress * 100)}%"


def number(value: float, unit: str = "") -> str:
    """A value as the bot shows it everywhere, forms included (`okr.numbers.format_number`:
    in full, so what a form shows reads back the same), with its unit."""
    text = format_number(value)
    return f"{text}{escape(unit)}" if unit in ("%",) else f"{text} {escape(unit)}".strip()


@dataclass(frozen=True)
class KeyResultLine:
    ref: str
    title: str
    unit: str
    start: float
    target: float
    current: float | None
    progress: float | None
    owner_slack_id: str | None
    confidence: int | None = None
    outdated: bool = False  # `okr.progress.is_outdated`: its last status no longer holds


def outdated_mark(outdated: bool) -> str:
    """What follows a key result's line when it is outdated (nothing otherwise)."""
    return f" · {OUTDATED_MARK}" if outdated else ""


@dataclass(frozen=True)
class ObjectivePage:
    ref: str
    title: str
    description: str
    level: str
    cycle: str
    state: str
    owner_slack_id: str | None
    team_name: str | None
    parent_ref: str | None
    progress: float | None
    key_results: Sequence[KeyResultLine]
    warnings: Sequence[str]
    commitment: str = "aspirational"
    # A closed cycle's final grades: the objective's, and each key result's (ref -> grade,
    # whether it was measured progress because nobody graded it).
    final_grade: Decimal | None = None
    grade_note: str | None = None
    key_result_grades: Mapping[str, tuple[Decimal, bool]] = field(default_factory=dict)


def key_result_text(kr: KeyResultLine) -> str:
    now = number(kr.current, kr.unit) if kr.current is not None else "no check-in yet"
    owner = f" · <@{kr.owner_slack_id}>" if kr.owner_slack_id else ""
    confidence = f" · confidence {kr.confidence}/10" if kr.confidence is not None else ""
    return (
        f"*{kr.ref}* {escape(kr.title)}\n{progress_bar(kr.progress)}  {now} "
        f"(from {number(kr.start, kr.unit)} to {number(kr.target, kr.unit)}){owner}{confidence}"
        f"{outdated_mark(kr.outdated)}"
    )


def build_objective_page(page: ObjectivePage) -> list[dict[str, Any]]:
    facts = [f"{page.level} objective ({page.commitment})", f"cycle {escape(page.cycle)}"]
    if page.team_name:
        facts.append(f"team {escape(page.team_name)}")
    if page.owner_slack_id:
        facts.append(f"owner <@{page.owner_slack_id}>")
    if page.parent_ref:
        facts.append(f"aligned to {page.parent_ref}")
    if page.state != "active":
        facts.append(page.state)
    blocks: list[dict[str, Any]] = [
        header(f"{page.ref} {page.title}"),  # plain_text: nothing in a title pings anyone
        context(" · ".join(facts)),
    ]
    if page.description:
        blocks.append(section(escape(page.description)))
    blocks.append(section(f"*Progress* {progress_bar(page.progress)} · {page.commitment}"))
    if page.final_grade is not None:
        note = f"\n_{escape(page.grade_note)}_" if page.grade_note else ""
        blocks.append(section(f"*Final grade* {grade_text(page.final_grade)}{note}"))
    for kr in page.key_results[:40]:
        text = key_result_text(kr)
        if kr.ref in page.key_result_grades:
            grade, measured = page.key_result_grades[kr.ref]
            text += f"\nFinal grade {grade_text(grade, measured=measured)}"
        blocks.append(section(text))
    if not page.key_results:
        blocks.append(section(f"No key results yet: add one with `/okr kr add {page.ref}`."))
    if page.warnings:
        tips = "\n".join(f"• {escape(w)}" for w in page.warnings[:8])
        blocks.append(context(f"*Suggestions*\n{tips}"))
    return blocks
