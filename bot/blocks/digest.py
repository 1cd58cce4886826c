"""A team's digest as Block Kit, split into parts that each fit one Slack message.

Every piece of person-typed text (titles, notes, units, the team's name) is escaped and cut;
people are mentioned only by their stored Slack ids. A part holds at most `PART_BLOCKS`
blocks and `PART_CHARS` characters of block text, well inside Slack's 50 blocks and its
~13k characters of blocks a message; each section stays under 3000 characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.okrs import OUTDATED_MARK, number, progress_bar
from bot.blocks.text import context, escape, header, section

PART_BLOCKS = 45
PART_CHARS = 12_000  # of the blocks as JSON (Slack refuses about 13k); the heading is apart
TITLE_MAX = 150
NOTE_MAX = 120
LISTED_TITLE_MAX = 40  # a key result's title again, in the lists after the objectives
SECTION_MAX = 2900
STATUS_LABEL = {"on_track": "🟢 on track", "at_risk": "🟡 at risk", "off_track": "🔴 off track"}


@dataclass(frozen=True)
class DigestKeyResult:
    ref: str
    title: str
    unit: str
    target: float
    value: float | None
    previous_value: float | None
    progress: float  # clamped
    previous_progress: float
    confidence: int | None
    previous_confidence: int | None
    status: str  # on_track | at_risk | off_track (computed when none was reported)
    reported: bool  # the owner reported the status this week
    outdated: bool  # overrides the status shown
    note: str | None
    owner_slack_id: str | None
    dropped: bool = False
    win: bool = False


@dataclass(frozen=True)
class DigestObjective:
    ref: str
    title: str
    progress: float | None
    delta: float | None
    shared: bool
    owner_slack_id: str | None
    key_results: tuple[DigestKeyResult, ...]
    committed: bool = False  # expected to land at 1.0 (else aspirational: 0.6-0.7 is good)


@dataclass(frozen=True)
class MissingPerson:
    slack_id: str
    streak: int  # weeks in a row missed, this one included


@dataclass(frozen=True)
class DigestData:
    team_name: str
    period: str
    expected: float  # share of the cycle gone at D
    objectives: tuple[DigestObjective, ...]
    personal: tuple[DigestObjective, ...]
    attention: tuple[DigestKeyResult, ...]
    drops: tuple[DigestKeyResult, ...]
    wins: tuple[DigestKeyResult, ...]
    checked_in: tuple[str, ...]
    missing: tuple[MissingPerson, ...]
    away: tuple[str, ...]


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _delta(delta: float | None) -> str:
    if delta is None:
        return ""
    points = round(delta * 100)
    return f" ({'+' if points >= 0 else '−'}{abs(points)} pts)"


def pace(progress: float | None, expected: float) -> str:
    """`62 % done, 55 % of the cycle gone: ahead`."""
    if progress is None:
        return f"no key result to measure, {_percent(expected)} of the cycle gone"
    verdict = "ahead" if progress >= expected else "behind"
    return f"{_percent(progress)} done, {_percent(expected)} of the cycle gone: {verdict}"


def status_text(kr: DigestKeyResult) -> str:
    if kr.outdated:
        return OUTDATED_MARK
    shown = STATUS_LABEL.get(kr.status, escape(kr.status))
    return shown if kr.reported else f"{shown} (suggested)"


def key_result_text(kr: DigestKeyResult) -> str:
    owner = f" · <@{kr.owner_slack_id}>" if kr.owner_slack_id else ""
    value = number(kr.value, kr.unit) if kr.value is not None else "no check-in yet"
    change = ""
    if kr.value is not None and kr.previous_value is not None and kr.value != kr.previous_value:
        change = f" (was {number(kr.previous_value, kr.unit)})"
    confidence = f" · confidence {kr.confidence}/10" if kr.confidence is not None else ""
    return (
        f"*{kr.ref}* {_cut(kr.title, TITLE_MAX)}{owner}\n"
        f"{progress_bar(kr.progress)}{_delta(kr.progress - kr.previous_progress)} · "
        f"{value} of {number(kr.target, kr.unit)}{change}{confidence} · {status_text(kr)}"
    )


COMMITTED_MARK = " · _committed_"  # as in the lists: aspirational is the unmarked default


def _objective_text(objective: DigestObjective, expected: float) -> str:
    tag = " (shared)" if objective.shared else ""
    owner = f" · <@{objective.owner_slack_id}>" if objective.owner_slack_id else ""
    return (
        f"*{objective.ref}* {_cut(objective.title, TITLE_MAX)}{tag}{owner}\n"
        f"{progress_bar(objective.progress)}{_delta(objective.delta)} · "
        f"{pace(objective.progress, expected)}{COMMITTED_MARK if objective.committed else ''}"
    )


def _listed(title: str, lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines under a bold title, as few sections as fit 3000 characters each."""
    blocks: list[dict[str, Any]] = []
    current = f"*{title}*"
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_MAX:
            blocks.append(section(current))
            current = line
        else:
            current += "\n" + line
    blocks.append(section(current))
    return blocks


