"""How the driver hands a signed request to the app: over HTTP to its real `/slack/events`,
or in-process through Bolt's dispatch (the same verification and listeners, no socket)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest


@dataclass
class Answer:
    """What the app answered Slack: the HTTP status and body (an ack's content)."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float = 0.0  # seconds until the app answered

    ACK_DEADLINE = 3.0

    @property
    def late(self) -> bool:
        """Slack gives up on an answer after 3 seconds (and retries an event)."""
        return self.elapsed > self.ACK_DEADLINE

    @property
    def json(self) -> dict[str, Any] | None:
        if not self.body:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class Delivery(Protocol):
    async def __call__(self, body: str, headers: dict[str, str]) -> Answer: ...


class HttpDelivery:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def __call__(self, body: str, headers: dict[str, str]) -> Answer:
        response = await self._client.post(self.url, content=body.encode(), headers=headers)
        return Answer(response.status_code, response.text, dict(response.headers))

    async def close(self) -> None:
        await self._client.aclose()


class InProcessDelivery:
    def __init__(self, app: AsyncApp) -> None:
        self.app = app

    async def __call__(self, body: str, headers: dict[str, str]) -> Answer:
        request = AsyncBoltRequest(body=body, headers={k: [v] for k, v in headers.items()})
        response = await self.app.async_dispatch(request)
        flat = {
            k: v[0] if isinstance(v, list) and v else str(v) for k, v in response.headers.items()
        }
        return Answer(response.status, response.body, flat)
