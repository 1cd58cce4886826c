"""Block Kit validation as Slack does it, on slack_sdk's own models plus the limits those
models do not check. A refusal is the Web API error Slack answers, with the reason."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.sandbox.emulator.state import ApiError

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
MESSAGE_BLOCKS_CHARS = 13_200  # Slack refuses larger block payloads with msg_blocks_too_long
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
OPTION_LIMITS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "checkboxes": 10,
    "radio_buttons": 10,
}


def _invalid(reason: str, pointer: str) -> ApiError:
    message = f"[ERROR] {reason} [json-pointer:{pointer}]"
    return ApiError("invalid_blocks", errors=[message], response_metadata={"messages": [message]})


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(block.get("elements") or [])
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return [e for e in found if isinstance(e, dict)]


def validate_blocks(blocks: Any, *, limit: int, pointer: str = "/blocks") -> list[dict[str, Any]]:
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise ApiError("invalid_blocks_format") from None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise ApiError("invalid_blocks_format")
    if len(blocks) > limit:
        raise _invalid(f"no more than {limit} items allowed", pointer)
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"{pointer}/{i}"
        block = Block.parse(raw)
        if block is None:
            raise _invalid(f"unknown block type {raw.get('type')!r}", f"{where}/type")
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            raise _invalid(str(exc), where) from None
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                raise _invalid(f"duplicate block_id {block_id!r}", f"{where}/block_id")
            block_ids.add(block_id)
        for j, element in enumerate(_elements(raw)):
            limit_for = OPTION_LIMITS.get(str(element.get("type")))
            options = element.get("options") or []
            if limit_for is not None and len(options) > limit_for:
                raise _invalid(
                    f"no more than {limit_for} options allowed", f"{where}/elements/{j}/options"
                )
    return blocks


def validate_message(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks of chat.postMessage / chat.update / chat.postEphemeral."""
    text = str(args.get("text") or "")
    blocks_arg = args.get("blocks")
    blocks = validate_blocks(blocks_arg, limit=MESSAGE_BLOCKS) if blocks_arg else []
    if not text and not blocks and not args.get("attachments") and not args.get("file_ids"):
        raise ApiError("no_text")
    if len(text) > MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    if blocks and len(json.dumps(blocks)) > MESSAGE_BLOCKS_CHARS:
        raise ApiError("msg_blocks_too_long")
    return text, blocks


def validate_view(view: Any) -> dict[str, Any]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            raise ApiError("invalid_arguments") from None
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise _invalid("must be a modal or home view", "/view/type")
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            part = view.get(key)
            if key == "title" and not isinstance(part, dict):
                raise _invalid("a modal needs a title", "/view/title")
            if isinstance(part, dict) and len(str(part.get("text", ""))) > VIEW_TITLE:
                raise _invalid(
                    f"must be less than {VIEW_TITLE + 1} characters", f"/view/{key}/text"
                )
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA:
        raise _invalid(
            f"must be less than {PRIVATE_METADATA + 1} characters", "/view/private_metadata"
        )
    validate_blocks(view.get("blocks") or [], limit=VIEW_BLOCKS, pointer="/view/blocks")
    return view
