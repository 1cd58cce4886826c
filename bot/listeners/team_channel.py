"""Making sure the bot is in a team's channel (it must be, to hear check-in replies).

Called before the service that saves the team opens its transaction: Slack is never asked
while the database is locked."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.ids import Field
from bot.services.errors import Invalid


async def join_team_channel(client: AsyncWebClient, channel_id: str) -> None:
    """Join a public channel; a private one must invite the bot (if we can see it, we are in
    it)."""
    try:
        info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            raise Invalid(
                "I can't see that channel. If it is private, invite me first "
                "(type `/invite @okr` there), then save again.",
                field=Field.CHANNEL,
            ) from None
        raise
    if info.get("is_archived"):
        raise Invalid("That channel is archived; pick another.", field=Field.CHANNEL)
    if info.get("is_private") or info.get("is_im"):
        if info.get("is_im"):
            raise Invalid("A team needs a channel, not a direct message.", field=Field.CHANNEL)
        return
    await client.conversations_join(channel=channel_id)
