"""The check-in messages: a team's round prompt, a person's weekly DM, the reminder, and the
confirmations of a reply. Pure builders; every title is user text and is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.blocks.ids import Action
from bot.blocks.okrs import KeyResultLine, number, progress_bar
from bot.blocks.text import context, escape, header, section
from bot.okr.progress import Status

METADATA_EVENT = "okr_checkin_prompt"
MAX_LINES = 60  # keeps a prompt under Slack's 50 blocks and ~13k characters
LINES_PER_SECTION = 10


@dataclass(frozen=True)
class PromptLine:
    number: int
    key_result: KeyResultLine
    team_name: str | None = None  # shown in a DM, where lines come from several teams
    checked_in: bool = False
    pulled_ago: str | None = None  # the value was fetched from its source this long ago
    source_error: str | None = None  # its source's last pull failed, and why


def ago(elapsed: timedelta) -> str:
    """`just now`, `5 min ago`, `2 h ago`, `3 d ago`: how old a pulled value is."""
    minutes = int(max(elapsed.total_seconds(), 0) // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} d ago"


@dataclass(frozen=True)
class PromptMessage:
    kind: str  # "prompt" (team channel), "dm" or "reminder"
    period: str
    lines: Sequence[PromptLine]
    team_name: str | None = None
    more: int = 0  # lines left out beyond MAX_LINES
    waiting_for: Sequence[str] = ()  # Slack user ids still to check in (round prompt)
    done_by: Sequence[str] = ()  # Slack user ids who have checked in (round prompt)


HOW_TO_REPLY = (
    "Reply in this thread, one line per key result: `#1 45 conf 7 — shipped the beta` "
    "(line number or `KR12`, the value, then optionally confidence 0–10, `on track` / "
    "`at risk` / `off track`, and a note after ` — `). Or press *Check in*."
)
HOW_TO_REPLY_DM = HOW_TO_REPLY.replace("Reply in this thread", "Reply here")


def line_text(line: PromptLine) -> str:
    kr = line.key_result
    now = number(kr.current, kr.unit) if kr.current is not None else "no value yet"
    of = f"of {number(kr.target, kr.unit)}"
    if line.pulled_ago is not None:  # "1,240 ← from source, 2 h ago (of 2,000)"
        now, of = f"{now} ← from source, {line.pulled_ago}", f"({of})"
    parts = [
        f"*{line.number}.* *{kr.ref}* {escape(kr.title)}",
        f"   {progress_bar(kr.progress)}  {now} {of}",
    ]
    extras = []
    if kr.confidence is not None:
        extras.append(f"confidence {kr.confidence}/10")
    if line.team_name:
        extras.append(escape(line.team_name))
    if kr.owner_slack_id:
        extras.append(f"<@{kr.owner_slack_id}>")
    if line.checked_in:
        extras.append(":white_check_mark: checked in")
    if line.source_error:
        extras.append(f":warning: source failed: {escape(line.source_error)}")
    if extras:
        parts[1] += " · " + " · ".join(extras)
    return "\n".join(parts)


def _title(message: PromptMessage) -> str:
    if message.kind == "prompt":
        return f"Weekly check-in · {message.team_name or 'team'} · {message.period}"
    if message.kind == "reminder":
        return f"Reminder: still to check in · {message.period}"
    return f"Your weekly check-in · {message.period}"


def fallback_text(message: PromptMessage) -> str:
    count = len(message.lines) + message.more
    noun = "key result" if count == 1 else "key results"
    return f"{escape(_title(message))}: {count} {noun} to update."  # the team name is typed


def build_prompt(message: PromptMessage) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [header(_title(message))]
    lines = list(message.lines)
    for start in range(0, len(lines), LINES_PER_SECTION):
        blocks.append(
            section("\n".join(line_text(x) for x in lines[start : start + LINES_PER_SECTION]))
        )
    if message.more:
        blocks.append(context(f"…and {message.more} more: `/okr checkin` shows every one."))
    if message.kind == "prompt" and (message.done_by or message.waiting_for):
        done = ", ".join(f"<@{u}>" for u in message.done_by) or "nobody yet"
        status = f":white_check_mark: Checked in: {done}"
        if message.waiting_for:
            status += " · Waiting for: " + ", ".join(f"<@{u}>" for u in message.waiting_for)
        blocks.append(context(status))
    blocks.append(context(HOW_TO_REPLY if message.kind == "prompt" else HOW_TO_REPLY_DM))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.CHECKIN_FROM_PROMPT,
                    "text": {"type": "plain_text", "text": "Check in"},
                    "style": "primary",
                    "value": message.period,
                }
            ],
        }
    )
    return blocks


def prompt_metadata(key: str, lines: Sequence[tuple[int, str]]) -> dict[str, Any]:
    """Carried by the posted message: the outbox key finds it again after an uncertain post,
    and the lines let the prompt rows be rebuilt from the message itself."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": key, "lines": [f"{kr}:{period}" for kr, period in lines]},
    }


