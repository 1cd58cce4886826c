"""Hostile input: whatever a person types or a client sends (huge, empty, binary, right-to-left,
combining marks, Slack markup, SQL-looking text), the grammar and every door answer without a
500, and every `<…>` the bot posts is one it built from ids, never one copied from input."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.checkin import RefusedLine, confirmation_text, update_answer
from bot.jobs.clock import Ceremony
from bot.okr.numbers import START, NumberProblem, read_number
from bot.okr.parse import parse_reply
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world

pytestmark = pytest.mark.usefixtures("monday_ten")
OURS = re.compile(r"<(?:@U[0-9A-Z]+|#C[0-9A-Z]+(?:\|[^<>]*)?|!date\^[^<>]*)>")  # built from ids
HOSTILE = [
    "",
    " ",
    "<!channel>",
    "<!here|here> <!everyone>",
    "<@U0ADMIN> <@U0ADMIN|boss>",
    "<https://evil.example|Re-authenticate>",
    "<mailto:a@b.c|mail>",
    "'; DROP TABLE checkin; --",
    "\u202eKR1 45\u202c",  # right-to-left override
    "K\u0336R\u03361 4\u03365",  # combining marks
    "KR1 \x00\x01\x07 45",
    "KR1 " + "9" * 400,
    "KR1 " + "<@a|" * 3000,
    "x" * 12_000,
    "\n".join(["KR1 45"] * 150),
    "KR1 45 — " + "📈" * 500,
    "#99999999999999999999 1",
]
WORDS = ["", "help", "mine", "show", "update KR1", "update", "checkin", "new", "kr add",
         "edit", "tree", "align", "share", "archive", "team", "away", "cycle",
         "settings"]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


def foreign_markup(text: str) -> list[str]:
    return [m for m in re.findall(r"<[^<>]*>", text) if not OURS.fullmatch(m)]


def mrkdwn_of(body: str) -> str:
    """What Slack would read as markup in an answer: a message's text and every mrkdwn text
    (plain_text, as in a view's title or an input's label, is shown as typed and is inert)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        found.append(data["text"])
    return "\n".join(found)


@given(hostile_text)
def test_the_reply_grammar_reads_anything_without_raising(text: str) -> None:
    parsed = parse_reply(text)
    refused = [RefusedLine(bad.text, bad.reason, bad.example) for bad in parsed.unreadable]
    shown = confirmation_text([], refused, period="2026-W49")
    assert foreign_markup(shown) == []
    assert len(shown) < 8000


@given(hostile_text)
def test_a_form_number_is_a_number_or_a_reason(text: str) -> None:
    try:
        read_number(text, START)
    except NumberProblem as problem:
        assert problem.reason


@given(hostile_text)
def test_a_refusal_shown_for_update_never_carries_markup(text: str) -> None:
    shown, blocks = update_answer([], [RefusedLine(text, f"I could not read “{text}”.")], None,
                                  period="2026-W49")  # fmt: skip
    assert foreign_markup(shown) == [] and foreign_markup(str(blocks)) == []


async def test_every_command_and_reply_door_survives_hostile_text(
    ceremony_stack: SandboxStack,
) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    team, d = world.teams[0], stack.driver
    owner = team.owners[0]
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [m for m in stack.slack.channel_messages(team.channel.id) if m.bot_id]
    for text in HOSTILE:
        for word in WORDS:
            answer = await d.command(owner, f"{word} {text}".strip(), raw=True)
            assert answer.status == 200, (word, text[:40], answer.body[:200])
            assert foreign_markup(mrkdwn_of(answer.body)) == [], (word, text[:40])
        for channel, thread in ((team.channel, prompt.ts), (None, None)):
            await d.say(owner, text or " ", channel=channel, thread_ts=thread, raw=True)
            assert all(a.status == 200 for a in d.last_answers), text[:40]
    said = [m.text for m in stack.slack.thread(team.channel.id, prompt.ts) if m.bot_id]
    said += [m.text for m in stack.slack.dms(owner.id) if m.bot_id]
    for text in said:
        assert foreign_markup(text) == [], text[:200]


async def test_every_form_survives_hostile_values(ceremony_stack: SandboxStack) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    growth = stack.slack.add_channel(stack.ws, "growth", members=[pat])
    await d.command(pat, "new")
    first = await d.modal(pat)
    await d.submit(pat, first, _typed(first.view, "We delight"))
    for form in ("new", "kr add O1", "edit O1", "edit KR1", "checkin", "team setup", "settings"):
        for text in HOSTILE:
            while (shown := stack.slack.open_modal(pat.id)) is not None:
                await d.close(pat, shown)
            opened = await d.command(pat, form, channel=growth)
            assert opened.status == 200, (form, opened.body[:200])
            view = stack.slack.open_modal(pat.id)
            if view is None:  # e.g. no key result to check in yet: said in words
                continue
            answer = await d.submit(pat, view, _typed(view.view, text))
            assert answer.status == 200, (form, text[:40], answer.body[:200])
            assert foreign_markup(mrkdwn_of(answer.body)) == [], (form, text[:40])


def _typed(view: dict[str, Any], text: str) -> dict[str, Any]:
    """Every text box of `view` filled with `text` (pickers left as they are)."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") == "input" and element.get("type") == "plain_text_input":
            values[block["block_id"]] = {
                element["action_id"]: {"type": "plain_text_input", "value": text[:3000]}
            }
    return values
