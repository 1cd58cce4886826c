"""auth.test, team.info, users.info, users.list, users.lookupByEmail."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.methods.registry import Call, as_int, method
from bot.sandbox.emulator.state import ApiError


@method("auth.test", tier=None)
async def auth_test(call: Call) -> dict[str, Any]:
    ws, token = call.ws, call.token
    assert token is not None
    body: dict[str, Any] = {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.name,
        "user": call.state.users[token.user_id].name,
        "team_id": ws.id,
        "user_id": token.user_id,
        "is_enterprise_install": False,
    }
    if token.kind == "bot":
        body |= {"bot_id": ws.bot_id, "app_id": ws.app_id}
    if ws.enterprise_id:
        body["enterprise_id"] = ws.enterprise_id
    return body


@method("team.info", tier=3, scopes=("team:read",))
async def team_info(call: Call) -> dict[str, Any]:
    ws = call.ws
    return {"team": {"id": ws.id, "name": ws.name, "domain": ws.domain}}


@method("users.info", tier=4, scopes=("users:read",))
async def users_info(call: Call) -> dict[str, Any]:
    return {
        "user": call.state.user(call.arg("user"), team_id=call.ws.id).to_api(
            with_email=_email(call)
        )
    }


def _email(call: Call) -> bool:
    """Profiles carry email only for tokens with users:read.email."""
    return call.token is not None and "users:read.email" in call.token.scopes


@method("users.list", tier=2, scopes=("users:read",))
async def users_list(call: Call) -> dict[str, Any]:
    people = sorted(
        (u for u in call.state.users.values() if u.team_id == call.ws.id), key=lambda u: u.id
    )
    limit = max(1, min(as_int(call.args.get("limit"), 200), 1000))
    start = as_int(call.args.get("cursor") or 0, 0)
    page = people[start : start + limit]
    cursor = str(start + limit) if start + limit < len(people) else ""
    members = [u.to_api(with_email=_email(call)) for u in page]
    return {"members": members, "response_metadata": {"next_cursor": cursor}}


@method("users.lookupByEmail", tier=3, scopes=("users:read.email",))
async def users_lookup_by_email(call: Call) -> dict[str, Any]:
    email = str(call.arg("email")).lower()
    for user in call.state.users.values():
        if user.team_id == call.ws.id and (user.email or "").lower() == email and not user.deleted:
            return {"user": user.to_api()}
    raise ApiError("users_not_found")
