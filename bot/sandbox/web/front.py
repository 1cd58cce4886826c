"""The sandbox's ASGI front: the page's own paths (`/` and `/sandbox/…`) go to the page;
everything else (Slack requests, `/healthz`, `/readyz`, and whatever `WebApp` serves later)
falls through to the bot's `WebApp`, whose lifespan this front passes on.

The page has no login, so on loopback it answers only requests addressed to a loopback
name: a web page elsewhere that points a name of its own at 127.0.0.1 (DNS rebinding)
gets nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.web import Receive, Scope, Send, WebApp

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

PAGE_PREFIX = "/sandbox/"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def is_page_path(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIX)


def host_of(scope: Scope) -> str:
    """The name a request was addressed to, without its port."""
    for name, value in scope.get("headers") or []:
        if name.lower() == b"host":
            host = bytes(value).decode("latin-1").lower()
            return host if host.endswith("]") else host.rsplit(":", 1)[0]
    return ""


class SandboxFront:
    def __init__(
        self, sandbox: Sandbox, web: WebApp, *, hosts: frozenset[str] | None = LOOPBACK_NAMES
    ) -> None:
        """`hosts`: the names the page answers to (None: any, with --allow-remote)."""
        from bot.sandbox.web.routes import page_app

        self.web = web
        self.hosts = hosts
        self.page = page_app(sandbox)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(str(scope.get("path", ""))):
            await self.web(scope, receive, send)
        elif self.hosts is not None and host_of(scope) not in self.hosts:
            await _refuse(send)
        else:
            await self.page(scope, receive, send)


async def _refuse(send: Send) -> None:
    body = b"The sandbox answers only at a loopback address such as http://127.0.0.1/"
    await send(
        {
            "type": "http.response.start",
            "status": 421,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
