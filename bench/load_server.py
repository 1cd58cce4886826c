"""The app server of the load benchmark, as its own process: what `python -m bot serve` runs
(settings from the environment, WEB_CONCURRENCY web processes on one port) plus a `/hello`
command that only acks, the baseline measured under the same load.

    python -m bench.load_server
"""

from __future__ import annotations

import sys
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.__main__ import _settings, serve_http
from bot.config import Mode


async def hello(ack: AsyncAck) -> None:
    await ack(text="Hello!")


def add_hello(app: Any) -> None:
    app.command("/hello")(hello)


if __name__ == "__main__":
    sys.exit(serve_http(_settings(Mode.SERVE), customize=add_hello))
