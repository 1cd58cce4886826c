"""The App Home tab: my key results, my teams' objectives, and a way in for newcomers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.blocks.grading import grade_text
from bot.blocks.help import INTRO
from bot.blocks.ids import Action, Block
from bot.blocks.lists import SECTION_CHARS, Listing
from bot.blocks.okrs import number, outdated_mark, progress_bar
from bot.blocks.text import context, escape, header, plain, section

MAX_HOME_BLOCKS = 95


def _buttons(*, can_check_in: bool | None = None) -> dict[str, Any]:
    """The home's buttons; None: a newcomer's (there is no tree to open yet)."""
    elements: list[dict[str, Any]] = []
    if can_check_in:
        elements.append(
            {
                "type": "button",
                "action_id": Action.HOME_CHECKIN,
                "style": "primary",
                "text": plain("Check in"),
            }
        )
    elements.append(
        {"type": "button", "action_id": Action.HOME_NEW_OBJECTIVE, "text": plain("New objective")}
    )
    if can_check_in is not None:
        elements.append(
            {"type": "button", "action_id": Action.HOME_TREE, "text": plain("Alignment tree")}
        )
    return {"type": "actions", "block_id": Block.HOME_ACTIONS, "elements": elements}


def _with_history_button(block: dict[str, Any], ref: str) -> dict[str, Any]:
    """A key result's line, with a button that opens its page (history and sparkline)."""
    button = {
        "type": "button",
        "action_id": Action.HOME_KEY_RESULT,
        "value": ref,
        "text": plain("History"),
    }
    return {**block, "accessory": button}


@dataclass(frozen=True)
class PastCycle:
    """A closed cycle on App Home: the person's and their teams' objectives' final grades."""

    name: str
    grades: list[tuple[str, str, Decimal]]  # (ref, title, grade)


def _past_blocks(past: Sequence[PastCycle]) -> list[dict[str, Any]]:
    if not past:
        return []
    blocks: list[dict[str, Any]] = [{"type": "divider"}, section("*Past cycles*")]
    for cycle in past:
        grades = "\n".join(
            f"*{ref}* {escape(title)}  {grade_text(grade)}" for ref, title, grade in cycle.grades
        )
        blocks.append(
            section(
                f"*{escape(cycle.name)}*\n{grades or '_No graded objectives of yours._'}\n"
                f"Summaries and retrospectives: `/okr cycle show {escape(cycle.name)}`"
            )
        )
    return blocks


def build_home_view(
    *,
    mine: Listing | None = None,
    team: Listing | None = None,
    person_name: str | None = None,
    past: Sequence[PastCycle] = (),
) -> dict[str, Any]:
    greeting = f"Welcome, {person_name}" if person_name else "Your OKRs"
    blocks: list[dict[str, Any]] = [header(greeting)]  # plain_text: a name pings nobody
    if mine is None or mine.cycle is None:
        blocks += [
            section(INTRO),
            section(
                "*Get started*\n"
                "1. Write your first objective: the button below or `/okr new` "
                "(it starts the current quarter).\n"
                "2. Give it 2 to 5 key results, each a number with a start and a target.\n"
                "3. Check in every week with `/okr update KR12 45`.\n"
                "`/okr help` lists everything."
            ),
            _buttons(),
            *_past_blocks(past),
        ]
        return {"type": "home", "blocks": blocks}
    owns = any(objective.key_results for objective in mine.objectives)
    blocks += [
        context(f"Cycle {escape(mine.cycle)}"),
        _buttons(can_check_in=owns),
        section("*Your key results*"),
    ]
    lines = []
    for objective in mine.objectives:
        for kr in objective.key_results:
            now = number(kr.current, kr.unit) if kr.current is not None else "no check-in yet"
            confidence = f" · confidence {kr.confidence}/10" if kr.confidence is not None else ""
            text = (
                f"*{kr.ref}* {escape(kr.title)}\n{progress_bar(kr.progress)}  {now} → "
                f"{number(kr.target, kr.unit)}{confidence}{outdated_mark(kr.outdated)}"
                f"  _({objective.ref})_"
            )
            lines.append((kr.ref, text))
    if not lines:
        blocks.append(context("You own no key results in this cycle yet."))
    for ref, line in lines:
        blocks.append(_with_history_button(section(line[:SECTION_CHARS]), ref))
    if team is not None and team.objectives:
        blocks.append({"type": "divider"})
        blocks.append(section("*Your teams' objectives*"))
        for objective in team.objectives:
            bar = progress_bar(objective.progress)
            if objective.commitment == "committed":
                bar += " · _committed_"
            blocks.append(section(f"*{objective.ref}* {escape(objective.title)}  {bar}"))
    history = _past_blocks(past)  # kept whole: the lists above give way to it
    room = MAX_HOME_BLOCKS - len(history)
    if len(blocks) > room:
        left = len(blocks) - room + 1
        blocks = [*blocks[: room - 1], context(f"…and {left} more: `/okr mine` lists all.")]
    return {"type": "home", "blocks": [*blocks, *history]}
