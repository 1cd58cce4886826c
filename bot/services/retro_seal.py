"""Sealing an anonymous retrospective at its deadline. While it is open, an anonymous answer
or vote is written in the same transaction as its author's participation row, which a
database's own bookkeeping (PostgreSQL's row versions, insertion order) can line up. At the
deadline every anonymous row and every participation row of the retro is written again, in
one transaction, in an order that says nothing: answers and votes shuffled with new ids and
keys, participation sorted by person. The old row versions go at the next vacuum."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Retro, RetroParticipation, RetroResponse, RetroVote

_shuffle = secrets.SystemRandom().shuffle

ANSWER_PARTS = ("went_well", "went_badly", "to_change")


async def seal_anonymous(session: AsyncSession, *, retros: Sequence[Retro]) -> int:
    """Rewrite the anonymous retros among `retros` as the module says; how many were sealed."""
    sealed = 0
    for retro in retros:
        if not retro.anonymous:
            continue
        answers = [
            {part: getattr(row, part) for part in ANSWER_PARTS}
            for row in (
                await session.execute(
                    select(RetroResponse).where(
                        RetroResponse.retro_id == retro.id, RetroResponse.person_id.is_(None)
                    )
                )
            ).scalars()
        ]
        ratings = list(
            (
                await session.execute(
                    select(RetroVote.rating).where(
                        RetroVote.retro_id == retro.id, RetroVote.person_id.is_(None)
                    )
                )
            ).scalars()
        )
        taking_part = [
            (row.person_id, row.voted, row.answered)
            for row in (
                await session.execute(
                    select(RetroParticipation).where(RetroParticipation.retro_id == retro.id)
                )
            ).scalars()
        ]
        await session.execute(
            delete(RetroResponse).where(
                RetroResponse.retro_id == retro.id, RetroResponse.person_id.is_(None)
            )
        )
        await session.execute(
            delete(RetroVote).where(RetroVote.retro_id == retro.id, RetroVote.person_id.is_(None))
        )
        await session.execute(
            delete(RetroParticipation).where(RetroParticipation.retro_id == retro.id)
        )
        await session.flush()
        _shuffle(answers)
        _shuffle(ratings)
        session.add_all(
            RetroResponse(
                workspace_id=retro.workspace_id, retro_id=retro.id, person_id=None,
                respondent_key=secrets.token_hex(16), submitted_at=retro.created_at,
                updated_at=retro.created_at, **parts,
            )
            for parts in answers
        )  # fmt: skip
        session.add_all(
            RetroVote(workspace_id=retro.workspace_id, retro_id=retro.id, person_id=None, rating=r)
            for r in ratings
        )
        session.add_all(
            RetroParticipation(
                retro_id=retro.id, person_id=person_id, workspace_id=retro.workspace_id,
                voted=voted, answered=answered,
            )
            for person_id, voted, answered in sorted(taking_part)
        )  # fmt: skip
        await session.flush()
        sealed += 1
    return sealed
