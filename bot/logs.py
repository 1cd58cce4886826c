"""Structured logs: one JSON object a line, with workspace and request ids.

Tokens, secrets and message bodies never reach the output: known secret values and anything
shaped like a Slack token are masked, and the Slack SDK loggers (whose DEBUG lines carry
request bodies) never go below INFO.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

workspace_id_var: ContextVar[str | None] = ContextVar("workspace_id", default=None)
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

MASK = "[redacted]"
_TOKEN_PATTERN = re.compile(r"\bx(?:ox[abposer]|app)-[A-Za-z0-9-]+")
_FERNET_PATTERN = re.compile(r"gAAAAA[A-Za-z0-9_\-=]{20,}")
# What people wrote: Bolt echoes request bodies in some messages ("body: ...", "'text': ...").
_BODY_TAIL = re.compile(r"(\bbody: ).*", re.DOTALL)
_TEXT_FIELDS = re.compile(
    r"""(['"]?\b(?:text|value|note|title|description|message|previous_message)['"]?\s*[:=]\s*)"""
    r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\{.*?\}|[^&,\s)]+)"""
)
# Loggers that print request/response bodies at DEBUG: never below INFO.
_CHATTY_LOGGERS = ("slack_sdk", "slack_bolt", "aiohttp", "httpx", "httpcore", "asyncio")
# Loggers that print SQL and its parameters at INFO and DEBUG: never below WARNING.
_SQL_LOGGERS = ("sqlalchemy", "aiosqlite", "psycopg", "alembic.runtime")
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


class Redactor:
    """Masks known secret values and token-shaped strings in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = _TOKEN_PATTERN.sub(MASK, text)
        return _FERNET_PATTERN.sub(MASK, text)


def redact_bodies(text: str) -> str:
    """Mask message bodies and user-written fields echoed inside a log message."""
    text = _BODY_TAIL.sub(lambda m: m.group(1) + MASK, text)
    return _TEXT_FIELDS.sub(lambda m: m.group(1) + MASK, text)


class _DropTokenSkippedWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when an installation store is given; here
    that is by design (the store hands the token out), so the warning only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_bodies(record.getMessage()),
        }
        workspace = workspace_id_var.get()
        request = request_id_var.get()
        if workspace:
            entry["workspace_id"] = workspace
        if request:
            entry["request_id"] = request
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = redact_bodies(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = redact_bodies(self.formatException(record.exc_info))
        return self._redact(json.dumps(entry, default=str, ensure_ascii=False))


def configure(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Send every log line through the JSON formatter with redaction."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    for name in _SQL_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    handler.addFilter(_DropTokenSkippedWarning())


@contextmanager
def bound(*, workspace_id: str | None = None, request_id: str | None = None) -> Iterator[None]:
    """Attach workspace and request ids to every log line written inside the block."""
    tokens = []
    if workspace_id is not None:
        tokens.append((workspace_id_var, workspace_id_var.set(workspace_id)))
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
