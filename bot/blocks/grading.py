"""Grading: the DM that asks a person to grade (and its reminder), the grading modal, and
grades as people read them (a number, its band, whether it was measured)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.blocks.ids import Action, Callback
from bot.blocks.text import context, escape, plain, section
from bot.okr.grading import Band, band

BAND_MARKS = {Band.GREEN: "🟢", Band.YELLOW: "🟡", Band.RED: "🔴"}
COMMITMENT_WORDS = {"aspirational": "aspirational", "committed": "committed"}
REASON_INPUT_MAX = 300


@dataclass(frozen=True)
class GradingLine:
    ref: str
    title: str
    objective_ref: str
    commitment: str
    measured: Decimal
    grade: Decimal | None  # graded by a person so far
    reason: str | None
    standing_in: bool  # graded for a deactivated owner


@dataclass(frozen=True)
class ObjectiveToExplain:
    ref: str
    title: str
    note: str | None


@dataclass(frozen=True)
class GradingForm:
    cycle_id: int
    cycle: str
    deadline: date
    lines: tuple[GradingLine, ...]
    explain: tuple[ObjectiveToExplain, ...]  # their committed objectives
    more: int = 0  # key results beyond the modal's room

    @property
    def metadata(self) -> str:
        return json.dumps(
            {"cycle": self.cycle_id, "refs": [line.ref for line in self.lines],
             "explain": [o.ref for o in self.explain]}
        )  # fmt: skip


def metadata_of(raw: str | None) -> tuple[int, list[str], list[str]]:
    """(cycle id, key result refs, objective refs) a submitted grading modal showed."""
    meta = json.loads(raw or "{}")
    refs = [str(r) for r in meta.get("refs") or []][:100]
    return int(meta.get("cycle") or 0), refs, [str(r) for r in meta.get("explain") or []][:100]


def grade_text(grade: Decimal, *, measured: bool = False) -> str:
    """`🟢 0.70`, with `(measured)` when nobody graded it by the deadline."""
    return f"{BAND_MARKS[band(grade)]} {grade:.2f}" + (" _(measured)_" if measured else "")


def commitment_word(commitment: str) -> str:
    return COMMITMENT_WORDS.get(commitment, commitment)


def _line_text(line: GradingLine) -> str:
    graded = f" · graded {line.grade:.2f}" if line.grade is not None else ""
    stand_in = " _(its owner is deactivated: you grade it)_" if line.standing_in else ""
    return (
        f"*{line.ref}* {escape(line.title)} ({line.objective_ref}, "
        f"{commitment_word(line.commitment)}) — measured {line.measured:.2f}{graded}{stand_in}"
    )


def build_grading_message(form: GradingForm, *, reminder: bool = False) -> list[dict[str, Any]]:
    """The grading DM (or its reminder, listing only what is still to grade)."""
    if reminder:
        intro = (
            f"*Reminder:* grading of *{escape(form.cycle)}* ends on {form.deadline}. These "
            "still need your grade; after the deadline they take their measured progress."
        )
    else:
        intro = (
            f"*{escape(form.cycle)}* has ended: grade each of your key results from 0.0 to 1.0 "
            f"by {form.deadline}. The measured progress is filled in; a grade more than 0.3 "
            "away from it needs a short reason."
        )
    shown = "\n".join(_line_text(line) for line in form.lines[:30])
    blocks = [section(intro), section(shown or "_Nothing to grade._")]
    if len(form.lines) > 30 or form.more:
        blocks.append(context(f"…and {len(form.lines) - 30 + form.more} more."))
    if form.explain:
        refs = ", ".join(o.ref for o in form.explain)
        blocks.append(
            context(f"Committed objectives of yours ({refs}): below 1.0, say why in the form.")
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.GRADING_OPEN,
                    "text": plain("Grade my key results"),
                    "style": "primary",
                    "value": str(form.cycle_id),
                }
            ],
        }
    )
    return blocks


def grading_fallback(form: GradingForm, *, reminder: bool = False) -> str:
    word = "Reminder: grade" if reminder else "Grade"
    return f"{word} your key results of {form.cycle} by {form.deadline}"


def _input(block_id: str, label: str, *, initial: str | None, optional: bool) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block_id.split(":")[0],
        "max_length": REASON_INPUT_MAX,
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }


def build_grading_modal(form: GradingForm) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        context(
            f"Grades go from 0.0 to 1.0 (0.7 or 70%). Until {form.deadline} you can change "
            "them; a grade more than 0.3 away from the measured progress needs a reason."
        )
    ]
    for line in form.lines:
        prefill = line.grade if line.grade is not None else line.measured
        blocks += [
            section(_line_text(line)),
            _input(f"grade:{line.ref}", f"{line.ref} grade", initial=f"{prefill:.2f}",
                   optional=False),
            _input(f"reason:{line.ref}", "Reason (needed if more than 0.3 from measured)",
                   initial=line.reason, optional=True),
        ]  # fmt: skip
    for objective in form.explain:
        blocks.append(
            _input(
                f"explain:{objective.ref}",
                f"{objective.ref} is committed: if it lands below 1.0, why?",
                initial=objective.note,
                optional=True,
            )
        )
    if form.more:
        blocks.append(
            context(f"{form.more} more: grade them with `/okr grade KR12 0.7` (their refs).")
        )
    return {
        "type": "modal",
        "callback_id": Callback.GRADING,
        "title": plain(f"Grade {form.cycle}"[:24]),
        "submit": plain("Save grades"),
        "close": plain("Cancel"),
        "private_metadata": form.metadata,
        "blocks": blocks[:100],
    }


def build_grading_saved(cycle: str, saved: list[tuple[str, Decimal]]) -> dict[str, Any]:
    shown = ", ".join(f"{ref} {grade:.2f}" for ref, grade in saved) or "nothing changed"
    return {
        "type": "modal",
        "title": plain("Grades saved"),
        "close": plain("Done"),
        "blocks": [section(f"*{escape(cycle)}*: {shown}. You can change them until the deadline.")],
    }


def build_grading_refused(reason: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Grading"),
        "close": plain("Close"),
        "blocks": [section(escape(reason))],
    }
