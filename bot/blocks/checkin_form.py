"""The weekly check-in form: at most 10 key results a page, each with its value box
pre-filled by the one number formatter, so a form sent unchanged reads back the same values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.ids import Callback, CheckinField
from bot.blocks.okrs import number
from bot.blocks.text import context, escape, plain, section
from bot.okr.numbers import format_number
from bot.okr.progress import Status

STATUS_LABELS = {
    Status.ON_TRACK.value: "On track",
    Status.AT_RISK.value: "At risk",
    Status.OFF_TRACK.value: "Off track",
}
VALUE_MAX = 60  # characters in a value box: a number, a sign, a unit, `done`


@dataclass(frozen=True)
class CheckinFormRow:
    ref: str
    title: str
    unit: str
    start: float
    target: float
    current: float | None
    confidence: int | None


@dataclass(frozen=True)
class CheckinFormPage:
    refs: tuple[str, ...]  # every key result of the form, in order
    page: int
    pages: int
    saved: int  # check-ins saved by earlier pages
    period: str | None  # the prompt's period, when opened from one
    rows: tuple[CheckinFormRow, ...]
    shown: dict[str, str] = field(default_factory=dict)  # ref -> the value box as pre-filled

    @property
    def metadata(self) -> str:
        shown = {
            row.ref: format_number(row.current) for row in self.rows if row.current is not None
        }
        return json.dumps(
            {
                "refs": self.refs,
                "page": self.page,
                "period": self.period,
                "saved": self.saved,
                "shown": shown,
            }
        )


def form_from_metadata(raw: str | None, *, page_size: int) -> CheckinFormPage:
    """The page a submitted view was (its rows are not needed to save it)."""
    meta = json.loads(raw or "{}")
    refs = tuple(str(r) for r in meta.get("refs") or [])[:1000]
    return CheckinFormPage(
        refs=refs,
        page=max(0, int(meta.get("page") or 0)),
        pages=(len(refs) + page_size - 1) // page_size,
        saved=max(0, int(meta.get("saved") or 0)),
        period=str(meta["period"]) if meta.get("period") else None,
        rows=(),
        shown={str(k): str(v) for k, v in dict(meta.get("shown") or {}).items()},
    )


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def _optional_input(block_id: str, label: str, element: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": True,
        "element": element,
    }


def _rows(row: CheckinFormRow) -> list[dict[str, Any]]:
    value: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": CheckinField.VALUE,
        "max_length": VALUE_MAX,
    }
    if row.current is not None:
        value["initial_value"] = format_number(row.current)
    confidences = [_option(str(i), str(i)) for i in range(11)]
    confidence: dict[str, Any] = {
        "type": "static_select",
        "action_id": CheckinField.CONFIDENCE,
        "options": confidences,
    }
    if row.confidence is not None and 0 <= row.confidence <= 10:
        confidence["initial_option"] = confidences[row.confidence]
    statuses = [_option(k, v) for k, v in STATUS_LABELS.items()]
    return [
        section(
            f"*{row.ref}* {escape(row.title)}\nfrom {number(row.start, row.unit)} "
            f"to {number(row.target, row.unit)}"
        ),
        _optional_input(f"{CheckinField.VALUE}:{row.ref}", "Value now", value),
        _optional_input(f"{CheckinField.CONFIDENCE}:{row.ref}", "Confidence (0–10)", confidence),
        _optional_input(
            f"{CheckinField.STATUS}:{row.ref}",
            "Status",
            {"type": "static_select", "action_id": CheckinField.STATUS, "options": statuses},
        ),
        _optional_input(
            f"{CheckinField.NOTE}:{row.ref}",
            "Note",
            {"type": "plain_text_input", "action_id": CheckinField.NOTE, "max_length": 2000},
        ),
    ]


def build_checkin_form(form: CheckinFormPage) -> dict[str, Any]:
    note = f"Page {form.page + 1} of {form.pages}." if form.pages > 1 else ""
    if form.period:
        note = f"For {form.period}. {note}".strip()
    if form.saved:
        note = f"Saved {_checkins(form.saved)}. {note}"
    blocks: list[dict[str, Any]] = [context(note or "Leave a value empty to skip it this week.")]
    for row in form.rows:
        blocks += _rows(row)
    last = form.page + 1 >= form.pages
    return {
        "type": "modal",
        "callback_id": Callback.CHECKIN,
        "title": plain("Weekly check-in"),
        "submit": plain("Save" if last else "Save and next"),
        "close": plain("Cancel"),
        "private_metadata": form.metadata,
        "blocks": blocks,
    }


def build_checkin_done(saved: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Weekly check-in"),
        "close": plain("Done"),
        "blocks": [section(f"Saved {_checkins(saved)}. Thank you!")],
    }


def build_checkin_refused(reason: str) -> dict[str, Any]:
    """The modal a prompt's button opens when there is nothing this person may check in."""
    return {
        "type": "modal",
        "title": plain("Weekly check-in"),
        "close": plain("Close"),
        "blocks": [section(escape(reason))],
    }


def _checkins(count: int) -> str:
    return f"{count} check-in{'s' if count != 1 else ''}"
