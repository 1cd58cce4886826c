"""A key result's metric source: set, shown, cleared and refreshed by people; pulled by the
clock. A pulled value is one more door into the one check-in intake (source `pull`, its
outbox key as `source_ref`), so the grammar, the period and the precedence rule (a value a
person gave wins over a pulled one) are the intake's own.

The header's secret is encrypted with `TOKEN_ENCRYPTION_KEY` and never shown back.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.sources import SourceShown
from bot.models import KeyResult, MetricSourceState, Objective, OutboxItem
from bot.models.outbox_keys import Kind, priority, pull_key
from bot.repository import audit
from bot.services.actors import Actor
from bot.services.checkin_targets import checkin_stewards, open_period_of
from bot.services.errors import Invalid
from bot.services.okr_lookup import key_result_by_ref, stewards_of
from bot.services.permissions import require_checkin, require_edit
from bot.slack.tokens import TokenCipher
from bot.sources.fetch import HEADER_NAME_MAX, SECRET_MAX, SourceSpec, check_url
from bot.sources.paths import PathProblem, parse_path

NO_KEY = (
    "Source secrets are stored encrypted, and this bot has no TOKEN_ENCRYPTION_KEY: ask an "
    "admin to set one, or use a source that needs no secret."
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
ERROR_MAX = 300


def spec_of(key_result: KeyResult) -> SourceSpec | None:
    found = key_result.metric_source or {}
    url, path = found.get("url"), found.get("path")
    if not isinstance(url, str) or not isinstance(path, str):
        return None
    header = found.get("header")
    return SourceSpec(url, path, header if isinstance(header, str) else None)


async def _editable(session: AsyncSession, actor: Actor, ref: str) -> KeyResult:
    key_result = await key_result_by_ref(session, actor=actor, ref=ref)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    require_edit(actor, await stewards_of(session, objective), what=key_result.ref)
    return key_result


async def _state(session: AsyncSession, key_result: KeyResult) -> MetricSourceState | None:
    return await session.get(MetricSourceState, key_result.id)


def check_spec(*, url: str, path: str, header: str | None) -> SourceSpec:
    """The source as it will be kept, or `Invalid` naming the field to fix."""
    try:
        checked_url = check_url(url)
    except ValueError as exc:
        raise Invalid(str(exc), field="url") from None
    try:
        parse_path(path)
    except PathProblem as exc:
        raise Invalid(str(exc), field="path") from None
    if header is not None and not _HEADER_NAME.fullmatch(header):
        raise Invalid(
            f"A header name is letters, digits and dashes (at most {HEADER_NAME_MAX}), like "
            "`Authorization`.",
            field="header",
        )
    return SourceSpec(checked_url, path.strip(), header)


async def set_source(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    url: str,
    path: str,
    header: str | None,
    secret: str | None,
    cipher: TokenCipher,
) -> SourceShown:
    """Give `ref` a source (replacing any); a secret needs a header and the encryption key."""
    key_result = await _editable(session, actor, ref)
    spec = check_spec(url=url, path=path, header=header)
    if secret is not None and not cipher.enabled:
        raise Invalid(NO_KEY, field="secret")
    if secret is not None and (header is None or not secret or len(secret) > SECRET_MAX):
        raise Invalid(
            "A secret goes in a header: give `header=Authorization secret=...` (the secret at "
            f"most {SECRET_MAX} characters).",
            field="secret",
        )
    key_result.metric_source = {"url": spec.url, "path": spec.path, "header": spec.header}
    state = await _state(session, key_result)
    if state is None:
        state = MetricSourceState(key_result_id=key_result.id, workspace_id=actor.workspace_id)
        session.add(state)
    state.set_by_person_id = actor.person_id
    state.secret = cipher.encrypt(secret) if secret is not None else None
    state.last_error = None
    state.last_error_at = None
    await audit.record(
        session, workspace_id=actor.workspace_id, action="key_result.source",
        entity="key_result", entity_id=key_result.id, source="command",
        actor_person_id=actor.person_id,
        changes={"url": spec.url, "path": spec.path, "header": spec.header,
                 "secret": "set" if secret is not None else None},
    )  # fmt: skip
    return _view(key_result, state)


async def edit_source(
    session: AsyncSession, *, actor: Actor, ref: str, url: str | None, path: str | None
) -> None:
    """The key-result edit form's source fields: unchanged, nothing; both empty, the source
    goes; changed, it is set as `/okr source` sets it. A secret header stays only while the
    URL's origin does: a secret never follows a source to another host."""
    url, path = (url or "").strip(), (path or "").strip()
    key_result = await _editable(session, actor, ref)
    current = spec_of(key_result)
    if not url and not path:
        if current is not None:
            await clear_source(session, actor=actor, ref=ref)
        return
    if not url or not path:
        raise Invalid(
            "Give both the source URL and the field path, or neither.",
            field="url" if not url else "path",
        )
    spec = check_spec(url=url, path=path, header=None)
    if current is not None and (current.url, current.path) == (spec.url, spec.path):
        return
    state = await _state(session, key_result)
    kept = state.secret if state is not None else None
    same_origin = current is not None and _origin(current.url) == _origin(spec.url)
    await set_source(
        session, actor=actor, ref=ref, url=spec.url, path=spec.path,
        header=current.header if current is not None and same_origin else None,
        secret=None, cipher=TokenCipher([]),
    )  # fmt: skip
    if same_origin and kept is not None:
        state = await _state(session, key_result)
        assert state is not None
        state.secret = kept


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


