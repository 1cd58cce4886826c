"""Lists of OKRs for the active cycle: mine, a team's, the company's, and the alignment tree.

Each list costs the same few queries however many OKRs the workspace holds. Functions taking
`sessions` read in a session of their own (the commands call those); those taking `session`
read inside the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.lists import Listing, ObjectiveNode, TeamListing
from bot.db import readers_for
from bot.models import Cycle, KeyResult, Objective, ObjectiveContributor, Team, TeamMember
from bot.okr.lint import MIN_KEY_RESULTS
from bot.okr.progress import Weighted, objective_progress
from bot.repository.checkins import current_values
from bot.services import teams
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.okr_lookup import objective_by_ref
from bot.services.reading import key_result_line
from bot.services.round_periods import outdated_key_results


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
    session: AsyncSession,
    actor: Actor,
    cycle: Cycle,
    objectives: Sequence[Objective],
    krs: Sequence[KeyResult],
) -> dict[int, ObjectiveNode]:
    values = await current_values(
        session, workspace_id=actor.workspace_id, key_result_ids=[kr.id for kr in krs]
    )
    stale = await outdated_key_results(
        session,
        workspace_id=actor.workspace_id,
        cycle=cycle,
        key_results=krs,
        team_of_objective={o.id: o.team_id for o in objectives},
        values=values,
        at=clock.now(),
    )
    nodes = {
        o.id: ObjectiveNode(
            o.id, o.ref, o.title, o.level, o.parent_objective_id, None, commitment=o.commitment
        )
        for o in objectives
    }
    weights: dict[int, list[Weighted]] = {}
    for kr in krs:
        line = key_result_line(kr, values.get(kr.id), outdated=kr.id in stale)
        weights.setdefault(kr.objective_id, []).append(
            Weighted(kr.id, line.progress or 0.0, kr.weight)
        )
        if kr.objective_id in nodes:
            nodes[kr.objective_id].key_results.append(line)
    for objective_id, node in nodes.items():
        node.progress = objective_progress(weights.get(objective_id, []))
    return nodes


async def my_okrs(session: AsyncSession, *, actor: Actor, stewarded: bool = False) -> Listing:
    """My key results in the active cycle, under their objectives; with `stewarded`, also the
    objectives I own or whose team (or a contributing team) I lead, each with all its key
    results, flagged when it has fewer than it should. The same queries whatever the size:
    the cycle, the objectives, their key results, the current values, and the few that find
    each key result's round (for the outdated mark, `round_periods`)."""
    cycle = await _active_cycle(session, actor)
    if cycle is None:
        return Listing(None, [])
    in_cycle = (
        Objective.workspace_id == actor.workspace_id,
        Objective.cycle_id == cycle.id,
        Objective.state == "active",
    )
    led = select(Team.id).where(
        Team.workspace_id == actor.workspace_id, Team.lead_person_id == actor.person_id
    )
    shared = select(ObjectiveContributor.objective_id).where(
        ObjectiveContributor.workspace_id == actor.workspace_id,
        ObjectiveContributor.team_id.in_(led),
    )
    steward: ColumnElement[bool] = (
        or_(
            Objective.owner_person_id == actor.person_id,
            Objective.team_id.in_(led),
            Objective.id.in_(shared),  # a shared objective: its contributing teams' leads too
        )
        if stewarded
        else Objective.id.is_(None)  # never true: key results alone
    )
    mine = KeyResult.owner_person_id == actor.person_id
    with_mine = select(KeyResult.objective_id).where(
        KeyResult.workspace_id == actor.workspace_id, mine, KeyResult.state == "active"
    )
    rows = (
        await session.execute(
            select(Objective, steward.label("steward"))
            .where(*in_cycle, or_(steward, Objective.id.in_(with_mine)))
            .order_by(Objective.ref_number)
        )
    ).all()
    objectives = [objective for objective, _ in rows]
    krs = (
        (
            await session.execute(
                select(KeyResult)
                .join(Objective, Objective.id == KeyResult.objective_id)
                .where(*in_cycle, KeyResult.state == "active", or_(mine, steward))
                .order_by(KeyResult.ref_number)
            )
        )
        .scalars()
        .all()
        if objectives
        else []
    )
    nodes = await _nodes(session, actor, cycle, objectives, krs)
    for objective, is_steward in rows:
        node = nodes[objective.id]
        node.needs_key_results = bool(is_steward) and len(node.key_results) < MIN_KEY_RESULTS
    return Listing(cycle.name, [nodes[o.id] for o in objectives])


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
    return cycle.name, objectives, await _nodes(session, actor, cycle, objectives, krs)


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


async def mine(sessions: async_sessionmaker[AsyncSession], *, actor: Actor) -> Listing:
    """`/okr mine`: my key results and the objectives I steward."""
    async with readers_for(sessions)() as session:
        return await my_okrs(session, actor=actor, stewarded=True)


async def company(sessions: async_sessionmaker[AsyncSession], *, actor: Actor) -> Listing:
    """`/okr company`: the company objectives, with what is aligned below them."""
    async with readers_for(sessions)() as session:
        return await cycle_tree(session, actor=actor, levels=("company",))


async def tree(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, under: str | None = None
) -> Listing:
    """`/okr tree [O7]`: the whole alignment tree, or the part under one objective."""
    async with readers_for(sessions)() as session:
        listing = await cycle_tree(session, actor=actor)
        if under is None:
            return listing
        wanted = await objective_by_ref(session, actor=actor, ref=under)
    return _subtree(listing, wanted.id)


def _subtree(listing: Listing, objective_id: int) -> Listing:
    stack = list(listing.objectives)
    while stack:
        node = stack.pop()
        if node.id == objective_id:
            return Listing(listing.cycle, [node])
        stack.extend(node.children)
    raise Invalid("That objective is not in the active cycle.")


async def team(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name_or_channel: str | None,
    channel_id: str | None,
) -> TeamListing:
    """`/okr team [#channel|name]`: a team's objectives and progress."""
    async with readers_for(sessions)() as session:
        found = await teams.find_team(
            session, actor=actor, name_or_channel=name_or_channel, channel_id=channel_id
        )
        listing = await team_okrs(session, actor=actor, team_id=found.id)
    return TeamListing(found.name, found.paused, listing)


async def home(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor
) -> tuple[Listing, Listing]:
    """The App Home's lists: my key results, and my teams' objectives."""
    async with readers_for(sessions)() as session:
        return await my_okrs(session, actor=actor), await my_teams_okrs(session, actor=actor)
