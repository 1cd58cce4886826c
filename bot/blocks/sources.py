"""What `/okr source`, `/okr refresh` and `/okr token` answer. Pure: every URL, path and name
is text a person typed, escaped here; a secret is never passed in, only whether one is set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.checkin import ago
from bot.blocks.okrs import number
from bot.blocks.text import escape


@dataclass(frozen=True)
class SourceShown:
    """A key result's source as a person may see it: never the secret, only that one is set."""

    ref: str
    url: str | None
    path: str | None
    header: str | None
    has_secret: bool
    last_value: float | None
    last_good_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    unit: str = ""


def source_text(source: SourceShown, *, now: datetime, saved: bool = False) -> str:
    if source.url is None:
        return (
            f"{source.ref} has no source. Give it one with `/okr source {source.ref} "
            "https://… path=data.total` (add `header=Authorization secret=…` if it needs one)."
        )
    lines = [
        f"{'Saved: ' if saved else ''}*{source.ref}* is pulled from `{escape(source.url)}`, "
        f"field `{escape(source.path or '')}`."
    ]
    if source.header:
        secret = "a secret (hidden)" if source.has_secret else "no secret"
        lines.append(f"Header `{escape(source.header)}` with {secret}.")
    if source.last_value is not None and source.last_good_at is not None:
        lines.append(
            f"Last value: {number(source.last_value, source.unit)} ← from source, "
            f"{ago(now - source.last_good_at)}."
        )
    if source.last_error and source.last_error_at is not None:
        lines.append(
            f":warning: The last pull failed {ago(now - source.last_error_at)}: "
            f"{escape(source.last_error)}"
            + (" The last good value stays." if source.last_value is not None else "")
        )
    lines.append(
        f"It is pulled before each round's prompt; `/okr refresh {source.ref}` pulls it now."
    )
    return "\n".join(lines)


def refresh_text(ref: str) -> str:
    return (
        f"Pulling {ref} now. `/okr source {ref}` shows the value (or what went wrong) in a moment."
    )


@dataclass(frozen=True)
class TokenShown:
    name: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_created_text(name: str, token: str) -> str:
    return (
        f"Token *{escape(name)}* made. Copy it now: it is shown only this once.\n"
        f"```{token}```\n"
        "Send it as `Authorization: Bearer <token>` to "
        "`POST /api/v1/key-results/KR12/checkins`. `/okr token revoke "
        f"{escape(name)}` ends it."
    )


def tokens_text(tokens: Sequence[TokenShown], *, now: datetime) -> str:
    if not tokens:
        return "No API tokens yet. `/okr token create NAME` makes one."
    lines = ["*API tokens*"]
    for token in tokens:
        by = f" by <@{token.created_by}>" if token.created_by else ""
        used = f", used {ago(now - token.last_used_at)}" if token.last_used_at else ", never used"
        state = f" · revoked {ago(now - token.revoked_at)}" if token.revoked_at else ""
        lines.append(
            f"• `{escape(token.name)}` made{by} {ago(now - token.created_at)}{used}{state}"
        )
    return "\n".join(lines)
