"""A real HTTP server for metric source tests: JSON at `/metric`, a redirect to any URL at
`/redirect?to=...`; it counts the requests it gets (one that must never arrive stays 0)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class MetricServer:
    host: str
    port: int = 0
    requests: list[str] = field(default_factory=list)
    value: float = 1240.0
    delay: float = 0.0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def metric(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.host} {request.path_qs}")
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"data": {"total": self.value}})

    async def redirect(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.host} {request.path_qs}")
        raise web.HTTPFound(request.query["to"])


@asynccontextmanager
async def metric_server(host: str = "127.0.0.1", **fields: float) -> AsyncIterator[MetricServer]:
    server = MetricServer(host, **fields)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_get("/metric", server.metric)
    app.router.add_get("/redirect", server.redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server
    finally:
        await runner.cleanup()
