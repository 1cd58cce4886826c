"""Push API tokens: made, listed and revoked by facilitators; a token is shown once and kept
only as its SHA-256 hash. A request's token is found by its hash, which names the workspace;
its rate is counted on the token's row in the database, so the limit holds across web
processes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape
from bot.models import ApiToken, Person, Workspace
from bot.repository import audit
from bot.services.actors import FACILITATOR_ROLES, Actor
from bot.services.errors import Forbidden, Invalid, NotFound

TOKEN_PREFIX = "okr_"
NAME_MAX = 60
TOKENS_MAX = 50  # live tokens a workspace may hold
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")


@dataclass(frozen=True)
class TokenRow:
    name: str
    created_by: str | None  # Slack user id
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class TokenHolder:
    """The sender of an API request: the token, its workspace and the person who made it."""

    token_id: int
    workspace_id: int
    name: str
    created_by_person_id: int | None
    timezone: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_facilitator(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise Forbidden(
            "API tokens are made and revoked by facilitators and admins "
            "(`/okr facilitator list` shows them)."
        )


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise Invalid(
            "Name the token with letters, digits, dots, dashes or underscores (at most "
            f"{NAME_MAX}), like `/okr token create ci-signups`."
        )
    return name


async def create_token(session: AsyncSession, *, actor: Actor, name: str) -> str:
    """A new token named `name`; the token itself is returned once and never stored."""
    _require_facilitator(actor)
    name = _checked_name(name)
    taken = await session.scalar(
        select(ApiToken.id).where(
            ApiToken.workspace_id == actor.workspace_id, ApiToken.name == name
        )
    )
    if taken is not None:
        raise Invalid(f"There is a token named {name} already: pick another name.")
    live = await session.scalar(
        select(ApiToken.id)
        .where(ApiToken.workspace_id == actor.workspace_id, ApiToken.revoked_at.is_(None))
        .offset(TOKENS_MAX - 1)
        .limit(1)
    )
    if live is not None:
        raise Invalid(f"This workspace has {TOKENS_MAX} live tokens: revoke one first.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        workspace_id=actor.workspace_id,
        name=name,
        token_hash=hash_token(token),
        created_by_person_id=actor.person_id,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session, workspace_id=actor.workspace_id, action="api_token.create", entity="api_token",
        entity_id=row.id, source="command", actor_person_id=actor.person_id,
        changes={"name": name},
    )  # fmt: skip
    return token


async def list_tokens(session: AsyncSession, *, actor: Actor) -> list[TokenRow]:
    _require_facilitator(actor)
    rows = await session.execute(
        select(ApiToken, Person.slack_user_id)
        .outerjoin(Person, Person.id == ApiToken.created_by_person_id)
        .where(ApiToken.workspace_id == actor.workspace_id)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    return [
        TokenRow(t.name, slack_id, t.created_at, t.last_used_at, t.revoked_at)
        for t, slack_id in rows.all()
    ]


async def revoke_token(session: AsyncSession, *, actor: Actor, name: str, now: datetime) -> str:
    _require_facilitator(actor)
    row = (
        await session.execute(
            select(ApiToken).where(
                ApiToken.workspace_id == actor.workspace_id, ApiToken.name == name[:NAME_MAX]
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"There is no token named {escape(name[:NAME_MAX])}: `/okr token list` shows them."
        )
    if row.revoked_at is not None:
        raise Invalid(f"{row.name} is revoked already.")
    row.revoked_at = now
    await audit.record(
        session, workspace_id=actor.workspace_id, action="api_token.revoke", entity="api_token",
        entity_id=row.id, source="command", actor_person_id=actor.person_id,
        changes={"name": row.name},
    )  # fmt: skip
    return row.name


async def token_holder(session: AsyncSession, *, token: str) -> TokenHolder | None:
    """The live token `token` is, or None (unknown, forged or revoked). A token acts with its
    creator's say: it stops working when its creator is deactivated or no longer a
    facilitator or admin (and works again if they are made one again)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None

    row = (
        await session.execute(
            select(ApiToken, Workspace.timezone)
            .join(Workspace, Workspace.id == ApiToken.workspace_id)
            .join(
                Person,
                (Person.id == ApiToken.created_by_person_id)
                & (Person.workspace_id == ApiToken.workspace_id),
            )
            .where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                Workspace.state == "active",
                Person.is_deactivated.is_(False),
                Person.role.in_(FACILITATOR_ROLES),
            )
        )
    ).first()
    if row is None:
        return None
    found, timezone = row
    return TokenHolder(
        found.id, found.workspace_id, found.name, found.created_by_person_id, timezone
    )


async def count_request(
    session: AsyncSession, *, token_id: int, now: datetime, per_minute: int
) -> bool:
    """Count one request in the token's current minute; False when it is over the limit. One
    UPDATE, so concurrent processes never lose a count."""
    minute = int(now.timestamp() // 60)
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(
            rate_count=case((ApiToken.rate_window == minute, ApiToken.rate_count + 1), else_=1),
            rate_window=minute,
            last_used_at=now,
        )
        .returning(ApiToken.rate_count)
    )
    count = result.scalar_one()
    return bool(count <= per_minute)
