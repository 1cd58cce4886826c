"""Sending a digest chart row: draw the PNG, upload it unshared, post it in the digest's thread.

The row is claimed, leased, recorded and finished by `OutboxSender` like any other; only the
steps in between differ, and each leaves the row safe to try again:

1. Reconcile (the outcome of an earlier attempt is unknown): look for the row's key in the
   digest's thread (`conversations.replies` on part 1's ts: channel history does not show
   thread replies; the bot's channels:history and groups:history scopes read public and
   private team channels). Found: recorded, later copies deleted. Not readable in time:
   posted, and a later check deletes any duplicate it finds. A workspace-fatal answer (a
   missing scope, a revoked token) pauses the workspace, as `bot.slack.errors` says, and
   posts nothing: the row is looked up again once the workspace resumes.
2. The file. A file the row holds whose upload completed is used again. One whose upload
   may not have completed (a crash in the middle) is deleted first. Then the PNG is drawn
   off the event loop and uploaded unshared: its id is committed on the row *before* the
   bytes go up, and its completion after, so whatever stops an attempt, the only file that
   can be live is the one the row names.
3. The post: an image block naming the file, in the thread, the key in metadata. Slack
   refuses a file it is still processing: tried again shortly. A file still refused long
   after its upload is gone: deleted, forgotten, and the next attempt uploads again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot import clock
from bot.blocks.checkin import METADATA_EVENT, prompt_metadata
from bot.blocks.digest import CHART_TEXT, build_chart
from bot.charts import alt_text, render_off_loop
from bot.jobs import crashpoints
from bot.jobs.outbox_rows import VERIFY, Claim, Prepared
from bot.models import OutboxItem
from bot.services.digest_chart import FILE_ID, FILE_UPLOADED_AT, ChartPost
from bot.slack.errors import Failure, classify
from bot.slack.upload import classify_upload, delete_file, file_not_ready, upload_unshared

if TYPE_CHECKING:
    from bot.jobs.outbox import OutboxSender

log = logging.getLogger(__name__)

THREAD_PAGES = 3
FILE_RETRY_SECONDS = 2.0  # Slack processes a fresh upload for about a second
FILE_GONE_AFTER = timedelta(minutes=2)  # refused this long after its upload: the file is gone
MAX_ATTEMPTS = 12  # as for every row (`bot.jobs.outbox`)


class _RowTaken(Exception):
    """Another sender holds the row now: this attempt stops, leaving it theirs."""


async def find_in_thread(
    client: AsyncWebClient, channel: str, thread_ts: str, key: str
) -> list[str]:
    """The ts of our replies in the thread carrying `key`, oldest first."""
    found: list[str] = []
    cursor = None
    for _ in range(THREAD_PAGES):
        response = await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                found.append(str(message["ts"]))
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return sorted(found, key=float)


async def send(
    sender: OutboxSender, claim: Claim, prepared: Prepared, client: AsyncWebClient
) -> None:
    post, key = prepared.chart, prepared.key
    if post is None:
        await sender._finish(claim, state="cancelled", error="no longer owed")
        sender.stats.cancelled += 1
        return
    if prepared.verify:
        await _check_duplicates(sender, claim, prepared, client, post)
        return
    unverified = False
    if claim.reconcile:
        try:
            found = await find_in_thread(client, post.channel, post.thread_ts, key)
        except Exception as exc:  # noqa: BLE001 - any failure: the thread unreadable in time
            failure = classify(exc)
            if failure.failure is Failure.RATE_LIMITED and failure.retry_after <= 60:
                await sender._finish(claim, state="uncertain", error=None,
                                     delay=failure.retry_after, refund=True)  # fmt: skip
                return
            if failure.failure is Failure.WORKSPACE_FATAL:
                # A scope taken away (or a token gone): nothing is posted, the workspace is
                # paused, and the row is looked up in the thread again once it resumes.
                await sender._workspace_fatal(claim, failure.error, state="uncertain")
                return
            log.warning("thread unreadable", extra={"error": failure.error})
            found, unverified = [], True
        crashpoints.reached("reconciling")
        if found:
            for duplicate in found[1:]:
                await client.chat_delete(channel=post.channel, ts=duplicate)
            sender.stats.duplicates_deleted += len(found) - 1
            await sender._record(claim, prepared, post.channel, found[0], (), verify=False)
            sender.stats.reconciled += 1
            return
    if post.chart is None:  # nothing to draw (any more): the row's file, if any, goes too
        if post.file_id:
            await _delete_quietly(client, post.file_id)
        await sender._finish(claim, state="cancelled", error="no longer owed")
        sender.stats.cancelled += 1
        return
    if claim.reconcile and not await sender.pacer.wait(claim.workspace_id):
        await sender._requeue_held(claim)
        return
    if sender.pacer.held_for(claim.workspace_id, clock.now()) > 0:
        await sender._requeue_held(claim)
        return
    try:
        file_id, uploaded_at = await _file(sender, claim, client, post)
    except _RowTaken:
        return
    except Exception as exc:  # noqa: BLE001 - classified below
        await sender._failed(claim, classify_upload(exc))
        return
    if await sender._too_late_to_post(claim):  # the file stays on the row for the next try
        return
    try:
        response = await client.chat_postMessage(
            channel=post.channel,
            thread_ts=post.thread_ts,
            text=CHART_TEXT,
            blocks=build_chart(file_id, alt_text(post.chart)),
            metadata=prompt_metadata(key, ()),
            unfurl_links=False,
            unfurl_media=False,
        )
    except Exception as exc:  # noqa: BLE001 - classified below
        if file_not_ready(exc):
            await _not_ready(sender, claim, client, file_id, uploaded_at)
        else:
            await sender._failed(claim, classify_upload(exc))
        return
    crashpoints.reached("answered")
    await sender._record(
        claim, prepared, str(response["channel"]), str(response["ts"]), (), verify=unverified
    )
    sender.stats.sent += 1


async def _file(
    sender: OutboxSender, claim: Claim, client: AsyncWebClient, post: ChartPost
) -> tuple[str, datetime]:
    """The file to show: the row's, if its upload completed; else a new upload, kept on the
    row as it goes (module docstring, step 2)."""
    if post.file_id and post.uploaded_at is not None:
        return post.file_id, post.uploaded_at
    if post.file_id:
        await delete_file(client, file_id=post.file_id)  # False: never completed, or gone
    assert post.chart is not None
    png = await render_off_loop(post.chart)

    async def keep(file_id: str) -> None:
        if not await _keep_file(sender, claim, file_id, None):
            raise _RowTaken

    uploaded = await upload_unshared(
        client,
        filename=f"progress-{post.chart.period}.png",
        title=f"Progress to {post.chart.period}",
        content=png,
        alt_text=alt_text(post.chart),
        started=keep,
    )
    now = clock.now()
    if not await _keep_file(sender, claim, uploaded.file_id, now):
        await _delete_quietly(client, uploaded.file_id)  # the row is another sender's now
        raise _RowTaken
    crashpoints.reached("uploaded")
    return uploaded.file_id, now


async def _keep_file(
    sender: OutboxSender, claim: Claim, file_id: str | None, uploaded_at: datetime | None
) -> bool:
    """Name the row's file (None: none) and when its upload completed, if this sender still
    holds the row; False when it does not."""
    async with sender._writing() as session:
        row = await session.get(OutboxItem, claim.id)
        if row is None or row.lease_until != claim.lease_until:
            return False
        payload = {
            k: v for k, v in (row.payload or {}).items() if k not in (FILE_ID, FILE_UPLOADED_AT)
        }
        if file_id is not None:
            payload[FILE_ID] = file_id
        if uploaded_at is not None:
            payload[FILE_UPLOADED_AT] = uploaded_at.isoformat()
        row.payload = payload
        return True


async def _not_ready(
    sender: OutboxSender,
    claim: Claim,
    client: AsyncWebClient,
    file_id: str,
    uploaded_at: datetime,
) -> None:
    """Slack refused the image (nothing was posted): still processing, or gone for good."""
    if clock.now() - uploaded_at >= FILE_GONE_AFTER:
        await _delete_quietly(client, file_id)
        if not await _keep_file(sender, claim, None, None):
            return
    await sender._finish(
        claim, state="uncertain" if claim.reconcile else "pending", error="file not ready",
        delay=FILE_RETRY_SECONDS, give_up_after=MAX_ATTEMPTS,
    )  # fmt: skip


async def _delete_quietly(client: AsyncWebClient, file_id: str) -> None:
    """Delete a file nobody is shown; a failure leaves an unshared file, logged."""
    try:
        await delete_file(client, file_id=file_id)
    except Exception as exc:  # noqa: BLE001 - nothing depends on it
        log.warning("chart file not deleted", extra={"error": classify(exc).error})


async def _check_duplicates(
    sender: OutboxSender,
    claim: Claim,
    prepared: Prepared,
    client: AsyncWebClient,
    post: ChartPost,
) -> None:
    """A chart posted without a readable thread: delete any other copy in the thread."""
    try:
        found = await find_in_thread(client, post.channel, post.thread_ts, prepared.key)
        extra = [ts for ts in found if ts != prepared.sent_ts]
        for duplicate in extra:
            await client.chat_delete(channel=post.channel, ts=duplicate)
    except Exception as exc:  # noqa: BLE001 - still unreadable: the row stays sent
        failure = classify(exc)
        log.warning("duplicate check failed", extra={"error": failure.error})
        await sender._finish(claim, state="sent", error=VERIFY,
                             delay=sender.settings.outbox_lease_seconds)  # fmt: skip
        if failure.failure is Failure.WORKSPACE_FATAL:  # checked again once it resumes
            await sender._pause_workspace(claim.workspace_id, failure.error)
        return
    sender.stats.duplicates_deleted += len(extra)
    await sender._finish(claim, state="sent", error=None)
