"""A check-in pushed through the API: one more door into the one intake (source `api`).

The body is read here, field by field, so every bad body is a 422 naming its field (never a
500); the value is a number or a string the one value grammar reads (`"45%"`, `"done"`). The
check-in is authored by the token: its creator is the author, the token is recorded on the
row. With an `Idempotency-Key`, the first answer is kept and replayed; the same key with a
different body is refused.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import ApiIdempotency
from bot.models.checkin import CheckinSource
from bot.okr.parse import parse_reply
from bot.okr.progress import Status
from bot.services import api_tokens
from bot.services.actors import Actor
from bot.services.errors import DomainError, NotFound
from bot.services.inputs import CONTROL_CHARACTERS, NOTE_MAX
from bot.services.intake import CheckinInput, record_checkin
from bot.services.metric_pulls import number_text
from bot.services.okr_lookup import key_result_by_ref

BODY_MAX = 16_384
VALUE_TEXT_MAX = 40
KEY_MAX = 200
FIELDS = ("value", "confidence", "status", "note")
STATUSES = {s.value: s.value for s in Status} | {s.value.replace("_", " "): s.value for s in Status}


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class BadBody(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def problem(status: int, message: str, field: str | None = None) -> ApiAnswer:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return ApiAnswer(status, body)


@dataclass(frozen=True)
class PushedCheckin:
    value_text: str
    confidence: int | None
    status: str | None
    note: str | None


def read_body(raw: bytes) -> PushedCheckin:
    """The body's fields, checked; `BadBody` names the first field that will not do."""
    if len(raw) > BODY_MAX:
        raise BadBody("body", f"The body is over {BODY_MAX:,} bytes.")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadBody("body", "The body is not JSON.") from None
    if not isinstance(document, dict):
        raise BadBody("body", 'The body is a JSON object, like {"value": 45}.')
    try:  # JSON may escape a lone surrogate (\ud800), which no text can hold or store
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise BadBody("body", "The body holds text that is not valid Unicode.") from None
    unknown = sorted(str(k) for k in document if k not in FIELDS)
    if unknown:
        raise BadBody(unknown[0][:40], f"Unknown field; the fields are {', '.join(FIELDS)}.")
    return PushedCheckin(
        _value(document.get("value")),
        _confidence(document.get("confidence")),
        _status(document.get("status")),
        _note(document.get("note")),
    )


def _value(value: object) -> str:
    if value is None:
        raise BadBody("value", 'The value is missing: send a number or text like "45%".')
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadBody("value", 'The value is a number, or text like "45%" or "done".')
    if isinstance(value, str):
        text = value.strip()
        if (
            not text
            or len(text) > VALUE_TEXT_MAX
            or CONTROL_CHARACTERS.search(text)
            or ("\n" in text)
        ):
            raise BadBody(
                "value", f"The value is one value of at most {VALUE_TEXT_MAX} characters."
            )
        if text[0] in "+-":
            raise BadBody("value", "Send the value itself, not a change (+3 or -2).")
        parsed = parse_reply(f"KR1 {text}")
        line = parsed.lines[0] if len(parsed.lines) == 1 and not parsed.unreadable else None
        if line is None or line.value is None or line.status or line.confidence or line.note:
            raise BadBody("value", f"I could not read {text!r} as a value (45, 45%, 1.2k, done).")
        return text
    if value != value or value in (float("inf"), float("-inf")):
        raise BadBody("value", "The value is a finite number.")
    if value < 0:
        raise BadBody("value", "A negative value cannot be recorded.")
    if value > 1e15:
        raise BadBody("value", "The value is over 1e15.")
    return number_text(float(value))


