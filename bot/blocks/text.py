"""Text helpers for Block Kit: escaping user text so nobody is pinged by a title."""

from __future__ import annotations

from typing import Any

SECTION_TEXT_LIMIT = 3000


def escape(text: str) -> str:
    """Escape Slack's three control characters (only these) for use inside mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What a person typed: Slack sends `&`, `<`, `>` escaped in command and message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    """mrkdwn that we wrote ourselves (user text inside must already be escaped)."""
    return {"type": "mrkdwn", "text": truncate(text), "verbatim": True}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text), "emoji": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(truncate(text, 150))}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
