"""The sandbox's ASGI front: the page's own paths (`/` and `/sandbox/…`) go to the page;
everything else (Slack requests, `/healthz`, `/readyz`, and whatever `WebApp` serves later)
falls through to the bot's `WebApp`, whose lifespan this front passes on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.web import Receive, Scope, Send, WebApp

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

PAGE_PREFIX = "/sandbox/"


def is_page_path(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIX)


class SandboxFront:
    def __init__(self, sandbox: Sandbox, web: WebApp) -> None:
        from bot.sandbox.web.routes import page_app

        self.web = web
        self.page = page_app(sandbox)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_page_path(str(scope.get("path", ""))):
            await self.page(scope, receive, send)
        else:
            await self.web(scope, receive, send)
