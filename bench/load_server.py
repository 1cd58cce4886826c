"""The app server of the load benchmark, as its own process: what `python -m bot serve` runs
(settings from the environment, the app, its HTTP surface under uvicorn) plus a `/hello`
command that only acks, the baseline measured under the same load.

    python -m bench.load_server
"""

from __future__ import annotations

import asyncio

import uvicorn
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.__main__ import _settings
from bot.app import build_app
from bot.config import Mode
from bot.web import WebApp


async def hello(ack: AsyncAck) -> None:
    await ack(text="Hello!")


async def serve() -> None:
    settings = _settings(Mode.SERVE)
    app = build_app(settings, mode=Mode.SERVE)
    app.command("/hello")(hello)
    await app.store.ensure_seeded()
    config = uvicorn.Config(
        WebApp(app),
        host="127.0.0.1",
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(serve())
