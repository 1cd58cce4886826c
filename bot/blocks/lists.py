"""Lists and trees of OKRs, packed into sections within Slack's limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.okrs import KeyResultLine, number, outdated_mark, progress_bar
from bot.blocks.text import context, escape, header, plain, section

SECTION_CHARS = 2900
MAX_SECTIONS = 45


@dataclass
class ObjectiveNode:
    id: int
    ref: str
    title: str
    level: str
    parent_id: int | None
    progress: float | None
    key_results: list[KeyResultLine] = field(default_factory=list)
    children: list[ObjectiveNode] = field(default_factory=list)
    needs_key_results: bool = False  # the reader's to fill, and it has fewer than it should
    commitment: str = "aspirational"  # committed ones are marked beside their progress


@dataclass(frozen=True)
class Listing:
    cycle: str | None  # None: no active cycle
    objectives: Sequence[ObjectiveNode]


@dataclass(frozen=True)
class TeamListing:
    name: str
    paused: bool
    listing: Listing

    @property
    def title(self) -> str:  # a header: plain_text, so a name pings nobody
        return f"{self.name}{' (paused)' if self.paused else ''}"


def add_key_results_hint(node: ObjectiveNode) -> str:
    count = len(node.key_results)
    so_far = "No key results yet" if not count else f"Only {count} key result{'s' * (count != 1)}"
    return f"_{so_far}:_ add key results with `/okr kr add {node.ref}`"


def _lines(
    nodes: Sequence[ObjectiveNode], *, with_key_results: bool, depth: int = 0
) -> Iterator[str]:
    indent = "\u2003" * depth  # em spaces: mrkdwn keeps them
    for node in nodes:
        arrow = "↳ " if depth else ""
        mark = " · _committed_" if node.commitment == "committed" else ""
        yield (
            f"{indent}{arrow}*{node.ref}* {escape(node.title)}  {progress_bar(node.progress)}{mark}"
        )
        if node.needs_key_results:
            yield f"{indent}\u2003{add_key_results_hint(node)}"
        if with_key_results:
            for kr in node.key_results:
                now = number(kr.current, kr.unit) if kr.current is not None else "–"
                yield (
                    f"{indent}\u2003• *{kr.ref}* {escape(kr.title)}  {progress_bar(kr.progress)}  "
                    f"{now} → {number(kr.target, kr.unit)}{outdated_mark(kr.outdated)}"
                )
        yield from _lines(node.children, with_key_results=with_key_results, depth=depth + 1)


def build_listing(
    title: str, listing: Listing, *, empty: str, with_key_results: bool = True
) -> list[dict[str, Any]]:
    if listing.cycle is None:
        return [
            section(
                "No cycle is active. `/okr new` starts the current quarter with your first "
                "objective, or a facilitator starts one with `/okr cycle start`."
            )
        ]
    blocks: list[dict[str, Any]] = [header(title), context(f"Cycle {escape(listing.cycle)}")]
    if not listing.objectives:
        return [*blocks, section(empty)]
    chunk: list[str] = []
    size, left_out = 0, 0
    sections: list[dict[str, Any]] = []
    for line in _lines(listing.objectives, with_key_results=with_key_results):
        if len(sections) >= MAX_SECTIONS:
            left_out += 1
            continue
        if size + len(line) + 1 > SECTION_CHARS and chunk:
            sections.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk and len(sections) < MAX_SECTIONS:
        sections.append(section("\n".join(chunk)))
    blocks += sections
    if left_out:
        blocks.append(context(f"…and {left_out} more lines. `/okr show O7` shows one objective."))
    return blocks


def build_team_listing(team: TeamListing) -> list[dict[str, Any]]:
    empty = "No objectives for this team in the cycle yet. `/okr new` writes one."
    return build_listing(team.title, team.listing, empty=empty)


def build_tree_modal(listing: Listing) -> dict[str, Any]:
    """The alignment tree in a modal (the App Home's button)."""
    blocks = build_listing("Alignment tree", listing, empty="No objectives yet.")
    return {
        "type": "modal",
        "title": plain("Alignment tree"),
        "close": plain("Close"),
        "blocks": blocks[:100],
    }
