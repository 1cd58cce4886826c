"""Shared steps of the cycle-end tests over the emulator: the clock's ticks at set instants,
clicks on the retro poll, what a person was answered, the figures a test works out itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot import clock
from bot.jobs.clock import Ceremony
from bot.sandbox.emulator.state import Message, User
from bot.sandbox.stack import SandboxStack


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


async def run_ticks(stack: SandboxStack, *instants: datetime) -> None:
    assert stack.app is not None
    ceremony = Ceremony(stack.app)
    for at in instants:
        set_now(at)
        await ceremony.tick()
        await ceremony.sender.drain()


def bot_posts(stack: SandboxStack, channel: str) -> list[Message]:
    return [m for m in stack.slack.channel_messages(channel) if m.bot_id]


def poll_in(stack: SandboxStack, channel: str) -> list[Message]:
    return [m for m in bot_posts(stack, channel) if "Retrospective of" in m.text]


def summary_in(stack: SandboxStack, channel: str) -> list[Message]:
    return [m for m in bot_posts(stack, channel) if " summary · " in m.text]


def blocks_text(message: Message) -> str:
    parts: list[str] = []
    for block in message.blocks:
        if block["type"] == "context":
            parts.append(" ".join(e.get("text", "") for e in block["elements"]))
        elif isinstance(block.get("text"), dict):
            parts.append(str(block["text"].get("text", "")))
    return "\n".join(parts)


def button_value(message: Message, action_id: str) -> str:
    for block in message.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} in the message")


async def answered(stack: SandboxStack, user: User, before: int) -> str:
    """The next thing only this person saw (a response_url answer), waiting for it."""
    for _ in range(200):
        seen = stack.slack.answers_to(user.id)
        if len(seen) > before:
            return seen[-1].message.text
        await asyncio.sleep(0.01)
    raise AssertionError(f"{user.name} was answered nothing")


async def vote(stack: SandboxStack, user: User, poll: Message, rating: int) -> str:
    assert stack.driver is not None
    before = len(stack.slack.answers_to(user.id))
    action = f"retro.vote.{rating}"
    await stack.driver.click(
        user, action_id=action, message=poll, value=button_value(poll, action),
        block_id="retro.rating",
    )  # fmt: skip
    return await answered(stack, user, before)


async def answer_retro(
    stack: SandboxStack, user: User, poll: Message, parts: dict[str, str]
) -> dict[str, Any]:
    """Open the answer modal from the poll and send it; returns the modal's answer."""
    assert stack.driver is not None
    d = stack.driver
    before = stack.slack.open_modal(user.id)
    await d.click(
        user, action_id="retro.answer", message=poll,
        value=button_value(poll, "retro.answer"), block_id="retro.answer",
    )  # fmt: skip
    modal = await d.modal(user, other_than=before)
    values = {
        name: {name: {"type": "plain_text_input", "value": text}} for name, text in parts.items()
    }
    shown = str(modal.view)  # as opened: the submission replaces it
    if not any(b.get("type") == "input" for b in modal.view.get("blocks") or []):
        return {"json": None, "modal": shown, "after": shown}  # refused: nothing to send
    reply = await d.submit(user, modal, values)
    return {"json": reply.json, "modal": shown, "after": str(modal.view)}
