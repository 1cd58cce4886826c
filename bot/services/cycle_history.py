"""History: a past cycle's kept summaries (`/okr cycle show 2026-Q4`), and on App Home the
recent closed cycles with the grades of the person's own and their teams' objectives."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.cycles import CycleView
from bot.blocks.home import PastCycle
from bot.blocks.summary import SummaryData
from bot.blocks.text import escape
from bot.db import readers_for
from bot.models import Cycle, CycleSummary, Grade, Objective, Team, TeamMember
from bot.services.actors import Actor
from bot.services.errors import NotFound

PAST_ON_HOME = 3
GRADES_ON_HOME = 6


@dataclass(frozen=True)
class CycleHistory:
    cycle: CycleView
    summaries: list[SummaryData]  # the company's first, then the teams' by name


async def show(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, name: str
) -> CycleHistory:
    async with readers_for(sessions)() as session:
        cycle = (
            await session.execute(
                select(Cycle).where(Cycle.workspace_id == actor.workspace_id, Cycle.name == name)
            )
        ).scalar_one_or_none()
        if cycle is None:
            raise NotFound(
                f"There is no cycle called `{escape(name)}`. `/okr cycle list` shows them all."
            )
        kept = [
            SummaryData.from_json(row.body)
            for row in (
                await session.execute(
                    select(CycleSummary).where(
                        CycleSummary.workspace_id == actor.workspace_id,
                        CycleSummary.cycle_id == cycle.id,
                    )
                )
            ).scalars()
        ]
    kept.sort(key=lambda s: (s.title != "Company", s.title))
    view = CycleView(
        cycle.id, cycle.name, cycle.starts_on, cycle.ends_on, cycle.state, cycle.grading_deadline
    )
    return CycleHistory(view, kept)


async def past_for_home(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor
) -> list[PastCycle]:
    async with readers_for(sessions)() as session:
        return await _past(session, actor)


async def _past(session: AsyncSession, actor: Actor) -> list[PastCycle]:
    cycles = (
        (
            await session.execute(
                select(Cycle)
                .where(Cycle.workspace_id == actor.workspace_id, Cycle.state == "closed")
                .order_by(Cycle.ends_on.desc())
                .limit(PAST_ON_HOME)
            )
        )
        .scalars()
        .all()
    )
    if not cycles:
        return []
    teams = set(
        (
            await session.execute(
                select(TeamMember.team_id).where(TeamMember.person_id == actor.person_id)
            )
        ).scalars()
    ) | set(
        (
            await session.execute(
                select(Team.id).where(
                    Team.workspace_id == actor.workspace_id, Team.lead_person_id == actor.person_id
                )
            )
        ).scalars()
    )
    past = []
    for cycle in cycles:
        rows = (
            await session.execute(
                select(Objective, Grade)
                .join(Grade, Grade.objective_id == Objective.id)
                .where(
                    Objective.workspace_id == actor.workspace_id,
                    Objective.cycle_id == cycle.id,
                    or_(
                        Objective.owner_person_id == actor.person_id,
                        Objective.team_id.in_(teams),
                    ),
                )
                .order_by(Objective.ref_number)
                .limit(GRADES_ON_HOME)
            )
        ).all()
        past.append(
            PastCycle(
                cycle.name,
                [(o.ref, o.title, Decimal(g.score_hundredths) / 100) for o, g in rows],
            )
        )
    return past
