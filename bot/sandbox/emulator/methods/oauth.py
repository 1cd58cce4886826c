"""oauth.v2.access: exchange the code the authorize page handed out for a bot token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bot.sandbox.emulator.methods.registry import Call, method
from bot.sandbox.emulator.state import ApiError, SlackState, Token


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uri: str | None = None


@dataclass
class Grant:
    code: str
    client_id: str
    team_id: str
    user_id: str
    scopes: list[str]
    redirect_uri: str | None
    used: bool = False


def issue_code(
    state: SlackState,
    grants: dict[str, Grant],
    *,
    client: OAuthClient,
    team_id: str,
    user_id: str,
    scopes: list[str],
    redirect_uri: str | None,
) -> str:
    code = f"{state.new_id('C')}.{secrets.token_hex(8)}"
    grants[code] = Grant(code, client.client_id, team_id, user_id, scopes, redirect_uri)
    return code


@method("oauth.v2.access", tier=4, auth="client")
async def oauth_v2_access(call: Call) -> dict[str, Any]:
    clients: dict[str, OAuthClient] = call.emulator.oauth_clients
    grants: dict[str, Grant] = call.emulator.oauth_grants
    client = clients.get(str(call.args.get("client_id") or ""))
    if client is None:
        raise ApiError("invalid_client_id")
    if call.args.get("client_secret") != client.client_secret:
        raise ApiError("bad_client_secret")
    grant = grants.get(str(call.args.get("code") or ""))
    if grant is None or grant.used or grant.client_id != client.client_id:
        raise ApiError("invalid_code")
    if call.args.get("redirect_uri") and call.args["redirect_uri"] != grant.redirect_uri:
        raise ApiError("bad_redirect_uri")
    grant.used = True
    ws = call.state.workspaces[grant.team_id]
    token = Token(
        f"xoxb-{ws.id}-{secrets.token_hex(12)}", ws.id, "bot", ws.bot_user_id, grant.scopes
    )
    call.state.tokens[token.value] = token
    return {
        "access_token": token.value,
        "token_type": "bot",
        "scope": ",".join(grant.scopes),
        "bot_user_id": ws.bot_user_id,
        "app_id": ws.app_id,
        "team": {"id": ws.id, "name": ws.name},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": grant.user_id},
    }
