"""Image sources in Block Kit, checked as Slack checks them when a message is posted.

An image (block, section accessory or context element) has an `alt_text` of 1-2000
characters and exactly one source: `image_url`, or `slack_file` with an `id` (`F…`) or a
`url` (the file's `url_private` or `permalink`). A `slack_file` must name a file of the
workspace that is uploaded, processed and not deleted; otherwise Slack answers
`invalid_blocks` with "invalid slack file", which is also what a message gets in the moment
after an upload, before Slack has processed the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.sandbox.emulator.state import ApiError, SlackState, UploadedFile

ALT_TEXT = 2000
FILE_ID = re.compile(r"^[F][A-Z0-9]{8,}$")  # the pattern Slack reports for slack_file.id


def _invalid(reason: str, pointer: str) -> ApiError:
    message = f"[ERROR] {reason} [json-pointer:{pointer}]"
    return ApiError("invalid_blocks", errors=[message], response_metadata={"messages": [message]})


def images(blocks: list[dict[str, Any]], pointer: str = "/blocks") -> Iterator[tuple[str, Any]]:
    """Every image in a message's blocks, with its json-pointer."""
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if block.get("type") == "image":
            yield where, block
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "image":
            yield f"{where}/accessory", accessory
        if block.get("type") == "context":
            for j, element in enumerate(block.get("elements") or []):
                if isinstance(element, dict) and element.get("type") == "image":
                    yield f"{where}/elements/{j}", element


def shown_files(state: SlackState, blocks: list[dict[str, Any]]) -> list[UploadedFile]:
    """The uploaded files a message's images name (for tests and the sandbox)."""
    found = []
    for _where, image in images(blocks):
        ref = image.get("slack_file")
        if isinstance(ref, dict):
            file = _find(state, None, ref)
            if file is not None:
                found.append(file)
    return found


def _find(state: SlackState, team_id: str | None, ref: dict[str, Any]) -> UploadedFile | None:
    if "id" in ref:
        file = state.files.get(str(ref["id"]))
        return file if file is not None and team_id in (None, file.team_id) else None
    url = str(ref.get("url") or "")
    for file in state.files.values():
        if team_id not in (None, file.team_id):
            continue
        private = f"https://files.slack.com/files-pri/{file.team_id}-{file.id}/"
        permalink = f".slack.com/files/{file.user}/{file.id}/"
        if url.startswith(private) or permalink in url.partition("?")[0]:
            return file
    return None


def check_images(state: SlackState, team_id: str, blocks: list[dict[str, Any]]) -> None:
    """Raise Slack's invalid_blocks for the first image Slack would refuse."""
    for where, image in images(blocks):
        alt_text = image.get("alt_text")
        if not isinstance(alt_text, str) or not alt_text:
            raise _invalid("must be more than 0 characters", f"{where}/alt_text")
        if len(alt_text) > ALT_TEXT:
            raise _invalid(f"must be less than {ALT_TEXT + 1} characters", f"{where}/alt_text")
        ref = image.get("slack_file")
        if ("image_url" in image) == (ref is not None):
            raise _invalid("must provide exactly one of image_url or slack_file", where)
        if ref is None:
            continue
        if not isinstance(ref, dict) or ("id" in ref) == ("url" in ref):
            raise _invalid("invalid slack file", f"{where}/slack_file")
        if "id" in ref and not FILE_ID.match(str(ref["id"])):
            raise _invalid(
                f"input must match regex pattern: {FILE_ID.pattern}", f"{where}/slack_file/id"
            )
        file = _find(state, team_id, ref)
        ready = (
            file is not None
            and not file.deleted
            and file.ready_at is not None
            and state.clock() >= file.ready_at
        )
        if not ready:
            raise _invalid("invalid slack file", f"{where}/slack_file")
