"""The facilitator's report (`/okr report` and the weekly report DM): is the practice working?

Participation per team and week, people missing weeks in a row, stale key results, quality
findings and delivery problems, each cut to fit ("…and N more") so that the message stays
within Slack's limits (50 blocks, 3,000 characters a section, about 13,000 in all) however
big the workspace is. Everything a person typed is escaped; mentions come from Slack ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks.text import context, escape, header, section

TABLE_CHARS = 5000  # the participation table, over as many sections as it needs
SECTION_CHARS = 2800
LIST_CHARS = 1400  # each of the other lists
NAME_WIDTH = 16
CELL_WIDTH = 6
MAX_WEEKS = 8  # columns of the table: the cycle's latest weeks


@dataclass(frozen=True)
class Cell:
    """One team's week: owners who checked in on every key result / owners due (away and
    deactivated people are not due). `note` instead of figures: `skip`, `–` (no round yet)."""

    checked: int = 0
    due: int = 0
    note: str = ""

    def text(self) -> str:
        if self.note:
            return self.note
        return f"{self.checked}/{self.due}" if self.due else "·"


@dataclass(frozen=True)
class TeamRow:
    name: str  # as typed: escaped when shown
    paused: bool
    cells: tuple[Cell, ...]
    team_id: int | None = None  # None: key results that follow the workspace default schedule


@dataclass(frozen=True)
class Missing:
    slack_user_id: str
    weeks: int  # missed in a row, up to the latest finished week
    since: str  # the first week of that run


@dataclass(frozen=True)
class Stale:
    ref: str
    title: str
    owner_slack_id: str | None
    last_period: str | None  # the latest week with a check-in, None: never


@dataclass(frozen=True)
class Finding:
    ref: str  # the objective's
    title: str
    problems: tuple[str, ...]  # "too few key results", "KR3: no measurable target", ...


@dataclass(frozen=True)
class Failed:
    kind: str
    error: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class Attention:
    what: str  # a team's name, or the workspace's (as typed)
    reason: str


@dataclass(frozen=True)
class Unchecked:
    slack_user_id: str
    period: str
    reason: str


@dataclass(frozen=True)
class Report:
    cycle: str | None  # None: no open cycle
    as_of: str  # the workspace's local date and time
    periods: tuple[str, ...]
    teams: tuple[TeamRow, ...]
    total: tuple[Cell, ...]
    missing: tuple[Missing, ...]
    stale: tuple[Stale, ...]
    findings: tuple[Finding, ...]
    failed: tuple[Failed, ...]
    attention: tuple[Attention, ...]  # teams needing attention
    unchecked: tuple[Unchecked, ...]  # DM sweeps that could not read a DM
    paused_teams: tuple[str, ...]
    paused_workspace: str | None  # the reason, when the workspace is paused
    left_out_weeks: int = 0  # earlier weeks of the cycle not shown as columns


def _fit(name: str, width: int) -> str:
    """A team name cut and padded to `width` (then escaped: entities may make it wider, the
    columns stay readable), with backticks replaced so a name cannot end the code block."""
    name = " ".join(name.replace("`", "'").split())
    name = name if len(name) <= width else name[: width - 1] + "…"
    return escape(name.ljust(width))


def _row(name: str, cells: Sequence[Cell]) -> str:
    return _fit(name, NAME_WIDTH) + "".join(c.text().rjust(CELL_WIDTH) for c in cells)


def _capped(lines: Sequence[str], budget: int, *, noun: str) -> list[str]:
    """As many of `lines` as fit in `budget` characters, then "…and N more"."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget - 40:
            break
        kept.append(line)
        used += len(line) + 1
    if len(kept) < len(lines):
        kept.append(f"_…and {len(lines) - len(kept)} more {noun}_")
    return kept


