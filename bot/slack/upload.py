"""Uploading a file that no channel shows: the digest chart, before a message shows it.

Slack's external upload has three steps: `files.getUploadURLExternal` (a file id and an
upload URL), a POST of the bytes to that URL, and `files.completeUploadExternal`. Given no
channel, the completed file stays private to the bot: nobody sees it until a message shows
it in an image block (`slack_file: {"id": ...}`), which the outbox posts and reconciles by
its key like any message. slack_sdk's `files_upload_v2` does the same steps but shares the
file into a channel when it has one, posting a message of its own the outbox cannot
reconcile, hence this module.

An unshared upload is safe to do again: nobody sees the copy, and `delete_file` removes a
duplicate left by a crash between upload and record. So `classify_upload` turns the
failures a fresh upload cures into `UNCERTAIN` (try again) instead of `BROKEN`; every other
failure means what `bot/slack/errors.py` says it means.

Files are processed asynchronously: for a moment after `completeUploadExternal` a message
naming the file is refused with `invalid_blocks` ("invalid slack file"). `classify_upload`
says `UNCERTAIN` for that too, so the post is tried again a little later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.errors import Classified, Failure, classify

UPLOAD_FAILED = "upload_failed"  # the upload URL did not take the bytes (not a Slack code)

# Failures of the upload steps that a fresh upload cures (see the module docstring).
UPLOAD_AGAIN = frozenset(
    {
        UPLOAD_FAILED,
        "file_not_found",  # completing a file id Slack no longer knows: its upload expired
        "file_upload_not_found",  # completing before the bytes arrived
        "file_update_failed",
    }
)
FILE_NOT_READY = "invalid slack file"  # in invalid_blocks: the file is still processing


@dataclass(frozen=True)
class UploadedFile:
    file_id: str
    permalink: str | None = None


async def upload_unshared(
    client: AsyncWebClient,
    *,
    filename: str,
    title: str,
    content: bytes,
    alt_text: str,
    started: Callable[[str], Awaitable[None]] | None = None,
) -> UploadedFile:
    """Upload `content` as a file no channel shows. Raises `SlackApiError` (including for
    an upload URL that refuses the bytes, as `upload_failed` with its HTTP status) or a
    network error; `classify_upload` says what each means.

    `started` is awaited with the file id before the bytes go up, so a caller can keep it
    (and delete the file later) whatever happens next; what it raises ends the upload
    before Slack has the file (an upload never completed is not a file)."""
    if not content:
        raise ValueError("nothing to upload: Slack refuses an empty file")
    begun = await client.files_getUploadURLExternal(
        filename=filename, length=len(content), alt_txt=alt_text
    )
    file_id, upload_url = str(begun["file_id"]), str(begun["upload_url"])
    if started is not None:
        await started(file_id)
    await _post_bytes(client, upload_url, content)
    done = await client.files_completeUploadExternal(files=[{"id": file_id, "title": title}])
    files = done.get("files") or []
    first: dict[str, Any] = files[0] if files and isinstance(files[0], dict) else {}
    permalink = first.get("permalink")
    return UploadedFile(str(first.get("id") or file_id), str(permalink) if permalink else None)


async def _post_bytes(client: AsyncWebClient, url: str, content: bytes) -> None:
    """POST the bytes to the upload URL with the client's own session, timeout, proxy and
    TLS settings (what slack_sdk does for `files_upload_v2`)."""
    options: dict[str, Any] = {"data": content}
    if client.proxy:
        options["proxy"] = client.proxy
    if client.ssl is not None:
        options["ssl"] = client.ssl
    session = client.session if client.session and not client.session.closed else None
    own = session is None
    if session is None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
    try:
        async with session.post(url, **options) as answer:
            body = await answer.text()
            if answer.status != 200:
                # A SlackApiError like any Web API failure, so `classify` reads its status.
                raise SlackApiError(  # type: ignore[no-untyped-call]  # slack_sdk has no hints here
                    f"the upload URL answered HTTP {answer.status}",
                    AsyncSlackResponse(
                        client=client,
                        http_verb="POST",
                        api_url=url,
                        req_args={},
                        data={"ok": False, "error": UPLOAD_FAILED, "body": body[:200]},
                        headers=dict(answer.headers),
                        status_code=answer.status,
                    ),
                )
    finally:
        if own:
            await session.close()


async def delete_file(client: AsyncWebClient, *, file_id: str) -> bool:
    """Delete a file the bot uploaded (a duplicate). False when it was already gone."""
    try:
        await client.files_delete(file=file_id)
    except SlackApiError as exc:
        if _error(exc) in ("file_not_found", "file_deleted"):
            return False
        raise
    return True


def _error(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def file_not_ready(exc: BaseException) -> bool:
    """A message naming a file Slack is still processing (or does not know)."""
    if not isinstance(exc, SlackApiError) or _error(exc) != "invalid_blocks":
        return False
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    messages = list(data.get("errors") or [])
    messages += list((data.get("response_metadata") or {}).get("messages") or [])
    return any(FILE_NOT_READY in str(m) for m in messages)


def classify_upload(exc: BaseException) -> Classified:
    """`errors.classify`, except that what a fresh upload (or a later post of the image)
    cures is `UNCERTAIN`: see the module docstring."""
    classified = classify(exc)
    if classified.failure is Failure.BROKEN and (
        classified.error in UPLOAD_AGAIN or file_not_ready(exc)
    ):
        return Classified(Failure.UNCERTAIN, classified.error)
    return classified
