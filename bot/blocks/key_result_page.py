"""One key result as people read it: where it stands now, a sparkline of its cycle, and its
check-in history newest first, a page at a time. Titles, units and notes are user text:
escaped (or plain_text); people are mentioned only from their stored Slack ids."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.ids import Action, Block
from bot.blocks.okrs import OUTDATED_MARK, number, progress_bar
from bot.blocks.text import context, escape, header, plain, section
from bot.okr.history import SPARK_GAP

NOTE_CHARS = 400  # escaped: ten notes this long keep a page under ~13k characters of blocks
TITLE_CHARS = 300  # escaped, where a title is mrkdwn
MODAL_TITLE_CHARS = 24

STATUS_SHOWN = {"on_track": "🟢 on track", "at_risk": "🟡 at risk", "off_track": "🔴 off track"}
SOURCE_SHOWN = {
    "thread": "thread reply",
    "dm": "DM",
    "modal": "check-in form",
    "command": "command",
    "api": "API",
    "pull": "metric pull",
    "import": "import",
}
MARK_SHOWN = {"revised": "revised later", "withdrawn": "withdrawn"}
SPARK_HELP = f"{SPARK_GAP} a week with no check-in"


@dataclass(frozen=True)
class HistoryEntry:
    """One check-in row as it was recorded (retraction rows show as the mark they leave)."""

    period: str
    value: float
    confidence: int | None
    status: str | None
    note: str | None
    author_slack_id: str | None
    source: str
    mark: str | None = None  # "revised" or "withdrawn": it no longer counts


@dataclass(frozen=True)
class KeyResultPage:
    ref: str
    title: str
    objective_ref: str
    objective_title: str
    cycle: str
    state: str
    owner_slack_id: str | None
    unit: str
    start: float
    target: float
    current: float | None  # None: no check-in yet
    progress: float | None  # clamped
    status: str | None  # on_track | at_risk | off_track now (None: no check-in yet)
    status_reported: bool  # the owner reported it this period (else computed)
    last_reported_status: str | None  # what the latest check-in's week reported, if anything
    confidence: int | None
    outdated: bool
    last_period: str | None  # the latest period with a value
    sparkline: str  # one character a period, `first_period` to `last_shown_period`
    first_period: str
    last_shown_period: str
    entries: Sequence[HistoryEntry]  # this page's, newest first
    page: int  # 0: the newest check-ins
    pages: int
    checkins: int  # all of them, on every page


def page_value(ref: str, page: int) -> str:
    """What an Older / Newer button carries: the key result and the page it shows."""
    return f"{ref}:{page}"


def parse_page_value(value: str) -> tuple[str, int]:
    ref, _, page = value.partition(":")
    return ref, int(page) if page.isdigit() else 0


def key_result_page_text(page: KeyResultPage) -> str:
    """The message's fallback text (escaped like any mrkdwn)."""
    return f"{page.ref} {escape(page.title)}"


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escaped(text: str, limit: int) -> str:
    """`text` escaped, then cut to `limit` characters without splitting an `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    return re.sub(r"&[a-z]{0,3}$", "", escaped[: limit - 1]) + "…"


def _status(page: KeyResultPage) -> str:
    """Outdated overrides whatever was reported last: a green untouched for weeks is not
    green."""
    if page.outdated:
        since = f"since {page.last_period}" if page.last_period else "yet"
        reported = STATUS_SHOWN.get(page.last_reported_status or "")
        was = f" (last reported {reported})" if reported else ""
        return f"{OUTDATED_MARK}: no check-in {since}{was}"
    if page.current is None:
        return "no check-in yet"
    shown = STATUS_SHOWN.get(page.status or "", "–")
    return f"{shown} ({'reported' if page.status_reported else 'by progress and pace'})"


def _now(page: KeyResultPage) -> str:
    now = number(page.current, page.unit) if page.current is not None else "–"
    confidence = f" · confidence {page.confidence}/10" if page.confidence is not None else ""
    return (
        f"{number(page.start, page.unit)} → *{now}* → {number(page.target, page.unit)}  "
        f"{progress_bar(page.progress)}\n*Status* {_status(page)}{confidence}"
    )


def _entry(entry: HistoryEntry, unit: str) -> str:
    value = number(entry.value, unit)
    bits = [f"*{entry.period}*", f"~{value}~" if entry.mark else value]
    if entry.confidence is not None:
        bits.append(f"confidence {entry.confidence}/10")
    if entry.status:
        bits.append(STATUS_SHOWN.get(entry.status, escape(entry.status)))
    where = f"via {SOURCE_SHOWN.get(entry.source, escape(entry.source))}"
    bits.append(f"<@{entry.author_slack_id}> {where}" if entry.author_slack_id else where)
    if entry.mark:
        bits.append(f"_{MARK_SHOWN.get(entry.mark, escape(entry.mark))}_")
    text = " · ".join(bits)
    if entry.note:
        text += f"\n{_escaped(entry.note, NOTE_CHARS)}"
    return text


def _paging(page: KeyResultPage) -> dict[str, Any] | None:
    buttons: list[dict[str, Any]] = []
    if page.page > 0:
        buttons.append(
            {
                "type": "button",
                "action_id": Action.KEY_RESULT_NEWER,
                "value": page_value(page.ref, page.page - 1),
                "text": plain("Newer"),
            }
        )
    if page.page + 1 < page.pages:
        buttons.append(
            {
                "type": "button",
                "action_id": Action.KEY_RESULT_OLDER,
                "value": page_value(page.ref, page.page + 1),
                "text": plain("Older"),
            }
        )
    if not buttons:
        return None
    return {"type": "actions", "block_id": Block.KEY_RESULT_PAGING, "elements": buttons}


def build_key_result_page(page: KeyResultPage) -> list[dict[str, Any]]:
    """At most 18 blocks: header, facts, now, sparkline, history heading, 10 check-ins and
    the Older / Newer buttons."""
    facts = [
        f"key result of *{page.objective_ref}* {_escaped(page.objective_title, TITLE_CHARS)}",
        f"cycle {escape(page.cycle)}",
    ]
    if page.owner_slack_id:
        facts.append(f"owner <@{page.owner_slack_id}>")
    if page.state != "active":
        facts.append(escape(page.state))
    blocks: list[dict[str, Any]] = [
        header(f"{page.ref} {page.title}"),  # plain_text: nothing in a title pings anyone
        context(" · ".join(facts)),
        section(_now(page)),
    ]
    if page.sparkline:
        span = f"{page.first_period} to {page.last_shown_period}"
        blocks.append(section(f"*By week* `{page.sparkline}`  _{span}; {SPARK_HELP}_"))
    if not page.entries:
        blocks.append(context(f"No check-ins yet: `/okr update {page.ref} 45` records one."))
        return blocks
    of = f", page {page.page + 1} of {page.pages}" if page.pages > 1 else ""
    blocks.append(context(f"*Check-ins* ({page.checkins}, newest first{of})"))
    blocks += [section(_entry(entry, page.unit)) for entry in page.entries]
    paging = _paging(page)
    if paging is not None:
        blocks.append(paging)
    return blocks


def build_key_result_modal(page: KeyResultPage) -> dict[str, Any]:
    """The same page in a modal (opened from the App Home), paged with `views.update`."""
    return {
        "type": "modal",
        "title": plain(_shortened(f"{page.ref} history", MODAL_TITLE_CHARS)),
        "close": plain("Close"),
        "blocks": build_key_result_page(page),
    }
