"""Finding objectives and key results by ref, always inside the actor's workspace."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape
from bot.models import KeyResult, Objective, ObjectiveContributor, Team
from bot.repository.refs import parse_ref
from bot.services.actors import Actor
from bot.services.errors import Invalid, NotFound
from bot.services.permissions import Stewards, leads


def ref_of(text: str, *, kind: str) -> int:
    parsed = parse_ref(text)
    example = "O7" if kind == "O" else "KR12"
    if parsed is None or parsed[0] != kind:
        noun = "an objective" if kind == "O" else "a key result"
        raise Invalid(f"`{escape(text)}` is not {noun}: write it like `{example}`.")
    return parsed[1]


async def objective_by_ref(session: AsyncSession, *, actor: Actor, ref: str) -> Objective:
    number = ref_of(ref, kind="O")
    row = (
        await session.execute(
            select(Objective).where(
                Objective.workspace_id == actor.workspace_id, Objective.ref_number == number
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"There is no O{number} here. `/okr company` and `/okr mine` list them.")
    return row


async def key_result_by_ref(session: AsyncSession, *, actor: Actor, ref: str) -> KeyResult:
    number = ref_of(ref, kind="KR")
    row = (
        await session.execute(
            select(KeyResult).where(
                KeyResult.workspace_id == actor.workspace_id, KeyResult.ref_number == number
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"There is no KR{number} here. `/okr mine` lists your key results.")
    return row


async def stewards_of(session: AsyncSession, objective: Objective) -> Stewards:
    team_lead = None
    if objective.team_id is not None:
        team_lead = await session.scalar(
            select(Team.lead_person_id).where(Team.id == objective.team_id)
        )
    contributing = await session.execute(
        select(Team.lead_person_id)
        .join(ObjectiveContributor, ObjectiveContributor.team_id == Team.id)
        .where(ObjectiveContributor.objective_id == objective.id)
    )
    return Stewards(objective.owner_person_id, team_lead, leads(contributing.scalars()))
