"""Archiving an objective or a key result by ref: asked first, then done (nothing is deleted).

The question names what would go; permission is checked when the person confirms, since
anyone may see the question but only stewards may archive."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.archive import Archivable
from bot.db import readers_for
from bot.services import key_results, objectives
from bot.services.actors import Actor
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref


def _is_key_result(ref: str) -> bool:
    return ref.strip().upper().startswith("KR")


async def to_archive(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str
) -> Archivable:
    """What `ref` names, so the person can confirm it is what they mean to archive."""
    async with readers_for(sessions)() as session:
        if _is_key_result(ref):
            kr = await key_result_by_ref(session, actor=actor, ref=ref)
            return Archivable(kr.ref, kr.title)
        objective = await objective_by_ref(session, actor=actor, ref=ref)
        return Archivable(objective.ref, objective.title)


async def archive(sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str) -> str:
    """Archive what `ref` names; returns its ref."""
    async with sessions.begin() as session:
        if _is_key_result(ref):
            return await key_results.archive_key_result(session, actor=actor, ref=ref)
        return await objectives.archive(session, actor=actor, ref=ref)