def metadata_lines(metadata: dict[str, Any]) -> list[tuple[int, str]]:
    raw = (metadata.get("event_payload") or {}).get("lines") or []
    out = []
    for item in raw:
        kr, _, period = str(item).partition(":")
        if kr.isdigit() and period:
            out.append((int(kr), period))
    return out


@dataclass(frozen=True)
class RecordedLine:
    ref: str
    value: float
    unit: str
    progress: float | None
    status: str | None = None
    confidence: int | None = None
    title: str = ""
    target: float | None = None


@dataclass(frozen=True)
class RefusedLine:
    text: str
    reason: str
    example: str = ""


STATUS_WORDS = {status.value: status.value.replace("_", " ") for status in Status}


def confirmation_text(
    recorded: Sequence[RecordedLine], refused: Sequence[RefusedLine], *, period: str
) -> str:
    """The short thread reply after a check-in: what was recorded, what was not and why."""
    out = []
    for line in recorded:
        bits = [f"*{line.ref}* {number(line.value, line.unit)}"]
        if line.progress is not None:
            bits.append(f"{round(line.progress * 100)}%")
        if line.status:
            bits.append(STATUS_WORDS.get(line.status, line.status))
        if line.confidence is not None:
            bits.append(f"confidence {line.confidence}/10")
        out.append(" · ".join(bits))
    text = ""
    if out:
        text = f"Recorded for {period}: " + "; ".join(out) + "."
    for refusal in refused[:MAX_REFUSALS_SHOWN]:
        example = f" For example: `{escape(refusal.example)}`" if refusal.example else ""
        typed = escape(_shortened(refusal.text))
        text += f"\n:warning: `{typed}`: {escape(_shortened(refusal.reason, 400))}{example}"
    if len(refused) > MAX_REFUSALS_SHOWN:
        text += f"\n…and {len(refused) - MAX_REFUSALS_SHOWN} more lines I could not read."
    return text.strip()


MAX_REFUSALS_SHOWN = 20  # a confirmation stays far below Slack's 40,000 characters


def _shortened(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def update_answer(
    recorded: Sequence[RecordedLine],
    refused: Sequence[RefusedLine],
    explanation: str | None,
    *,
    period: str,
) -> tuple[str, list[dict[str, Any]]]:
    """What `/okr update` answers: the value recorded and its progress, or why not."""
    if recorded:
        line = recorded[0]
        of = f" of {number(line.target, line.unit)}" if line.target is not None else ""
        extras = [STATUS_WORDS.get(line.status, line.status)] if line.status else []
        if line.confidence is not None:
            extras.append(f"confidence {line.confidence}/10")
        more = f" ({', '.join(extras)})" if extras else ""
        text = (
            f"Recorded *{line.ref}* {escape(line.title)}: {number(line.value, line.unit)}{of} "
            f"for {period}{more}."
        )
        return text, [section(f"{text}\n{progress_bar(line.progress)}")]
    if refused:
        refusal = refused[0]
        example = (
            f" For example: `/okr update {escape(refusal.example)}`" if refusal.example else ""
        )
        text = f"{escape(refusal.reason)}{example}"
    else:
        text = explanation or "Nothing was recorded."
    return text, [section(text)]
