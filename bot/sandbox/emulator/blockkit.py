"""Block Kit validation as Slack does it, on slack_sdk's own models plus the limits those
models do not check. A refusal is the Web API error Slack answers, with the reason."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

from bot.sandbox.emulator.state import ApiError

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
MESSAGE_BLOCKS_CHARS = 13_200  # Slack refuses larger block payloads with msg_blocks_too_long
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
VIEW_CHARS = 250_000  # Slack refuses larger views with view_too_large
INPUT_MAX_LENGTH = 3000
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


def _check_block(raw: dict[str, Any], where: str) -> None:
    """slack_sdk's models (the block and, through to_dict(), what it holds), plus the rules
    those models leave out."""
    try:
        block = Block.parse(raw)
    except (TypeError, ValueError, KeyError) as exc:  # a required part is missing
        raise _invalid(f"malformed block: {exc}", where) from None
    if block is None:
        raise _invalid(f"unknown block type {raw.get('type')!r}", f"{where}/type")
    try:
        block.validate_json()
        block.to_dict()
    except SlackObjectFormationError as exc:
        raise _invalid(str(exc), where) from None
    kind = raw.get("type")
    if kind == "header" and (raw.get("text") or {}).get("type") != "plain_text":
        raise _invalid("must be a plain_text object", f"{where}/text")
    if "text" in raw and not isinstance(raw["text"], dict):
        raise _invalid("must be a text object", f"{where}/text")
    for j, element in enumerate(_elements(raw)):
        if kind in ("actions", "input", "section") and BlockElement.parse(element) is None:
            raise _invalid(f"unknown element type {element.get('type')!r}", f"{where}/elements/{j}")
        limit_for = OPTION_LIMITS.get(str(element.get("type")))
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options += list(group.get("options") or [])
        if limit_for is not None and len(options) > limit_for:
            raise _invalid(f"no more than {limit_for} options allowed", f"{where}/elements/{j}")
        max_length = element.get("max_length")
        if isinstance(max_length, int) and max_length > INPUT_MAX_LENGTH:
            raise _invalid(f"max_length must be at most {INPUT_MAX_LENGTH}", f"{where}/element")


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
        _check_block(raw, where)
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                raise _invalid(f"duplicate block_id {block_id!r}", f"{where}/block_id")
            block_ids.add(block_id)
        action_ids: set[str] = set()  # unique within their block (Slack's rule)
        for element in _elements(raw):
            action_id = element.get("action_id")
            if action_id is not None:
                if action_id in action_ids:
                    raise _invalid(f"duplicate action_id {action_id!r}", f"{where}")
                action_ids.add(action_id)
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
    if blocks and len(json.dumps(blocks, ensure_ascii=False)) > MESSAGE_BLOCKS_CHARS:
        raise ApiError("msg_blocks_too_long")
    return text, blocks


def _invalid_view(reason: str, pointer: str) -> ApiError:
    """views.* answer invalid_arguments, with the reason in response_metadata."""
    message = f"[ERROR] {reason} [json-pointer:{pointer}]"
    return ApiError("invalid_arguments", response_metadata={"messages": [message]})


def validate_view(view: Any) -> dict[str, Any]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            raise ApiError("invalid_arguments") from None
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise _invalid_view("must be a modal or home view", "/view/type")
    if len(json.dumps(view, ensure_ascii=False)) > VIEW_CHARS:
        raise ApiError("view_too_large")
    blocks = view.get("blocks") or []
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            part = view.get(key)
            if key == "title" and not isinstance(part, dict):
                raise _invalid_view("a modal needs a title", "/view/title")
            if part is None:
                continue
            if not isinstance(part, dict) or part.get("type") != "plain_text":
                raise _invalid_view("must be a plain_text object", f"/view/{key}")
            if len(str(part.get("text", ""))) > VIEW_TITLE:
                raise _invalid_view(
                    f"must be less than {VIEW_TITLE + 1} characters", f"/view/{key}/text"
                )
        if any(b.get("type") == "input" for b in blocks if isinstance(b, dict)) and not view.get(
            "submit"
        ):
            raise _invalid_view("a modal with inputs needs a submit button", "/view/submit")
    if len(str(view.get("callback_id") or "")) > CALLBACK_ID:
        raise _invalid_view(f"must be less than {CALLBACK_ID + 1} characters", "/view/callback_id")
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA:
        raise _invalid_view(
            f"must be less than {PRIVATE_METADATA + 1} characters", "/view/private_metadata"
        )
    try:
        validate_blocks(blocks, limit=VIEW_BLOCKS, pointer="/view/blocks")
        View(**{k: v for k, v in view.items() if k in _VIEW_FIELDS}).validate_json()
    except ApiError as exc:
        messages = exc.extra.get("response_metadata", {}).get("messages", [exc.code])
        raise ApiError("invalid_arguments", response_metadata={"messages": messages}) from None
    except (SlackObjectFormationError, TypeError) as exc:
        raise _invalid_view(str(exc), "/view") from None
    return view


_VIEW_FIELDS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}