def _body(data: DigestData) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for group, objectives in (("Team objectives", data.objectives),
                              ("Personal key results", data.personal)):  # fmt: skip
        if not objectives:
            continue
        blocks.append(section(f"*{group}*"))
        for objective in objectives:
            blocks.append(section(_objective_text(objective, data.expected)))
            blocks += [section(key_result_text(kr)) for kr in objective.key_results]
    if data.attention:
        blocks += _listed("Needs attention", [
            f"• *{kr.ref}* {_cut(kr.title, LISTED_TITLE_MAX)} · {status_text(kr)}"
            + (f" — “{_cut(kr.note, NOTE_MAX)}”" if kr.note else "")
            for kr in data.attention
        ])  # fmt: skip
    if data.drops:
        blocks += _listed("Confidence drops", [
            f"• *{kr.ref}* {_cut(kr.title, LISTED_TITLE_MAX)} · confidence "
            f"{kr.previous_confidence if kr.previous_confidence is not None else '–'} → "
            f"{kr.confidence if kr.confidence is not None else '–'} · {status_text(kr)}"
            for kr in data.drops
        ])  # fmt: skip
    if data.wins:
        blocks += _listed("Wins", [
            f"• *{kr.ref}* {_cut(kr.title, LISTED_TITLE_MAX)} · {_percent(kr.progress)}"
            + (" — target reached" if kr.progress >= 1.0 else " — past 70 %")
            for kr in data.wins
        ])  # fmt: skip
    people = [
        "Checked in: " + (" ".join(f"<@{s}>" for s in data.checked_in) or "nobody yet"),
        "Missing: " + (" ".join(
            f"<@{m.slack_id}> ({m.streak} week{'s' if m.streak != 1 else ''} in a row)"
            for m in data.missing) or "nobody"),
        "Away: " + (" ".join(f"<@{s}>" for s in data.away) or "nobody"),
    ]  # fmt: skip
    blocks += _listed("Who", people)
    return blocks


def _chars(block: dict[str, Any]) -> int:
    return len(json.dumps(block, ensure_ascii=False)) + 2


def build_digest_parts(data: DigestData) -> list[list[dict[str, Any]]]:
    """The digest's parts, in order; each is one message's blocks."""
    title = f"{_cut(data.team_name, 80)} · digest for {data.period}"
    heads = [header(f"📊 {data.team_name[:80]} · {data.period}")]
    body = _body(data)
    parts: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for block in body:
        if current and (len(current) + 2 > PART_BLOCKS or size + _chars(block) > PART_CHARS):
            parts.append(current)
            current, size = [], 0
        current.append(block)
        size += _chars(block)
    parts.append(current)
    total = len(parts)
    return [
        [*heads, context(title + (f" · part {n} of {total}" if total > 1 else "")), *blocks]
        for n, blocks in enumerate(parts, start=1)
    ]


def digest_fallback(data: DigestData, part: int, total: int) -> str:
    suffix = f" (part {part} of {total})" if total > 1 else ""
    return f"{_cut(data.team_name, 80)} · digest for {data.period}{suffix}"


CHART_TEXT = "📈 Progress per week against the expected line"


def build_chart(file_id: str, alt_text: str) -> list[dict[str, Any]]:
    """The digest chart's message: the uploaded PNG as an image block (`alt_text` is plain
    text, at most 2000 characters, as `bot.charts.alt_text` makes it)."""
    return [
        {"type": "image", "slack_file": {"id": file_id}, "alt_text": alt_text},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": CHART_TEXT}]},
    ]