def _confidence(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise BadBody("confidence", "Confidence is a whole number from 0 to 10.")
    return value


def _status(value: object) -> str | None:
    if value is None:
        return None
    found = STATUSES.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        raise BadBody("status", "Status is on_track, at_risk or off_track.")
    return found


def _note(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadBody("note", "The note is text.")
    if len(value) > NOTE_MAX:
        raise BadBody("note", f"The note has {len(value)} characters; keep it to {NOTE_MAX}.")
    return value


async def push_checkin(
    sessions: async_sessionmaker[AsyncSession],
    *,
    token: str,
    ref: str,
    raw: bytes,
    idempotency_key: str | None,
    now: datetime,
    per_minute: int,
) -> ApiAnswer:
    """The API's answer to one `POST /api/v1/key-results/{ref}/checkins`."""
    if idempotency_key is not None and (
        not idempotency_key or len(idempotency_key) > KEY_MAX or not idempotency_key.isprintable()
    ):
        return problem(
            422, f"Idempotency-Key is 1-{KEY_MAX} printable characters.", "Idempotency-Key"
        )
    body_hash = hashlib.sha256(ref.encode() + b"\0" + raw).hexdigest()
    async with sessions.begin() as session:
        holder = await api_tokens.token_holder(session, token=token)
        if holder is None:
            return problem(401, "The token is not valid (unknown or revoked).")
        if not await api_tokens.count_request(
            session, token_id=holder.token_id, now=now, per_minute=per_minute
        ):
            answer = problem(429, f"Over {per_minute} requests a minute for this token.")
            return ApiAnswer(429, answer.body, {"Retry-After": str(60 - now.second)})
    try:
        async with sessions.begin() as session:
            if idempotency_key is not None:
                earlier = await _earlier(session, holder.token_id, idempotency_key)
                if earlier is not None:
                    return _replay(earlier, body_hash)
            answer = await _answer(session, holder, ref, raw, idempotency_key, now)
            if idempotency_key is not None:
                session.add(
                    ApiIdempotency(
                        workspace_id=holder.workspace_id, token_id=holder.token_id,
                        key=idempotency_key, body_hash=body_hash, status_code=answer.status,
                        response=answer.body,
                    )
                )  # fmt: skip
                await session.flush()
            return answer
    except IntegrityError:  # the same key, sent twice at once: the other one won
        async with sessions() as session:
            earlier = await _earlier(session, holder.token_id, idempotency_key or "")
        if earlier is None:
            raise
        return _replay(earlier, body_hash)


def _replay(earlier: ApiIdempotency, body_hash: str) -> ApiAnswer:
    """The first answer to a key, or a refusal when the key came with another request."""
    if earlier.body_hash != body_hash:
        return problem(
            422, "This Idempotency-Key was used with a different request.", "Idempotency-Key"
        )
    return ApiAnswer(earlier.status_code, dict(earlier.response))


IDEMPOTENCY_DAYS = 30  # a key is remembered this long (a retry comes within minutes)


async def prune_idempotency(session: AsyncSession, *, now: datetime) -> int:
    """Forget the answers kept for keys older than `IDEMPOTENCY_DAYS` (the clock's tick)."""
    result = await session.execute(
        delete(ApiIdempotency).where(
            ApiIdempotency.created_at < now - timedelta(days=IDEMPOTENCY_DAYS)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _earlier(session: AsyncSession, token_id: int, key: str) -> ApiIdempotency | None:
    return (
        await session.execute(
            select(ApiIdempotency).where(
                ApiIdempotency.token_id == token_id, ApiIdempotency.key == key
            )
        )
    ).scalar_one_or_none()


async def _answer(
    session: AsyncSession,
    holder: api_tokens.TokenHolder,
    ref: str,
    raw: bytes,
    idempotency_key: str | None,
    now: datetime,
) -> ApiAnswer:
    try:
        pushed = read_body(raw)
    except BadBody as bad:
        return problem(422, str(bad), bad.field)
    if holder.created_by_person_id is None:
        return problem(401, "The token's creator is gone: make a new token.")
    actor = Actor(
        holder.workspace_id,
        holder.created_by_person_id,
        "",
        "facilitator",  # a token may touch any key result of its workspace
        holder.timezone,
    )
    try:
        key_result = await key_result_by_ref(session, actor=actor, ref=ref[:20])
    except NotFound:
        return problem(404, f"There is no key result {ref[:20]!r} in this workspace.")
    except DomainError as exc:
        return problem(404, str(exc))
    outcome = await record_checkin(
        session,
        checkin=CheckinInput(
            actor=actor,
            text=f"{key_result.ref} {pushed.value_text}",
            source=CheckinSource.API,
            source_ref=f"{holder.token_id}:{idempotency_key or uuid.uuid4().hex}"[:200],
            at=now,
            confidence=pushed.confidence,
            status=pushed.status,
            note=pushed.note,
            api_token_id=holder.token_id,
        ),
        now=now,
    )
    if not outcome.recorded:
        reason = outcome.refused[0].reason if outcome.refused else outcome.explanation
        return problem(422, reason or "The check-in could not be recorded.", "value")
    line = outcome.recorded[0]
    return ApiAnswer(
        201,
        {
            "key_result": key_result.ref,
            "period": outcome.period,
            "value": line.value,
            "confidence": line.confidence,
            "status": line.status,
            "note": pushed.note,
            "source": "api",
            "token": holder.name,
        },
    )