def _table(report: Report) -> list[dict[str, Any]]:
    heading = _row("team", []) + "".join(p[-3:].rjust(CELL_WIDTH) for p in report.periods)
    rows = [
        _row(team.name + (" (paused)" if team.paused else ""), team.cells) for team in report.teams
    ]
    rows = _capped(rows, TABLE_CHARS, noun="teams")
    if rows and rows[-1].startswith("_…"):
        more = rows.pop()
    else:
        more = ""
    total = _row("everyone", report.total)
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = [heading]
    for line in [*rows, total]:
        if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_CHARS - 10:
            blocks.append(section("```\n" + "\n".join(chunk) + "\n```"))
            chunk = [heading]
        chunk.append(line)
    blocks.append(section("```\n" + "\n".join(chunk) + "\n```"))
    if more:
        blocks.append(context(more.strip("_")))
    return blocks


def _list(title: str, lines: Sequence[str], empty: str, *, noun: str) -> dict[str, Any]:
    if not lines:
        return section(f"*{title}*\n{empty}")
    return section(f"*{title}*\n" + "\n".join(_capped(lines, LIST_CHARS, noun=noun)))


def _mention(slack_user_id: str | None) -> str:
    return f"<@{slack_user_id}>" if slack_user_id else "no owner"


def _delivery_lines(report: Report) -> list[str]:
    lines = []
    if report.paused_workspace is not None:
        lines.append(f":no_entry: The workspace is paused: {escape(report.paused_workspace)}")
    lines += [f"• *{escape(name)}* is paused" for name in report.paused_teams]
    lines += [f"• *{escape(a.what)}* needs attention: {escape(a.reason)}" for a in report.attention]
    lines += [
        f"• {f.count} × `{escape(f.kind)}` failed: `{escape(f.error)}` "
        f"(last {f.last_at:%Y-%m-%d %H:%M} UTC)"
        for f in report.failed
    ]
    lines += [
        f"• {u.period}: could not read <@{u.slack_user_id}>'s DM before the digest: "
        f"{escape(u.reason)}"
        for u in report.unchecked
    ]
    return lines


def build_report(report: Report) -> list[dict[str, Any]]:
    if report.cycle is None:
        return [
            header("OKR report"),
            section("There is no open cycle. Start one with `/okr cycle start`."),
            _list("Delivery", _delivery_lines(report), "No delivery problems.", noun="more"),
        ]
    blocks: list[dict[str, Any]] = [
        header(f"OKR report · {report.cycle}"),  # plain_text: pings nobody
        context(
            f"As of {report.as_of}. Owners who checked in on every key result / owners due"
            " (away people are not due), per team and week."
        ),  # fmt: skip
    ]
    if report.teams:
        blocks += _table(report)
        if report.left_out_weeks:
            blocks.append(context(f"The cycle's first {report.left_out_weeks} weeks are not "
                                  "shown (nobody was due yet, or for width)."))  # fmt: skip
    else:
        blocks.append(section("No team has key results in this cycle yet."))
    blocks.append(
        _list(
            "Missing 2+ weeks in a row",
            [
                f"• {_mention(m.slack_user_id)}: {m.weeks} weeks, since {m.since}"
                for m in report.missing
            ],  # fmt: skip
            "Nobody.",
            noun="people",
        )
    )
    blocks.append(
        _list(
            "Stale key results (no check-in for 2+ weeks)",
            [
                f"• *{s.ref}* {escape(s.title)} · {_mention(s.owner_slack_id)} · "
                f"last check-in {s.last_period or 'never'}"
                for s in report.stale
            ],  # fmt: skip
            "None: every key result was checked in lately.",
            noun="key results",
        )
    )
    count = sum(len(f.problems) for f in report.findings)
    blocks.append(
        _list(
            f"Quality: {count} finding{'s' * (count != 1)} in {len(report.findings)} "
            f"objective{'s' * (len(report.findings) != 1)}",
            [
                f"• *{f.ref}* {escape(f.title)}: {escape('; '.join(f.problems))}"
                for f in report.findings
            ],  # fmt: skip
            "Nothing to suggest.",
            noun="objectives",
        )
    )
    blocks.append(
        _list("Delivery", _delivery_lines(report), "No delivery problems.", noun="problems")
    )
    return blocks


def report_text(report: Report) -> str:
    """The fallback text (notifications): escaped like the blocks."""
    if report.cycle is None:
        return "OKR report: no open cycle"
    return f"OKR report · {escape(report.cycle)}"
