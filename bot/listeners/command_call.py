"""One `/okr` invocation as the subcommands see it: the words typed, the acting person, and
one way to answer (the ack body, shown only to the person)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.text import escape, section
from bot.listeners.middleware import authorized_team
from bot.services import actors
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.slack.tokens import TokenCipher

log = logging.getLogger(__name__)


@dataclass
class CommandCall:
    ack: AsyncAck
    body: dict[str, Any]
    args: list[str]  # the words after the subcommand, as typed (Slack's escaping undone)
    client: AsyncWebClient
    sessions: async_sessionmaker[AsyncSession]
    answered: bool = field(default=False)
    respond: Callable[..., Awaitable[Any]] | None = None
    cipher: TokenCipher = field(default_factory=lambda: TokenCipher([]))  # source secrets

    @property
    def slack_user_id(self) -> str:
        return str(self.body["user_id"])

    async def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Answer only the person (our own text: escape user text before it goes in)."""
        self.answered = True
        await self.ack(response_type="ephemeral", text=text, blocks=blocks or [section(text)])

    async def open_modal(self, view: dict[str, Any]) -> None:
        """Acknowledge, then open `view` with the command's trigger (valid for 3 seconds)."""
        self.answered = True
        await self.ack()
        try:
            await self.client.views_open(trigger_id=self.body["trigger_id"], view=view)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("views.open failed", extra={"slack_error": error})
            if self.respond is not None:
                await self.respond(
                    response_type="ephemeral",
                    text="Slack did not open the form in time. Type the command again.",
                )

    async def actor(self) -> Actor:
        """The acting person (remembered on first sight, even if the command is refused)."""
        return await acting(
            self.sessions,
            self.client,
            slack_team_id=authorized_team(self.body),
            slack_user_id=self.slack_user_id,
            name=str(self.body.get("user_name") or ""),
        )


async def actor_of(
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, body: dict[str, Any]
) -> Actor:
    """The person behind an interaction (a click, a submitted modal, an App Home event)."""
    team_id = authorized_team(body)
    user = body.get("user")
    user_id = str(user["id"] if isinstance(user, dict) else (body.get("event") or {}).get("user"))
    return await acting(sessions, client, slack_team_id=team_id, slack_user_id=user_id)


async def acting(
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient,
    *,
    slack_team_id: str,
    slack_user_id: str,
    name: str = "",
) -> Actor:
    """The acting person; on first sight Slack says (`users.info`, asked while no transaction
    is open) whether they are a workspace admin, and what they are called."""
    known = await actors.known_actor(
        sessions, slack_team_id=slack_team_id, slack_user_id=slack_user_id
    )
    if known is not None:
        return known
    admin = False
    try:
        info = (await client.users_info(user=slack_user_id)).get("user") or {}
        admin = bool(info.get("is_admin") or info.get("is_owner"))
        name = str(info.get("real_name") or info.get("name") or name)
    except SlackApiError as exc:
        log.warning("users.info failed", extra={"slack_error": exc.response.get("error")})
    return await actors.first_seen(
        sessions,
        slack_team_id=slack_team_id,
        slack_user_id=slack_user_id,
        slack_admin=admin,
        name=name,
    )


Run = Callable[[CommandCall], Awaitable[None]]


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"`{escape(text)}` is not a date: write dates as YYYY-MM-DD, like 2027-01-01."
        ) from None


def parse_user(text: str) -> str:
    """`<@U123|pat>` (a mention with should_escape) -> U123."""
    if text.startswith("<@") and text.endswith(">"):
        return text[2:-1].split("|", 1)[0]
    raise Invalid(f"`{escape(text)}` is not a person: mention them, like `@pat`.")
