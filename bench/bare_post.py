"""The baseline of the sender's CPU row: bare `AsyncWebClient.chat_postMessage` calls, one
after another, through one client with one reused HTTP session, posting the same message the
clock sent. Run as its own process (the emulator it posts to lives elsewhere), so its CPU is
the client's alone.

    python -m bench.bare_post request.json   # prints {"calls": N, "cpu_per_call": seconds}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

WARM_UP = 20


async def bare_posts(request: dict[str, Any]) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=request["token"], base_url=request["api_url"], session=session, timeout=30
        )

        async def post() -> None:
            await client.chat_postMessage(
                channel=request["channel"],
                text=request["text"],
                blocks=request["blocks"],
                metadata=request["metadata"],
                unfurl_links=False,
                unfurl_media=False,
            )

        for _ in range(WARM_UP):
            await post()
        calls = int(request["calls"])
        started = time.process_time()
        for _ in range(calls):
            await post()
        cpu = time.process_time() - started
    return {"calls": calls, "cpu_per_call": cpu / calls}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(bare_posts(json.loads(Path(sys.argv[1]).read_text())))))
