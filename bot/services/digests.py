"""A team's digest: read (`digest_reads`), turned into its read model (`digest_model`) and
composed into one part for an outbox row at send time, so it shows the check-ins as they
are when it is sent. The sender composes every digest row of a batch together
(`compose_all`): one set of reads for the batch, however many teams are in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.digest import DigestData, build_digest_parts, digest_fallback
from bot.models import OutboxItem, Team
from bot.services.digest_model import CONFIDENCE_DROP, WIN_AT, digest_from_rows
from bot.services.digest_reads import (
    DigestPeople,
    DigestRound,
    DigestRows,
    load_digest_people,
    load_digest_rows,
    load_rounds_people,
    load_rounds_rows,
)
from bot.services.prompts import Composed

# Callers take these from here as well as from the modules that define them.
__all__ = [
    "CONFIDENCE_DROP",
    "WIN_AT",
    "DigestPeople",
    "DigestRound",
    "DigestRows",
    "compose",
    "compose_all",
    "digest_from_rows",
    "load_digest_people",
    "load_digest_rows",
    "read_digest",
    "read_digests",
]


async def read_digests(
    session: AsyncSession, *, rounds: Sequence[DigestRound]
) -> list[DigestData | None]:
    """Each round's digest as it stands at its `at` (None when no active cycle covers it):
    nine statements however many rounds."""
    rows = await load_rounds_rows(session, rounds=rounds)
    people = await load_rounds_people(session, rounds=rounds, rows=rows)
    return [
        None
        if found is None or named is None
        else digest_from_rows(found, named, team=r.team, period=r.period, at=r.at)
        for r, found, named in zip(rounds, rows, people, strict=True)
    ]


async def read_digest(
    session: AsyncSession, *, team: Team, period: str, at: datetime
) -> DigestData | None:
    """The digest of `team`'s round of `period` as it stands at `at` (D, or now for a
    preview); None when no active cycle covers the round."""
    [data] = await read_digests(session, rounds=[DigestRound(team, period, at)])
    return data


def _round_of(item: OutboxItem, team: Team | None, now: datetime) -> DigestRound | None:
    """The round a digest row shows, or None when it is not owed (team gone, paused or
    without a channel, or part 1 past its deadline)."""
    if team is None or team.paused or not team.channel_id or not item.period:
        return None
    part = int(item.payload.get("part") or 1)
    deadline = item.payload.get("deadline")
    if part == 1 and isinstance(deadline, str) and now >= datetime.fromisoformat(deadline):
        return None
    at_raw = item.payload.get("digest_at")
    at = datetime.fromisoformat(at_raw) if isinstance(at_raw, str) else now
    return DigestRound(team, item.period, at)


async def compose_all(
    session: AsyncSession, *, items: Sequence[OutboxItem], now: datetime
) -> list[Composed | None]:
    """One part of a team's digest for each digest row, in order; None where it is not owed
    (team paused or skipping, past its time, or a part past the digest's end). Ten
    statements for the whole batch, whatever its size."""
    if not items:
        return []
    wanted = {(i.workspace_id, int(i.payload["team_id"])) for i in items}
    teams = {
        (t.workspace_id, t.id): t
        for t in (
            await session.execute(
                select(Team).where(
                    Team.workspace_id.in_({ws for ws, _ in wanted}),
                    Team.id.in_({team_id for _, team_id in wanted}),
                )
            )
        ).scalars()
    }
    owed = [
        (n, r)
        for n, item in enumerate(items)
        if (r := _round_of(item, teams.get((item.workspace_id, int(item.payload["team_id"]))),
                           now)) is not None
    ]  # fmt: skip
    rounds = [r for _, r in owed]
    rows = await load_rounds_rows(session, rounds=rounds)
    # A skipped week gets no digest: its rows are not needed for the people.
    rows = [f if f is None or r.period not in f.skipped else None
            for r, f in zip(rounds, rows, strict=True)]  # fmt: skip
    people = await load_rounds_people(session, rounds=rounds, rows=rows)
    composed: list[Composed | None] = [None] * len(items)
    for (n, r), found, named in zip(owed, rows, people, strict=True):
        if found is None or named is None:
            continue
        data = digest_from_rows(found, named, team=r.team, period=r.period, at=r.at)
        parts = build_digest_parts(data)
        part = int(items[n].payload.get("part") or 1)
        if part > len(parts):
            continue
        assert r.team.channel_id is not None
        composed[n] = Composed(
            r.team.channel_id, digest_fallback(data, part, len(parts)), parts[part - 1], (),
            team_id=r.team.id,
        )  # fmt: skip
    return composed


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    """One part of a team's digest for its row (`compose_all` of one)."""
    [composed] = await compose_all(session, items=[item], now=now)
    return composed
