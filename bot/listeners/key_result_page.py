"""A key result's page beyond `/okr show KR12`: its Older / Newer buttons (the message they
sit in is replaced through its response_url, or the modal updated in place) and the App
Home's "History" button, which opens the page in a modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.ids import Action
from bot.blocks.key_result_page import (
    build_key_result_modal,
    build_key_result_page,
    key_result_page_text,
    parse_page_value,
)
from bot.listeners.command_call import actor_of
from bot.listeners.registry import ListenerRegistry
from bot.services import key_result_page
from bot.services.errors import DomainError

log = logging.getLogger(__name__)


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_page(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        ref, page = parse_page_value(str(body["actions"][0].get("value") or ""))
        in_view = (body.get("container") or {}).get("type") == "view"
        try:
            actor = await actor_of(sessions, client, body)
            shown = await key_result_page.key_result_page(sessions, actor=actor, ref=ref, page=page)
        except DomainError as exc:
            if not in_view:
                await respond(replace_original=True, text=str(exc))
            return
        if in_view:
            view = body.get("view") or {}
            try:
                await client.views_update(
                    view_id=view.get("id"),
                    hash=view.get("hash"),
                    view=build_key_result_modal(shown),
                )
            except SlackApiError as exc:  # a newer click already changed it: that one stands
                log.warning("views.update failed", extra={"slack_error": exc.response.get("error")})
            return
        await respond(
            replace_original=True,
            text=key_result_page_text(shown),
            blocks=build_key_result_page(shown),
        )

    async def on_home_history(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        ref = str(body["actions"][0].get("value") or "")
        actor = await actor_of(sessions, client, body)
        try:
            shown = await key_result_page.key_result_page(sessions, actor=actor, ref=ref)
        except DomainError:
            return  # archived or gone since the tab was drawn: the next refresh drops it
        await client.views_open(trigger_id=body["trigger_id"], view=build_key_result_modal(shown))

    registry.action(Action.KEY_RESULT_OLDER, on_page)
    registry.action(Action.KEY_RESULT_NEWER, on_page)
    registry.action(Action.HOME_KEY_RESULT, on_home_history)
