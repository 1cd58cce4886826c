"""Call the emulator through slack_sdk's WebClient (in a thread) or AsyncWebClient alike."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

CLIENT_KINDS = ("sync", "async")


class Api:
    def __init__(self, kind: str, base_url: str, token: str | None, **options: Any) -> None:
        self.kind = kind
        if kind == "sync":
            self.sync = WebClient(token=token, base_url=base_url, **options)
        else:
            self.aio = AsyncWebClient(token=token, base_url=base_url, **options)

    async def __call__(self, name: str, /, **kwargs: Any) -> Any:
        """`await api("chat_postMessage", channel=..., text=...)` -> the response data."""
        if self.kind == "sync":
            response = await asyncio.to_thread(getattr(self.sync, name), **kwargs)
        else:
            response = await getattr(self.aio, name)(**kwargs)
        return response
