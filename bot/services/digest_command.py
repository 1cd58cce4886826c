"""`/okr digest`: a team's digest of the open period so far, shown to the asker (anyone), or
posted in the team channel now through the outbox (its lead, facilitators and admins).

A post by hand has its own keys, `digest:<ws>:<team>:<period>:manual-<request>` and then
`…-2`, `…-3` for more parts, named by the command's trigger id: Slack redelivering the same
command cannot post twice, while a second `post` is a second, newer digest. A second post
of the same team within `REPOST_AFTER` is refused (a double submit, not a wish for two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.digest import build_digest_parts
from bot.blocks.text import context, escape
from bot.models import OutboxItem, Team
from bot.models.outbox_keys import Kind, digest_key, priority
from bot.okr.period import open_period, zone
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.actors import Actor
from bot.services.digests import read_digest
from bot.services.errors import Forbidden, Invalid
from bot.services.teams import find_team

REPOST_AFTER = timedelta(minutes=10)
PART_SPACING = timedelta(seconds=2)  # parts queued by hand go out in order, a little apart


@dataclass(frozen=True)
class DigestShown:
    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class DigestPosted:
    team_name: str
    period: str
    parts: int


def _period(team: Team, now: datetime) -> str:
    tz = zone(team.timezone, ZoneInfo("UTC"))
    return open_period(now, weekday=team.checkin_weekday, local_time=team.checkin_time, tz=tz)


async def _team(
    session: AsyncSession, actor: Actor, name_or_channel: str | None, channel_id: str | None
) -> Team:
    return await find_team(
        session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
    )


async def show(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
) -> DigestShown:
    """The digest of the team's open period as it stands now (its first part, and how many
    more a post would take)."""
    now = clock.now()
    async with sessions() as session:
        team = await _team(session, actor, name_or_channel, channel_id)
        period = _period(team, now)
        data = await read_digest(session, team=team, period=period, at=now)
    if data is None:
        raise Invalid(f"{escape(team.name)} has no key results in an active cycle yet.")
    parts = build_digest_parts(data)
    blocks = parts[0]
    if len(parts) > 1:
        blocks = [*blocks[:49], context(f"…and {len(parts) - 1} more parts when posted.")]
    return DigestShown(f"{escape(team.name)} · digest for {period} so far", blocks)


async def post(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
    request_id: str,
) -> DigestPosted:
    """Queue the digest of the team's open period in its channel now."""
    now = clock.now()
    async with sessions.begin() as session:
        team = await _team(session, actor, name_or_channel, channel_id)
        if not (actor.is_facilitator or team.lead_person_id == actor.person_id):
            raise Forbidden(
                f"Only the lead of {escape(team.name)}, facilitators and admins can post its "
                "digest. `/okr digest` shows it to you."
            )
        if not team.channel_id:
            raise Invalid(f"{escape(team.name)} has no channel. `/okr team setup` sets one.")
        period = _period(team, now)
        data = await read_digest(session, team=team, period=period, at=now)
        if data is None:
            raise Invalid(f"{escape(team.name)} has no key results in an active cycle yet.")
        prefix = digest_key(actor.workspace_id, team.id, period, "manual-")
        recent = await session.execute(
            select(OutboxItem.id).where(
                OutboxItem.workspace_id == actor.workspace_id,
                OutboxItem.kind == Kind.DIGEST,
                OutboxItem.idempotency_key.startswith(prefix, autoescape=True),
                OutboxItem.next_attempt_at >= now - REPOST_AFTER,
            )
        )
        request = "".join(c for c in request_id if c.isalnum() or c in ".-")[:60]
        first = digest_key(actor.workspace_id, team.id, period, f"manual-{request}")
        if recent.first() is not None and first not in await _keys(session, actor, prefix):
            raise Invalid(f"{escape(team.name)}'s digest was posted a few minutes ago.")
        count = len(build_digest_parts(data))
        rows = [
            {
                "workspace_id": actor.workspace_id,
                "kind": Kind.DIGEST,
                "idempotency_key": first if part == 1 else f"{first}-{part}",
                "target": str(team.id),
                "period": period,
                "priority": priority(Kind.DIGEST),
                "state": "pending",
                "payload": {
                    "team_id": team.id,
                    "channel": team.channel_id,
                    "part": part,
                    "lines": [],
                    "requested_by": actor.person_id,
                },  # fmt: skip
                "attempts": 0,
                "next_attempt_at": now + PART_SPACING * (part - 1),
            }
            for part in range(1, count + 1)
        ]
        await session.execute(
            insert_ignoring_conflicts(
                session, OutboxItem, rows, conflict_columns=["idempotency_key"]
            )
        )
        return DigestPosted(team.name, period, count)


async def _keys(session: AsyncSession, actor: Actor, prefix: str) -> set[str]:
    found = await session.execute(
        select(OutboxItem.idempotency_key).where(
            OutboxItem.workspace_id == actor.workspace_id,
            OutboxItem.idempotency_key.startswith(prefix, autoescape=True),
        )
    )
    return set(found.scalars())
