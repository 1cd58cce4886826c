"""A minimal Web API peer for the foundation's tests: records calls, answers auth.test.

The full Slack emulator (bot/sandbox) replaces this as the network peer of later tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class FakeSlack:
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # token -> auth.test body
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # method -> error to answer
    url: str = ""
    _runner: web.AppRunner | None = None

    def add_workspace(
        self, *, token: str, team_id: str, bot_user_id: str = "UBOT", team: str = "Acme"
    ) -> None:
        self.tokens[token] = {
            "team_id": team_id,
            "team": team,
            "user_id": bot_user_id,
            "bot_id": "B" + bot_user_id,
            "app_id": "AOKR",
            "url": f"https://{team.lower()}.slack.com/",
        }

    @property
    def response_url(self) -> str:
        return self.url.replace("/api/", "/webhook/commands/1")

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw.decode()))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        self.calls.append(Call(method, args, token))
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        if token not in self.tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, **self.tokens[token]},
                headers={"x-oauth-scopes": "commands,chat:write,users:read"},
            )
        return web.json_response({"ok": True})

    async def _webhook(self, request: web.Request) -> web.Response:
        """A response_url: what Bolt's respond() posts lands here."""
        self.calls.append(Call("response_url", await request.json(), None))
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/webhook/{rest:.*}", self._webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
