"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import build_home_view
from bot.listeners.registry import ListenerRegistry


async def on_app_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab needs nothing from us
    await client.views_publish(user_id=event["user"], view=build_home_view())


def register(registry: ListenerRegistry) -> None:
    registry.event("app_home_opened", on_app_home_opened)
    registry.token_revocation()