async def clear_source(session: AsyncSession, *, actor: Actor, ref: str) -> str:
    """`ref` has no source any more; its pulled check-ins stay (they are the record)."""
    key_result = await _editable(session, actor, ref)
    if key_result.metric_source is None:
        raise Invalid(f"{key_result.ref} has no source.")
    key_result.metric_source = None
    state = await _state(session, key_result)
    if state is not None:
        state.secret = None
    await audit.record(
        session, workspace_id=actor.workspace_id, action="key_result.source_cleared",
        entity="key_result", entity_id=key_result.id, source="command",
        actor_person_id=actor.person_id, changes={"url": None},
    )  # fmt: skip
    return key_result.ref


async def show_source(session: AsyncSession, *, actor: Actor, ref: str) -> SourceShown:
    key_result = await key_result_by_ref(session, actor=actor, ref=ref)
    return _view(key_result, await _state(session, key_result))


def _view(key_result: KeyResult, state: MetricSourceState | None) -> SourceShown:
    spec = spec_of(key_result)
    return SourceShown(
        key_result.ref,
        spec.url if spec else None,
        spec.path if spec else None,
        spec.header if spec else None,
        bool(state and state.secret),
        state.last_value if state else None,
        state.last_good_at if state else None,
        state.last_error if state else None,
        state.last_error_at if state else None,
        key_result.unit,
    )


async def request_refresh(
    session: AsyncSession, *, actor: Actor, ref: str, request_id: str, now: datetime
) -> str:
    """Queue a pull of `ref` now, keyed by the request (a second refresh is its own pull)."""
    key_result = await key_result_by_ref(session, actor=actor, ref=ref)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    require_checkin(
        actor, await checkin_stewards(session, key_result, objective), what=key_result.ref
    )
    if spec_of(key_result) is None:
        raise Invalid(
            f"{key_result.ref} has no source: set one with "
            f"`/okr source {key_result.ref} https://… path=data.total`."
        )
    period = await open_period_of(session, key_result, objective, at=now)
    key = pull_key(actor.workspace_id, key_result.id, request_id[:60] or uuid.uuid4().hex)
    existing = await session.scalar(select(OutboxItem.id).where(OutboxItem.idempotency_key == key))
    if existing is None:
        session.add(
            OutboxItem(
                workspace_id=actor.workspace_id, kind=Kind.PULL, idempotency_key=key,
                target=str(key_result.id), period=period, priority=priority(Kind.PULL),
                state="pending", payload={"key_result_id": key_result.id, "requested": True},
                attempts=0, next_attempt_at=now,
            )
        )  # fmt: skip
    return key_result.ref
