"""Cycles: create, list, start and close; the first quarter on a workspace's first run.

Functions taking `sessions` own their transaction (the commands call those); those taking
`session` run inside the caller's."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.cycles import CycleView
from bot.blocks.text import escape
from bot.db import readers_for
from bot.models import Cycle, Objective, Workspace
from bot.okr.quarters import quarter_of
from bot.repository import audit
from bot.services import cycle_end
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid, NotFound

NAME_MAX = 40
NAME_PATTERN = re.compile(rf"[A-Za-z0-9._-]{{1,{NAME_MAX}}}")
WHO_RUNS_CYCLES = (
    "Facilitators and admins run cycles; ask one of them (`/okr facilitator add @you`)."
)


def _view(cycle: Cycle) -> CycleView:
    return CycleView(
        cycle.id, cycle.name, cycle.starts_on, cycle.ends_on, cycle.state, cycle.grading_deadline
    )


def _require_facilitator(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise Forbidden(WHO_RUNS_CYCLES)


async def _by_name(session: AsyncSession, *, actor: Actor, name: str) -> Cycle:
    cycle = (
        await session.execute(
            select(Cycle).where(Cycle.workspace_id == actor.workspace_id, Cycle.name == name)
        )
    ).scalar_one_or_none()
    if cycle is None:
        raise NotFound(
            f"There is no cycle called `{escape(name)}`. `/okr cycle list` shows them all."
        )
    return cycle


async def _create_cycle(
    session: AsyncSession, *, actor: Actor, name: str, starts_on: date, ends_on: date
) -> CycleView:
    _require_facilitator(actor)
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise Invalid(
            f"A cycle name has 1 to {NAME_MAX} letters, digits, `-`, `_` or `.`, like `2027-Q1`."
        )
    if ends_on < starts_on:
        raise Invalid(
            f"The cycle would end ({ends_on}) before it starts ({starts_on}). "
            f"Put the first day first: `/okr cycle new {name} {ends_on} {starts_on}`."
        )
    existing = (
        await session.execute(
            select(Cycle.id).where(Cycle.workspace_id == actor.workspace_id, Cycle.name == name)
        )
    ).first()
    if existing is not None:
        raise Invalid(f"A cycle called `{name}` exists already. Pick another name.")
    cycle = Cycle(
        workspace_id=actor.workspace_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        state="planning",
    )
    session.add(cycle)
    await session.flush()
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="cycle.create",
        entity="cycle",
        entity_id=cycle.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={"name": name, "starts_on": str(starts_on), "ends_on": str(ends_on)},
    )
    return _view(cycle)


async def _list_cycles(session: AsyncSession, *, actor: Actor) -> list[CycleView]:
    rows = (
        await session.execute(
            select(Cycle)
            .where(Cycle.workspace_id == actor.workspace_id)
            .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
        )
    ).scalars()
    return [_view(c) for c in rows]


async def active_cycle(session: AsyncSession, *, workspace_id: int) -> CycleView | None:
    row = (
        await session.execute(
            select(Cycle)
            .where(Cycle.workspace_id == workspace_id, Cycle.state == "active")
            .order_by(Cycle.starts_on.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return _view(row) if row else None


async def _start_cycle(session: AsyncSession, *, actor: Actor, name: str) -> CycleView:
    _require_facilitator(actor)
    cycle = await _by_name(session, actor=actor, name=name)
    if cycle.state != "planning":
        raise Invalid(f"`{cycle.name}` is {cycle.state}; only a cycle in planning can start.")
    running = await active_cycle(session, workspace_id=actor.workspace_id)
    if running is not None:
        raise Invalid(
            f"`{running.name}` is still active. Close it first: `/okr cycle close {running.name}`."
        )
    cycle.state = "active"
    await _activate_carried_drafts(session, cycle=cycle)
    await _audit_state(session, actor, cycle, "cycle.start")
    return _view(cycle)


async def _activate_carried_drafts(session: AsyncSession, *, cycle: Cycle) -> None:
    """A planned cycle starts: the objectives carried into it as drafts become active."""
    await session.execute(
        update(Objective)
        .where(
            Objective.workspace_id == cycle.workspace_id,
            Objective.cycle_id == cycle.id,
            Objective.state == "draft",
            Objective.carried_from_id.is_not(None),
        )
        .values(state="active")
        .execution_options(synchronize_session=False)
    )


async def _close_cycle(session: AsyncSession, *, actor: Actor, name: str) -> CycleView:
    """An active cycle moves to grading: owners grade their key results next."""
    _require_facilitator(actor)
    cycle = await _by_name(session, actor=actor, name=name)
    workspace = await session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    if cycle.state == "active":
        if await cycle_end.begin_grading(
            session,
            cycle=cycle,
            workspace=workspace,
            started_at=clock.now(),
            source="command",
            actor_person_id=actor.person_id,
        ):
            return _view(cycle)
        await session.refresh(cycle)  # the clock or another person moved it first
    if cycle.state == "grading":
        raise Invalid(f"`{cycle.name}` is being graded already; nothing changed.")
    raise Invalid(f"`{cycle.name}` is {cycle.state}; only an active cycle can close.")


async def _audit_state(session: AsyncSession, actor: Actor, cycle: Cycle, action: str) -> None:
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action=action,
        entity="cycle",
        entity_id=cycle.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={"state": cycle.state},
    )


async def ensure_first_cycle(
    session: AsyncSession, *, actor: Actor, today: date
) -> tuple[CycleView, bool]:
    """The active cycle; in a workspace with no cycle at all, anyone's first OKR creates the
    current calendar quarter as the active cycle. Returns (cycle, created)."""
    running = await active_cycle(session, workspace_id=actor.workspace_id)
    if running is not None:
        return running, False
    any_cycle = (
        await session.execute(select(Cycle.id).where(Cycle.workspace_id == actor.workspace_id))
    ).first()
    if any_cycle is not None:
        raise Invalid(
            "No cycle is active. A facilitator starts one with `/okr cycle start <name>` "
            "(`/okr cycle list` shows them)."
        )
    name, first, last = quarter_of(today)
    cycle = Cycle(
        workspace_id=actor.workspace_id, name=name, starts_on=first, ends_on=last, state="active"
    )
    session.add(cycle)
    await session.flush()
    await _audit_state(session, actor, cycle, "cycle.first_run")
    return _view(cycle), True


async def create_cycle(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    name: str,
    starts_on: date,
    ends_on: date,
) -> CycleView:
    async with sessions.begin() as session:
        return await _create_cycle(
            session, actor=actor, name=name, starts_on=starts_on, ends_on=ends_on
        )


async def list_cycles(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor
) -> list[CycleView]:
    async with readers_for(sessions)() as session:
        return await _list_cycles(session, actor=actor)


async def start_cycle(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, name: str
) -> CycleView:
    async with sessions.begin() as session:
        return await _start_cycle(session, actor=actor, name=name)


async def close_cycle(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, name: str
) -> CycleView:
    """An active cycle moves to grading: owners grade their key results next."""
    async with sessions.begin() as session:
        return await _close_cycle(session, actor=actor, name=name)
