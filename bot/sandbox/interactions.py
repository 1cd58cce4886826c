"""Interactivity as Slack sends it: button clicks, option requests, modal submissions and
closes. Mixed into the driver. What the person presses must exist in what the bot showed,
and what the bot answers to a submission is applied as Slack would (or refused)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox import payloads
from bot.sandbox.delivery import Answer
from bot.sandbox.emulator.blockkit import validate_view
from bot.sandbox.emulator.methods.views import MAX_STACK
from bot.sandbox.emulator.server import SlackEmulator
from bot.sandbox.emulator.state import ApiError, Message, User, View, Workspace


class DriverError(AssertionError):
    """The test asked for something a person could not do, or the app answered what Slack
    would refuse."""


def _action_ids(blocks: list[dict[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for block in blocks:
        elements = list(block.get("elements") or [])
        elements += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        ids.update(
            str(e["action_id"]) for e in elements if isinstance(e, dict) and "action_id" in e
        )
    return ids


def _inputs(view: View) -> dict[str, dict[str, Any]]:
    """block_id -> the input element of every input block in the view."""
    return {
        str(b.get("block_id")): b.get("element") or {}
        for b in view.view.get("blocks") or []
        if b.get("type") == "input"
    }


class InteractionActions:
    slack: SlackEmulator
    ws: Workspace

    send: Callable[..., Awaitable[Answer]]  # the driver's signed send

    async def modal(
        self, user: User, *, other_than: View | None = None, timeout: float = 2.0
    ) -> View:
        """The modal the person has open, waiting for the app's views.open to land (it comes
        after the ack); `other_than` waits for a different one."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = self.slack.open_modal(user.id)
            if view is not None and (other_than is None or view.id != other_than.id):
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise DriverError(f"no modal opened for {user.name} within {timeout} s")
            await asyncio.sleep(0.01)

    async def click(
        self,
        user: User,
        *,
        action_id: str,
        value: str | None = None,
        block_id: str = "actions",
        message: Message | None = None,
        view: View | None = None,
        selected_option: dict[str, Any] | None = None,
        chosen: dict[str, Any] | None = None,
    ) -> Answer:
        """The person clicks a button (or picks an option) in a message or a view; `chosen`
        is a select's whole choice (`type` and `selected_…`), as block_actions carries it."""
        shown = message.blocks if message is not None else view.view.get("blocks") if view else []
        if (message is not None or view is not None) and action_id not in _action_ids(shown or []):
            raise DriverError(f"nothing with action_id {action_id!r} to click")
        trigger = self.slack.state.new_trigger(team_id=self.ws.id, user_id=user.id)
        payload = payloads.base_interaction("block_actions", self.ws, user, trigger)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{self.slack.state.clock():.6f}",
            "type": "button",
        }
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action |= {"type": "static_select", "selected_option": selected_option}
        if chosen is not None:
            action |= chosen
        payload["actions"] = [action]
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = view.to_api()
        if message is not None:
            channel = self.slack.state.channels[message.channel]
            ephemeral = any(e.message is message for e in self.slack.state.ephemerals)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel.id, "name": channel.name}
            payload["message"] = message.to_api()
            payload["response_url"] = self.slack.response_url(
                team_id=self.ws.id, channel_id=channel.id, user_id=user.id, message_ts=message.ts
            )
        return await self.send(payloads.interactive(payload))

    async def suggest(
        self,
        user: User,
        *,
        action_id: str,
        value: str,
        view: View | None = None,
        block_id: str = "picker",
    ) -> Answer:
        """The person types into an external_select: Slack asks the app for options."""
        payload = payloads.base_interaction("block_suggestion", self.ws, user, "")
        payload |= {"action_id": action_id, "block_id": block_id, "value": value}
        if view is not None:
            payload["view"] = view.to_api()
            payload["container"] = {"type": "view", "view_id": view.id}
        return await self.send(payloads.interactive(payload))

    async def submit(self, user: User, view: View, values: dict[str, dict[str, Any]]) -> Answer:
        """The person presses the modal's submit button. `values[block_id][action_id]` gives
        what they entered; every input of the view is sent, empty ones with no value."""
        inputs = _inputs(view)
        for block_id, entered in values.items():
            element = inputs.get(block_id)
            if element is None or set(entered) != {element.get("action_id")}:
                raise DriverError(f"the modal has no input {block_id!r} with those action ids")
        state = {
            block_id: values.get(block_id)
            or {str(element.get("action_id")): {"type": element.get("type"), "value": None}}
            for block_id, element in inputs.items()
        }
        trigger = self.slack.state.new_trigger(team_id=self.ws.id, user_id=user.id)
        payload = payloads.base_interaction("view_submission", self.ws, user, trigger)
        data = view.to_api()
        data["state"] = {"values": state}
        payload |= {"view": data, "response_urls": []}
        answer = await self.send(payloads.interactive(payload))
        self._apply_view_response(answer, view)
        return answer

    def _stack(self, view: View) -> list[View]:
        return sorted(
            (
                v
                for v in self.slack.state.views.values()
                if v.root_view_id == view.root_view_id and not v.closed
            ),
            key=lambda v: v.id,
        )

    def _apply_view_response(self, answer: Answer, view: View) -> None:
        if answer.status != 200 or answer.late:
            return  # Slack shows the person an error and keeps the modal open
        data = answer.json or {}
        action = data.get("response_action")
        if action is None:
            view.closed = True  # back to the view below, if any
        elif action == "clear":
            for open_view in self._stack(view):
                open_view.closed = True
        elif action == "errors":
            unknown = set(data.get("errors") or {}) - set(_inputs(view))
            if unknown or not data.get("errors"):
                raise DriverError(f"errors for blocks the modal does not have: {sorted(unknown)}")
        elif action in ("update", "push"):
            try:
                new = validate_view(data.get("view"))
            except ApiError as exc:
                raise DriverError(f"Slack refuses this view: {exc.code} {exc.extra}") from None
            if action == "update":
                view.view = new
            elif len(self._stack(view)) >= MAX_STACK:
                raise DriverError("push_limit_reached: a modal stack holds 3 views")
            else:
                pushed = View(
                    self.slack.state.new_id("V"),
                    view.team_id,
                    view.user_id,
                    new,
                    "pushed",
                    view.root_view_id,
                    previous_view_id=view.id,
                )
                self.slack.state.views[pushed.id] = pushed
        else:
            raise DriverError(f"unknown response_action {action!r}")

    async def close(self, user: User, view: View) -> Answer | None:
        """The person closes the modal; the app hears of it only with notify_on_close."""
        view.closed = True
        if not view.view.get("notify_on_close"):
            return None
        payload = payloads.base_interaction("view_closed", self.ws, user, "")
        payload |= {"view": view.to_api(), "is_cleared": False}
        return await self.send(payloads.interactive(payload))
