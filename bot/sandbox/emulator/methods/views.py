"""views.open, views.push, views.update, views.publish."""

from __future__ import annotations

import secrets
from typing import Any

from bot.sandbox.emulator.blockkit import validate_view
from bot.sandbox.emulator.methods.registry import Call, method
from bot.sandbox.emulator.state import ApiError, View

MAX_STACK = 3


def _new_hash() -> str:
    return f"{secrets.randbelow(10**10)}.{secrets.token_hex(4)}"


def _external_id_free(call: Call, external_id: str | None, *, except_id: str | None = None) -> None:
    if not external_id:
        return
    for view in call.state.views.values():
        if view.external_id == external_id and view.id != except_id and not view.closed:
            raise ApiError("duplicate_external_id")


def open_stack(call: Call, user_id: str) -> list[View]:
    """The person's open modals, root first."""
    stack = [
        v
        for v in call.state.views.values()
        if v.team_id == call.ws.id
        and v.user_id == user_id
        and not v.closed
        and v.view.get("type") == "modal"
    ]
    return sorted(stack, key=lambda v: v.id)


@method("views.open", tier=4)
async def views_open(call: Call) -> dict[str, Any]:
    view_body = validate_view(call.arg("view"))
    if view_body["type"] != "modal":
        raise ApiError("invalid_arguments")
    trigger = call.state.use_trigger(str(call.arg("trigger_id")), team_id=call.ws.id)
    for old in open_stack(call, trigger.user_id):
        old.closed = True  # a new root replaces whatever the person had open
    _external_id_free(call, view_body.get("external_id"))
    view_id = call.state.new_id("V")
    view = View(
        view_id,
        call.ws.id,
        trigger.user_id,
        view_body,
        _new_hash(),
        view_id,
        external_id=view_body.get("external_id"),
    )
    call.state.views[view.id] = view
    return {"view": view.to_api()}


@method("views.push", tier=4)
async def views_push(call: Call) -> dict[str, Any]:
    view_body = validate_view(call.arg("view"))
    trigger = call.state.use_trigger(str(call.arg("trigger_id")), team_id=call.ws.id)
    stack = open_stack(call, trigger.user_id)
    if not stack:
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": ["no open modal to push onto"]}
        )
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    _external_id_free(call, view_body.get("external_id"))
    view = View(
        call.state.new_id("V"),
        call.ws.id,
        trigger.user_id,
        view_body,
        _new_hash(),
        stack[0].id,
        previous_view_id=stack[-1].id,
        external_id=view_body.get("external_id"),
    )
    call.state.views[view.id] = view
    return {"view": view.to_api()}


@method("views.update", tier=4)
async def views_update(call: Call) -> dict[str, Any]:
    view_body = validate_view(call.arg("view"))
    view_id, external_id = call.args.get("view_id"), call.args.get("external_id")
    if not view_id and not external_id:
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": ["view_id or external_id"]}
        )
    view = (
        call.state.views.get(str(view_id))
        if view_id
        else next(
            (v for v in call.state.views.values() if v.external_id == external_id and not v.closed),
            None,
        )
    )
    if view is None or view.team_id != call.ws.id:
        raise ApiError("not_found")
    if call.args.get("hash") and call.args["hash"] != view.hash:
        raise ApiError("hash_conflict")
    _external_id_free(call, view_body.get("external_id"), except_id=view.id)
    view.view, view.hash = view_body, _new_hash()
    view.external_id = view_body.get("external_id") or view.external_id
    return {"view": view.to_api()}


@method("views.publish", tier=4)
async def views_publish(call: Call) -> dict[str, Any]:
    view_body = validate_view(call.arg("view"))
    if view_body["type"] != "home":
        raise ApiError("invalid_arguments", response_metadata={"messages": ["must be a home view"]})
    user = call.state.user(call.arg("user_id"), team_id=call.ws.id)
    key = (call.ws.id, user.id)
    current = call.state.home.get(key)
    if current is not None and call.args.get("hash") and call.args["hash"] != current.hash:
        raise ApiError("hash_conflict")
    view_id = current.id if current else call.state.new_id("V")
    view = View(view_id, call.ws.id, user.id, view_body, _new_hash(), view_id)
    call.state.home[key] = view
    return {"view": view.to_api()}
