"""Lists of OKRs for the active cycle: mine, the company's, and the alignment tree.

Each list costs the same few queries however many OKRs the workspace holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.okrs import KeyResultLine
from bot.models import Cycle, KeyResult, Objective, ObjectiveContributor, Team, TeamMember
from bot.okr.progress import Weighted, objective_progress
from bot.repository.checkins import current_values
from bot.services.actors import Actor
from bot.services.reading import key_result_line


@dataclass
class ObjectiveNode:
    id: int
    ref: str
    title: str
    level: str
    parent_id: int | None
    progress: float | None
    key_results: list[KeyResultLine] = field(default_factory=list)
    children: list[ObjectiveNode] = field(default_factory=list)


@dataclass(frozen=True)
class Listing:
    cycle: str | None  # None: no active cycle
    objectives: Sequence[ObjectiveNode]


async def _active_cycle(session: AsyncSession, actor: Actor) -> Cycle | None:
    return (
        await session.execute(
            select(Cycle)
            .where(Cycle.workspace_id == actor.workspace_id, Cycle.state == "active")
            .order_by(Cycle.starts_on.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _nodes(
    session: AsyncSession, actor: Actor, objectives: Sequence[Objective], krs: Sequence[KeyResult]
) -> dict[int, ObjectiveNode]:
    values = await current_values(
        session, workspace_id=actor.workspace_id, key_result_ids=[kr.id for kr in krs]
    )
    nodes = {
        o.id: ObjectiveNode(o.id, o.ref, o.title, o.level, o.parent_objective_id, None)
        for o in objectives
    }
    weights: dict[int, list[Weighted]] = {}
    for kr in krs:
        line = key_result_line(kr, values.get(kr.id))
        weights.setdefault(kr.objective_id, []).append(
            Weighted(kr.id, line.progress or 0.0, kr.weight)
        )
        if kr.objective_id in nodes:
            nodes[kr.objective_id].key_results.append(line)
    for objective_id, node in nodes.items():
        node.progress = objective_progress(weights.get(objective_id, []))
    return nodes


async def my_okrs(session: AsyncSession, *, actor: Actor) -> Listing:
    """My key results in the active cycle, under their objectives. Two queries in the usual
    case: the key results (with their objective and cycle), then their current values."""
    rows = (
        await session.execute(
            select(KeyResult, Objective, Cycle.name)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .join(Cycle, Cycle.id == Objective.cycle_id)
            .where(
                KeyResult.workspace_id == actor.workspace_id,
                KeyResult.owner_person_id == actor.person_id,
                KeyResult.state == "active",
                Cycle.state == "active",
                Objective.state == "active",
            )
            .order_by(Objective.ref_number, KeyResult.ref_number)
        )
    ).all()
    if not rows:
        cycle = await _active_cycle(session, actor)
        return Listing(cycle.name if cycle else None, [])
    objectives = {o.id: o for _, o, _ in rows}
    nodes = await _nodes(session, actor, list(objectives.values()), [kr for kr, _, _ in rows])
    return Listing(rows[0][2], sorted(nodes.values(), key=lambda n: n.id))


async def _cycle_objectives(
    session: AsyncSession, actor: Actor, *which: ColumnElement[bool]
) -> tuple[str | None, list[Objective], dict[int, ObjectiveNode]]:
    """Active objectives of the active cycle matching `which`, with their key results'
    progress: three queries whatever the size of the workspace."""
    cycle = await _active_cycle(session, actor)
    if cycle is None:
        return None, [], {}
    chosen = (
        Objective.workspace_id == actor.workspace_id,
        Objective.cycle_id == cycle.id,
        Objective.state == "active",
        *which,
    )
    objectives = list(
        (await session.execute(select(Objective).where(*chosen).order_by(Objective.ref_number)))
        .scalars()
        .all()
    )
    krs = (
        (
            await session.execute(
                select(KeyResult)
                .join(Objective, Objective.id == KeyResult.objective_id)
                .where(*chosen, KeyResult.state == "active")
                .order_by(KeyResult.ref_number)
            )
        )
        .scalars()
        .all()
    )
    return cycle.name, objectives, await _nodes(session, actor, objectives, krs)


async def cycle_tree(session: AsyncSession, *, actor: Actor, levels: Sequence[str] = ()) -> Listing:
    """Every active objective of the active cycle as a tree (roots: nothing above them)."""
    cycle, _, nodes = await _cycle_objectives(session, actor)
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        if parent is not None:
            parent.children.append(node)
        elif not levels or node.level in levels:
            roots.append(node)
    return Listing(cycle, roots)


async def my_teams_okrs(session: AsyncSession, *, actor: Actor) -> Listing:
    """Objectives of the teams I belong to (or lead), in the active cycle."""
    member_of = select(TeamMember.team_id).where(TeamMember.person_id == actor.person_id)
    lead_of = select(Team.id).where(Team.lead_person_id == actor.person_id)
    return await _teams_listing(session, actor, Objective.team_id.in_(member_of.union(lead_of)))


async def team_okrs(session: AsyncSession, *, actor: Actor, team_id: int) -> Listing:
    """A team's objectives (its own and those it contributes to), in the active cycle."""
    shared = select(ObjectiveContributor.objective_id).where(
        ObjectiveContributor.team_id == team_id
    )
    return await _teams_listing(
        session, actor, (Objective.team_id == team_id) | Objective.id.in_(shared)
    )


async def _teams_listing(
    session: AsyncSession, actor: Actor, which: ColumnElement[bool]
) -> Listing:
    cycle, objectives, nodes = await _cycle_objectives(session, actor, which)
    return Listing(cycle, [nodes[o.id] for o in objectives])
