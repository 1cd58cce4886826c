"""Processing a stored reply: record its check-ins, then confirm in Slack.

The rows and the `processed_at` mark commit together, so processing twice changes nothing;
the confirmation (a reaction and a short reply) follows the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.checkin import confirmation_text
from bot.models import InboxEvent, Workspace
from bot.services import intake, replies
from bot.services.actors import actor_for
from bot.services.inbox import InboxKey, inbox_key
from bot.services.intake import CheckinInput, Source
from bot.slack.clients import WorkspaceClients

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
PROMPT_WAIT_ATTEMPTS = 3  # a thread reply whose prompt is not recorded yet is retried
NO_PROMPT = (
    "I have no check-in waiting for you yet. `/okr checkin` opens a form with your key "
    "results, and `/okr help` lists everything else."
)


class NotUnderAPrompt(Exception):
    """A thread reply whose thread is still no known prompt after the wait: chatter, which
    is not kept (its text is dropped; the row stays so a redelivery is still recognised)."""


class PromptNotYet(Exception):
    """A reply in a team channel thread whose prompt row is not (yet) known."""


def slack_time(key: InboxKey, event: dict[str, object]) -> datetime:
    """When the person did it, by Slack's clock: the message, edit or delete timestamp. An
    answer processed late (a retry) still sorts where it belongs among the others."""
    raw = key.edited_ts or (event.get("event_ts") if key.action == "delete" else key.message_ts)
    try:
        return datetime.fromtimestamp(float(str(raw)), UTC)
    except (TypeError, ValueError, OverflowError):
        return clock.now()


async def deleted_already(session: AsyncSession, row: InboxEvent) -> bool:
    found = await session.execute(
        select(InboxEvent.id).where(
            InboxEvent.workspace_id == row.workspace_id,
            InboxEvent.channel_id == row.channel_id,
            InboxEvent.message_ts == row.message_ts,
            InboxEvent.action == "delete",
        )
    )
    return found.first() is not None


@dataclass(frozen=True)
class Confirmation:
    channel: str
    message_ts: str
    thread_ts: str | None
    text: str
    react: bool


async def _process(
    session: AsyncSession, row: InboxEvent, *, update_every: float
) -> Confirmation | None:
    event = dict(row.payload.get("event") or {})
    key = inbox_key(event, bot_user_id=None)
    now = slack_time(key, event) if key is not None else clock.now()
    workspace = await session.get(Workspace, row.workspace_id)
    if key is None or workspace is None or not key.user:
        return None
    actor = await actor_for(session, slack_team_id=workspace.slack_team_id, slack_user_id=key.user)
    if (
        key.is_dm
        and key.action == "post"
        and actor.person_id is not None
        and row.attempts < PROMPT_WAIT_ATTEMPTS
        and await replies.dm_not_recorded_yet(
            session, workspace_id=row.workspace_id, person_id=actor.person_id
        )
    ):
        raise PromptNotYet  # this week's DM may be posted but not recorded yet: try later
    prompt = await replies.prompt_for(
        session,
        workspace_id=row.workspace_id,
        channel=key.channel,
        thread_ts=key.thread_ts,
        person_id=actor.person_id,
        is_dm=key.is_dm,
        message_ts=key.message_ts,
    )
    checkin = CheckinInput(
        actor=actor,
        text=key.text,
        source=Source.DM if key.is_dm else Source.THREAD,
        source_ref=f"{key.channel}:{key.message_ts}",
        at=now,
        prompt=prompt,
    )
    if key.action == "delete":  # withdraws what the message recorded, whatever it answered
        revision = str(event.get("event_ts") or event.get("ts") or now.timestamp())[:32]
        await intake.record_checkin(
            session, checkin=replace(checkin, revision=revision, retraction=True),
            now=clock.now(), refresh_every=update_every,
        )  # fmt: skip
        return None
    root = key.thread_ts if key.thread_ts and key.thread_ts != key.message_ts else None
    if prompt is None:
        if key.is_dm and key.action == "post":
            return Confirmation(key.channel, key.message_ts, root, NO_PROMPT, react=False)
        if not key.is_dm and row.attempts < PROMPT_WAIT_ATTEMPTS:
            raise PromptNotYet  # its prompt may be posted but not recorded yet: try later
        if not key.is_dm:
            raise NotUnderAPrompt
        return None
    if key.action == "post" and await deleted_already(session, row):
        return None  # Slack delivered the delete first: the message is gone
    revision = key.edited_ts if key.action == "edit" else ""
    outcome = await intake.record_checkin(
        session, checkin=replace(checkin, revision=revision), now=clock.now(),
        refresh_every=update_every,
    )  # fmt: skip
    if not outcome.anything:
        return None
    text = outcome.explanation or confirmation_text(
        outcome.recorded, outcome.refused, period=outcome.period
    )
    if key.action == "edit":
        text = "Updated. " + text
    return Confirmation(key.channel, key.message_ts, root, text, react=bool(outcome.recorded))


async def process_row(
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient | None,
    row_id: int,
    *,
    update_every: float = 30.0,
    clients: WorkspaceClients | None = None,
) -> bool:
    """Process one inbox row once; True when this call processed it."""
    async with sessions.begin() as session:
        query = select(InboxEvent).where(InboxEvent.id == row_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None or row.processed_at is not None:
            return False
        row.attempts += 1
        try:
            async with session.begin_nested():
                confirmation = await _process(session, row, update_every=update_every)
        except PromptNotYet:
            row.error = "no known prompt for this thread yet"
            return False
        except NotUnderAPrompt:
            row.payload, row.processed_at, row.error = {}, clock.now(), None
            return True
        except Exception as exc:  # noqa: BLE001 - kept for the retry, never lost
            log.exception("inbox row failed", extra={"inbox_id": row_id})
            row.error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:  # a poison row must not block the others
                log.error("inbox row given up", extra={"inbox_id": row_id})
                row.processed_at = clock.now()
            return False
        row.processed_at, row.error = clock.now(), None
        workspace_id = row.workspace_id
    if confirmation is not None and client is None and clients is not None:
        client = await clients.get(workspace_id)
    if confirmation is not None and client is not None:
        await confirm(client, confirmation)
    return True


async def confirm(client: AsyncWebClient, confirmation: Confirmation) -> None:
    if confirmation.react:
        try:
            await client.reactions_add(
                channel=confirmation.channel,
                timestamp=confirmation.message_ts,
                name="white_check_mark",
            )
        except SlackApiError as exc:  # already_reacted after an edit, for one
            log.info("reaction not added", extra={"error": exc.response.get("error")})
    try:
        await client.chat_postMessage(
            channel=confirmation.channel,
            thread_ts=confirmation.thread_ts,
            text=confirmation.text,
            unfurl_links=False,
        )
    except SlackApiError as exc:
        log.warning("confirmation not posted", extra={"error": exc.response.get("error")})
    except Exception:  # noqa: BLE001 - the check-in is recorded; only the thanks is lost
        log.warning("confirmation not posted", exc_info=True)
