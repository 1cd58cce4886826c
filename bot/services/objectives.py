"""Objectives: create, align under a parent (never into a loop), unalign, share, archive.

Functions taking `sessions` own their transaction (the commands call those); those taking
`session` run inside the caller's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Objective, ObjectiveContributor, Team
from bot.models.okrs import COMMITMENTS
from bot.repository import audit
from bot.repository.refs import next_ref_number
from bot.services.actors import Actor
from bot.services.cycles import ensure_first_cycle
from bot.services.errors import Invalid, NotFound
from bot.services.inputs import DESCRIPTION_MAX, TITLE_MAX, clean_text
from bot.services.okr_lookup import objective_by_ref, stewards_of
from bot.services.permissions import require_company_level, require_edit
from bot.services.teams import find_team

LEVELS = ("company", "team", "personal")


@dataclass(frozen=True)
class ObjectiveSaved:
    id: int
    ref: str
    title: str
    cycle_name: str
    cycle_created: bool  # the first run made the current quarter


async def create_objective(
    session: AsyncSession,
    *,
    actor: Actor,
    title: str,
    level: str,
    today: date,
    description: str = "",
    team_id: int | None = None,
    owner_person_id: int | None = None,
    parent_ref: str | None = None,
    source: str = "modal",
    contributing_team_ids: tuple[int, ...] = (),
    commitment: str = "aspirational",
) -> ObjectiveSaved:
    title = clean_text(title, field="title", label="title", limit=TITLE_MAX)
    description = clean_text(
        description, field="description", label="description", limit=DESCRIPTION_MAX, required=False
    )
    if level not in LEVELS:
        raise Invalid("Pick a level: company, team or personal.", field="level")
    if commitment not in COMMITMENTS:
        raise Invalid("Pick its kind: aspirational or committed.", field="commitment")
    if level == "company":
        require_company_level(actor)
    if level == "team" and team_id is None:
        raise Invalid("A team objective needs its team.", field="team")
    if team_id is not None:
        team = await session.get(Team, team_id)
        if team is None or team.workspace_id != actor.workspace_id:
            raise NotFound("That team does not exist here.")
    cycle, created = await ensure_first_cycle(session, actor=actor, today=today)
    parent_id = None
    if parent_ref:
        parent = await objective_by_ref(session, actor=actor, ref=parent_ref)
        parent_id = parent.id
    objective = Objective(
        workspace_id=actor.workspace_id,
        ref_number=await next_ref_number(session, workspace_id=actor.workspace_id, kind="O"),
        cycle_id=cycle.id,
        level=level,
        team_id=team_id,
        owner_person_id=owner_person_id or actor.person_id,
        title=title,
        description=description,
        parent_objective_id=parent_id,
        state="active",
        commitment=commitment,
        created_by_person_id=actor.person_id,
    )
    session.add(objective)
    await session.flush()
    for contributor in sorted(set(contributing_team_ids) - {team_id}):
        other = await session.get(Team, contributor)
        if other is None or other.workspace_id != actor.workspace_id:
            raise NotFound("One of the contributing teams does not exist here.")
        session.add(
            ObjectiveContributor(
                objective_id=objective.id, team_id=contributor, workspace_id=actor.workspace_id
            )
        )
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="objective.create",
        entity="objective",
        entity_id=objective.id,
        source=source,
        actor_person_id=actor.person_id,
        changes={"title": title, "level": level, "cycle": cycle.name, "commitment": commitment},
    )
    return ObjectiveSaved(objective.id, objective.ref, title, cycle.name, created)


async def _ancestors(session: AsyncSession, objective: Objective) -> list[int]:
    """Ids from `objective` up through its parents (bounded: a tree is never that deep)."""
    chain, current = [objective.id], objective.parent_objective_id
    while current is not None and current not in chain and len(chain) < 1000:
        chain.append(current)
        current = await session.scalar(
            select(Objective.parent_objective_id).where(Objective.id == current)
        )
    return chain


async def align(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, child_ref: str, parent_ref: str
) -> tuple[str, str]:
    """`child_ref` serves `parent_ref` (never into a loop). Returns both refs."""
    async with sessions.begin() as session:
        child = await objective_by_ref(session, actor=actor, ref=child_ref)
        parent = await objective_by_ref(session, actor=actor, ref=parent_ref)
        require_edit(actor, await stewards_of(session, child), what=child.ref)
        if child.id in await _ancestors(session, parent):
            raise Invalid(
                f"{parent.ref} sits under {child.ref} already; aligning {child.ref} to it would "
                "make a loop. Align it to an objective higher up."
            )
        if parent.cycle_id != child.cycle_id:
            raise Invalid(f"{child.ref} and {parent.ref} belong to different cycles.")
        before = child.parent_objective_id
        child.parent_objective_id = parent.id
        await _audit(session, actor, child, "objective.align", {"parent": [before, parent.id]})
        return child.ref, parent.ref


async def unalign(sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str) -> str:
    async with sessions.begin() as session:
        child = await objective_by_ref(session, actor=actor, ref=ref)
        require_edit(actor, await stewards_of(session, child), what=child.ref)
        if child.parent_objective_id is None:
            raise Invalid(f"{child.ref} is not aligned to anything.")
        before = child.parent_objective_id
        child.parent_objective_id = None
        await _audit(session, actor, child, "objective.unalign", {"parent": [before, None]})
        return child.ref


async def archive(session: AsyncSession, *, actor: Actor, ref: str) -> str:
    """Nothing is hard-deleted: an archived objective leaves lists and check-ins."""
    objective = await objective_by_ref(session, actor=actor, ref=ref)
    require_edit(actor, await stewards_of(session, objective), what=objective.ref)
    if objective.state == "archived":
        raise Invalid(f"{objective.ref} is archived already.")
    objective.state = "archived"
    await _audit(session, actor, objective, "objective.archive", {"state": "archived"})
    return objective.ref


async def _audit(
    session: AsyncSession,
    actor: Actor,
    objective: Objective,
    action: str,
    changes: dict[str, object],
) -> None:
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action=action,
        entity="objective",
        entity_id=objective.id,
        source="command",
        actor_person_id=actor.person_id,
        changes=changes,
    )


async def share(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str, team_name: str
) -> tuple[str, str]:
    """Another team (by name or `#channel`) owns the objective too; it stays shared when any
    one team leaves. Returns the objective's ref and the team's name."""
    async with sessions.begin() as session:
        team = await find_team(session, actor=actor, name_or_channel=team_name, channel_id=None)
        objective = await objective_by_ref(session, actor=actor, ref=ref)
        require_edit(actor, await stewards_of(session, objective), what=objective.ref)
        if team.id == objective.team_id:
            raise Invalid(f"{objective.ref} is {team.name}'s own objective already.")
        already = await session.get(ObjectiveContributor, (objective.id, team.id))
        if already is not None:
            raise Invalid(f"{objective.ref} is shared with {team.name} already.")
        session.add(
            ObjectiveContributor(
                objective_id=objective.id, team_id=team.id, workspace_id=actor.workspace_id
            )
        )
        await _audit(session, actor, objective, "objective.share", {"team": team.id})
        return objective.ref, team.name


async def edit_objective(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    title: str,
    description: str,
    owner_person_id: int | None,
) -> str:
    objective = await objective_by_ref(session, actor=actor, ref=ref)
    require_edit(actor, await stewards_of(session, objective), what=objective.ref)
    title = clean_text(title, field="title", label="title", limit=TITLE_MAX)
    description = clean_text(
        description, field="description", label="description", limit=DESCRIPTION_MAX, required=False
    )
    changes: dict[str, object] = {}
    for name, new in (
        ("title", title),
        ("description", description),
        ("owner_person_id", owner_person_id),
    ):
        old = getattr(objective, name)
        if new is not None and new != old:
            changes[name] = [old, new]
            setattr(objective, name, new)
    if changes:
        await _audit(session, actor, objective, "objective.edit", changes)
    return objective.ref
