"""The App Home tab: published when opened, and after every change a person makes."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.checkin_form import build_checkin_form
from bot.blocks.ids import Action
from bot.blocks.lists import build_tree_modal
from bot.listeners.command_call import actor_of
from bot.listeners.home_refresh import publish_home
from bot.listeners.okr_modals import objective_modal_for
from bot.listeners.registry import ListenerRegistry
from bot.services import checkin_form, lists


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    async def on_app_home_opened(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab needs nothing from us
        actor = await actor_of(sessions, client, body)  # event.user via body["event"]
        await publish_home(sessions, client, actor)

    async def on_new_objective(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        actor = await actor_of(sessions, client, body)
        view = await objective_modal_for(sessions, actor, channel_id=None)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_checkin(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        actor = await actor_of(sessions, client, body)
        form = await checkin_form.my_form(sessions, actor=actor)
        if form is None:
            return
        await client.views_open(trigger_id=body["trigger_id"], view=build_checkin_form(form))

    async def on_tree(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        actor = await actor_of(sessions, client, body)
        listing = await lists.tree(sessions, actor=actor)
        await client.views_open(trigger_id=body["trigger_id"], view=build_tree_modal(listing))

    registry.event("app_home_opened", on_app_home_opened)
    registry.action(Action.HOME_TREE, on_tree)
    registry.action(Action.HOME_CHECKIN, on_checkin)
    registry.action(Action.HOME_NEW_OBJECTIVE, on_new_objective)
