"""The driver: does what people do in Slack and sends the app what Slack would send, signed.

Every action changes the emulator's state the way Slack would (a message a person writes is
in the channel before its event arrives) and returns the app's answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.sandbox import payloads
from bot.sandbox.delivery import Answer, Delivery
from bot.sandbox.emulator.server import SlackEmulator
from bot.sandbox.emulator.state import Channel, Ephemeral, Message, User, Workspace
from bot.sandbox.interactions import InteractionActions
from bot.sandbox.people import PeopleActions

BOLT_BACKGROUND = ("run_ack_function_asynchronously", "to_runnable_function")
RETRY_REASONS = ("http_timeout", "http_timeout", "http_timeout")


class SlackDriver(InteractionActions, PeopleActions):
    def __init__(
        self,
        slack: SlackEmulator,
        ws: Workspace,
        *,
        signing_secret: str,
        deliver: Delivery,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slack = slack
        self.ws = ws
        self.signing_secret = signing_secret
        self.deliver = deliver
        self.clock = clock
        self._event_ids = itertools.count(1)
        self._last_event: str | None = None
        self.last_answers: list[Answer] = []

    # --- signing and sending ----------------------------------------------------------------

    def signed_headers(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(secret or self.signing_secret)
        return {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": str(verifier.generate_signature(timestamp=ts, body=body)),
        }

    async def send(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        extra_headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> Answer:
        headers = self.signed_headers(
            body, content_type=content_type, timestamp=timestamp, secret=secret
        )
        headers.update(extra_headers or {})
        started = time.monotonic()
        answer = await self.deliver(body, headers)
        answer.elapsed = time.monotonic() - started
        return answer

    # --- slash commands and interactivity ---------------------------------------------------

    def default_channel(self, user: User) -> Channel:
        return self.slack.state.im_with(self.ws, user)

    async def command(
        self,
        user: User,
        text: str = "",
        *,
        channel: Channel | None = None,
        command: str = "/okr",
        raw: bool = False,
    ) -> Answer:
        """The person types `/okr text`; an ack body is shown to them as Slack would."""
        channel = channel or self.default_channel(user)
        response_url = self.slack.response_url(
            team_id=self.ws.id, channel_id=channel.id, user_id=user.id
        )
        trigger = self.slack.state.new_trigger(team_id=self.ws.id, user_id=user.id)
        body = payloads.slash_command(
            self.ws,
            user,
            channel,
            command=command,
            text=text if raw else payloads.as_typed(text),
            response_url=response_url,
            trigger_id=trigger,
        )
        answer = await self.send(body)
        self._show_ack(answer, user, channel)
        return answer

    def _show_ack(self, answer: Answer, user: User, channel: Channel) -> None:
        if answer.late:
            # Past 3 s Slack drops the answer and tells the person the command failed.
            text = 'The command failed with the error "operation_timeout"'
            message = Message(channel.id, self.slack.state.new_ts(), text)
            self.slack.state.ephemerals.append(Ephemeral(channel.id, user.id, message, "slack"))
            return
        if answer.status != 200 or not answer.body:
            return
        # A plain-text ack body is shown as an ephemeral message, like a JSON {"text": ...}.
        data = answer.json or {"text": answer.body}
        if not (data.get("text") or data.get("blocks")):
            return
        message = Message(
            channel.id,
            self.slack.state.new_ts(),
            str(data.get("text") or ""),
            bot_id=self.ws.bot_id,
            blocks=list(data.get("blocks") or []),
        )
        if data.get("response_type") == "in_channel":
            message.user = self.ws.bot_user_id
            self.slack.state.messages.setdefault(channel.id, []).append(message)
        else:
            self.slack.state.ephemerals.append(Ephemeral(channel.id, user.id, message, "ack"))

    # --- events ------------------------------------------------------------------------------

    async def event(self, event: dict[str, Any], *, retries: int = 0) -> list[Answer]:
        """Deliver one event; `retries` more times with the same event_id, as Slack retries."""
        event_id = f"Ev{next(self._event_ids):08d}"
        body = payloads.event_envelope(
            self.ws, event, event_id=event_id, event_time=int(self.clock())
        )
        self._last_event = body
        answers = [await self.send(body, content_type="application/json")]
        for attempt in range(1, retries + 1):
            answers.append(await self._retry(body, attempt))
        await self.settle()
        self.last_answers = answers
        return answers

    async def _retry(self, body: str, attempt: int) -> Answer:
        headers = {
            "x-slack-retry-num": str(attempt),
            "x-slack-retry-reason": RETRY_REASONS[(attempt - 1) % len(RETRY_REASONS)],
        }
        return await self.send(body, content_type="application/json", extra_headers=headers)

    async def retry_last_event(self, attempt: int = 1) -> Answer:
        """Slack delivers the last event again (same event_id), as it does after a non-200."""
        if self._last_event is None:
            raise RuntimeError("no event was delivered yet")
        answer = await self._retry(self._last_event, attempt)
        await self.settle()
        self.last_answers = [answer]
        return answer

    @staticmethod
    async def settle(timeout: float = 10.0) -> None:
        """Wait for the listeners Bolt runs after its ack (in this process's event loop), so
        a test sees what an event led to."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            running = [
                task
                for task in asyncio.all_tasks()
                if not task.done()
                and task is not asyncio.current_task()
                and any(name in repr(task.get_coro()) for name in BOLT_BACKGROUND)
            ]
            if not running:
                return
            await asyncio.wait(running, timeout=max(0.0, deadline - loop.time()))

    async def open_home(self, user: User) -> Answer:
        channel = self.default_channel(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": channel.id,
            "tab": "home",
            "event_ts": f"{self.clock():.6f}",
        }
        home = self.slack.home(user.id)
        if home is not None:
            event["view"] = home.to_api()
        return (await self.event(event))[0]

    async def url_verification(self, challenge: str = "challenge-token") -> Answer:
        body = json.dumps(
            {"token": payloads.LEGACY_TOKEN, "challenge": challenge, "type": "url_verification"}
        )
        return await self.send(body, content_type="application/json")
