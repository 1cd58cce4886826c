"""Conversation tests as tables: a person does something, the bot answers; assertions are on
the rendered text a person would read."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bot.sandbox.delivery import Answer
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator.state import Channel, User
from bot.sandbox.render import Rendered, render_message, render_view


@dataclass
class Reply:
    """What one action made the person see: answers only they saw, and new DMs."""

    answer: Answer
    seen: list[Rendered] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.seen)


@dataclass(frozen=True)
class Step:
    """One row of a conversation table."""

    person: str
    does: str  # "/okr help" is a slash command; anything else is said in the bot's DM
    sees: tuple[str, ...] = ()  # each must appear in what the person sees
    not_sees: tuple[str, ...] = ()


class Conversation:
    def __init__(self, driver: SlackDriver, *, wait: float = 2.0, quiet: float = 0.15) -> None:
        self.driver = driver
        self.slack = driver.slack
        self.wait = wait
        self.quiet = quiet

    def names(self) -> dict[str, str]:
        people = {u.id: u.name for u in self.slack.state.users.values()}
        return people | {c.id: c.name for c in self.slack.state.channels.values()}

    def _visible(self, user: User) -> list[tuple[str, Rendered]]:
        names = self.names()
        out = [
            (f"e{i}", render_message(e.message.text, e.message.blocks, names))
            for i, e in enumerate(self.slack.answers_to(user.id))
        ]
        out += [
            (f"d{m.ts}", render_message(m.text, m.blocks, names)) for m in self.slack.dms(user.id)
        ]
        return out

    def modal(self, user: User) -> Rendered | None:
        view = self.slack.open_modal(user.id)
        return render_view(view.view, self.names()) if view else None

    def home(self, user: User) -> Rendered | None:
        view = self.slack.home(user.id)
        return render_view(view.view, self.names()) if view else None

    async def _collect(
        self, user: User, before: set[str], answer: Answer, expect_any: bool
    ) -> Reply:
        """Everything new the person sees, once the bot has gone quiet: at least one item when
        `expect_any` (up to `wait` seconds), then no change for `quiet` seconds."""
        deadline = time.monotonic() + self.wait
        seen_count, quiet_since = -1, time.monotonic()
        while True:
            new = [r for key, r in self._visible(user) if key not in before]
            now = time.monotonic()
            if len(new) != seen_count:
                seen_count, quiet_since = len(new), now
            settled = now - quiet_since >= self.quiet and (new or not expect_any)
            if settled or now > deadline:
                return Reply(answer, new)
            await asyncio.sleep(0.02)

    async def command(self, user: User, text: str, *, channel: Channel | None = None) -> Reply:
        before = {key for key, _ in self._visible(user)}
        answer = await self.driver.command(user, text, channel=channel)
        return await self._collect(user, before, answer, expect_any=answer.status == 200)

    async def run(self, people: dict[str, User], steps: list[Step]) -> list[Reply]:
        """Play a table; fail with the whole transcript when a row's expectation is not met."""
        replies: list[Reply] = []
        for number, step in enumerate(steps, 1):
            person = people[step.person]
            if step.does.startswith("/"):
                command, _, text = step.does.partition(" ")
                reply = await self.command(person, text) if command == "/okr" else None
                assert reply is not None, f"row {number}: only /okr is a command here"
            else:
                before = {key for key, _ in self._visible(person)}
                await self.driver.say(person, step.does)
                reply = await self._collect(
                    person, before, Answer(200, "", {}), expect_any=bool(step.sees)
                )
            replies.append(reply)
            for wanted in step.sees:
                assert wanted in reply.text, (
                    f"row {number} ({step.person}: {step.does!r}) expected {wanted!r} "
                    f"in:\n{reply.text}"
                )
            for unwanted in step.not_sees:
                assert unwanted not in reply.text, (
                    f"row {number}: {unwanted!r} should not show in:\n{reply.text}"
                )
        return replies
