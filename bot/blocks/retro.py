"""The retrospective: the poll in a team channel (a 1-5 rating and a button to answer, with
the live count of responses) and the answer modal (anonymous ones say so)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.blocks.ids import Action, Callback
from bot.blocks.text import context, escape, plain, section
from bot.okr.cycle_end import ANSWER_MAX, RATINGS

RATING_WORDS = {1: "1 · poor", 2: "2", 3: "3 · fine", 4: "4", 5: "5 · great"}
ANSWER_PARTS = (
    ("went_well", "What went well"),
    ("went_badly", "What didn't"),
    ("to_change", "What we change next cycle"),
)


@dataclass(frozen=True)
class RetroPoll:
    retro_id: int
    cycle: str
    team: str
    anonymous: bool
    closes_on: date
    responses: int  # people who voted or answered
    closed: bool = False


def vote_action(rating: int) -> str:
    return f"{Action.RETRO_VOTE}.{rating}"


def build_retro_poll(poll: RetroPoll) -> list[dict[str, Any]]:
    anonymous = (
        "Anonymous: votes and answers carry no name, and each is final once sent."
        if poll.anonymous
        else "Votes and answers show who gave them; you can change yours until it closes."
    )
    people = f"{poll.responses} {'person has' if poll.responses == 1 else 'people have'}"
    blocks: list[dict[str, Any]] = [
        section(
            f"*Retrospective of {escape(poll.cycle)} · {escape(poll.team)}*\n"
            "How did this cycle go? Rate it from 1 to 5, then tell the team what went well, "
            "what didn't and what we change next cycle."
        ),
        context(f"{anonymous} Open until {poll.closes_on}. {people} responded so far."),
    ]
    if poll.closed:
        blocks.append(context("The retrospective is closed: the summary follows."))
        return blocks
    buttons = [
        {
            "type": "button",
            "action_id": vote_action(rating),
            "text": plain(RATING_WORDS[rating]),
            "value": str(poll.retro_id),
        }
        for rating in RATINGS
    ]
    blocks.append({"type": "actions", "block_id": "retro.rating", "elements": buttons})
    blocks.append(
        {
            "type": "actions",
            "block_id": "retro.answer",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.RETRO_ANSWER,
                    "text": plain("Share your thoughts"),
                    "style": "primary",
                    "value": str(poll.retro_id),
                }
            ],
        }
    )
    return blocks


def retro_fallback(poll: RetroPoll) -> str:
    return f"Retrospective of {poll.cycle} · {poll.team}: rate the cycle and share your thoughts"


@dataclass(frozen=True)
class RetroAnswerForm:
    retro_id: int
    cycle: str
    anonymous: bool
    closes_on: date
    went_well: str = ""
    went_badly: str = ""
    to_change: str = ""


def build_retro_answer_modal(form: RetroAnswerForm) -> dict[str, Any]:
    note = (
        "This retrospective is anonymous: your answer carries no name, and it is final once "
        "sent (it cannot be changed)."
        if form.anonymous
        else f"Your name is shown with your answer. You can change it until {form.closes_on}."
    )
    blocks: list[dict[str, Any]] = [context(note)]
    for field, label in ANSWER_PARTS:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": field,
            "multiline": True,
            "max_length": ANSWER_MAX,
        }
        initial = getattr(form, field)
        if initial:
            element["initial_value"] = initial
        blocks.append(
            {"type": "input", "block_id": field, "label": plain(label), "optional": True,
             "element": element}
        )  # fmt: skip
    return {
        "type": "modal",
        "callback_id": Callback.RETRO_ANSWER,
        "title": plain(f"Retro {form.cycle}"[:24]),
        "submit": plain("Send" if form.anonymous else "Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"retro": form.retro_id}),
        "blocks": blocks,
    }


def retro_of(raw: str | None) -> int:
    return int(json.loads(raw or "{}").get("retro") or 0)


def build_retro_note(text: str) -> dict[str, Any]:
    """What the answer modal becomes: thanks, or why it was refused (our own mrkdwn)."""
    return {
        "type": "modal",
        "title": plain("Retrospective"),
        "close": plain("Close"),
        "blocks": [section(text)],
    }


def build_lessons(cycle: str, lessons: tuple[str, ...]) -> list[dict[str, Any]]:
    """What the team said it would change, shown as the next cycle's planning starts."""
    if not lessons:
        return []
    said = "\n".join(f"• {escape(lesson[:300])}" for lesson in lessons)
    return [section(f"*Last cycle ({escape(cycle)}) you said you would change:*\n{said}")]
