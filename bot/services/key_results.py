"""Key results: measurable, with a start, a target and an owner."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import KeyResult, Objective
from bot.okr.progress import Comparator, Direction, Kind
from bot.repository import audit
from bot.repository.refs import next_ref_number
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.inputs import TITLE_MAX, clean_text
from bot.services.okr_lookup import key_result_by_ref, objective_by_ref, stewards_of
from bot.services.permissions import require_edit

UNIT_MAX = 20


@dataclass(frozen=True)
class KeyResultSaved:
    id: int
    ref: str
    objective_ref: str
    title: str


def check_measure(
    *, kind: str, direction: str | None, start: float, target: float, comparator: str | None
) -> tuple[str, str | None]:
    """The direction (inferred from start and target when not given) and comparator, or an
    `Invalid` that says what to type instead."""
    if kind not in {k.value for k in Kind}:
        raise Invalid("Pick a kind: number, percent, currency or milestone.", field="kind")
    for value, field in ((start, "start"), (target, "target")):
        if not math.isfinite(value):
            raise Invalid(f"The {field} must be a number.", field=field)
    if kind == Kind.MILESTONE:
        return Direction.INCREASE.value, None
    if direction is None:
        if target == start:
            raise Invalid(
                "The target equals the start, so progress cannot be measured. Set a target "
                "above or below the start, or choose “hold” to keep a value steady.",
                field="target",
            )
        direction = Direction.INCREASE.value if target > start else Direction.DECREASE.value
    if direction not in {d.value for d in Direction}:
        raise Invalid("Pick a direction: increase, decrease or hold.", field="direction")
    if direction == Direction.HOLD:
        if comparator not in {c.value for c in Comparator}:
            raise Invalid("A “hold” key result needs at least or at most.", field="comparator")
        return direction, comparator
    if target == start:
        raise Invalid(
            "The target equals the start, so progress cannot be measured. Set a different "
            "target, or choose “hold”.",
            field="target",
        )
    if (direction == Direction.INCREASE) != (target > start):
        wanted = "above" if direction == Direction.INCREASE else "below"
        raise Invalid(f"For “{direction}” the target must be {wanted} the start.", field="target")
    return direction, None


async def add_key_result(
    session: AsyncSession,
    *,
    actor: Actor,
    objective_ref: str,
    title: str,
    kind: str = "number",
    start: float = 0.0,
    target: float,
    unit: str = "",
    direction: str | None = None,
    comparator: str | None = None,
    owner_person_id: int | None = None,
    weight: float = 1.0,
    source: str = "modal",
) -> KeyResultSaved:
    objective = await objective_by_ref(session, actor=actor, ref=objective_ref)
    require_edit(actor, await stewards_of(session, objective), what=objective.ref)
    if objective.state == "archived":
        raise Invalid(f"{objective.ref} is archived; key results go on active objectives.")
    title = clean_text(title, field="title", label="title", limit=TITLE_MAX)
    unit = clean_text(unit, field="unit", label="unit", limit=UNIT_MAX, required=False)
    if not (math.isfinite(weight) and weight > 0):
        raise Invalid("The weight must be a number above 0 (1 is usual).", field="weight")
    if kind == Kind.MILESTONE:
        start, target = 0.0, 1.0
    direction, comparator = check_measure(
        kind=kind, direction=direction, start=start, target=target, comparator=comparator
    )
    key_result = KeyResult(
        workspace_id=actor.workspace_id,
        ref_number=await next_ref_number(session, workspace_id=actor.workspace_id, kind="KR"),
        objective_id=objective.id,
        owner_person_id=owner_person_id or actor.person_id,
        title=title,
        kind=kind,
        unit=unit,
        start_value=start,
        target_value=target,
        direction=direction,
        comparator=comparator,
        weight=weight,
        state="active",
    )
    session.add(key_result)
    await session.flush()
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="key_result.create",
        entity="key_result",
        entity_id=key_result.id,
        source=source,
        actor_person_id=actor.person_id,
        changes={"title": title, "start": start, "target": target, "direction": direction},
    )
    return KeyResultSaved(key_result.id, key_result.ref, objective.ref, title)


async def archive_key_result(session: AsyncSession, *, actor: Actor, ref: str) -> str:
    """Nothing is hard-deleted: an archived key result leaves lists; its check-ins stay."""
    key_result = await key_result_by_ref(session, actor=actor, ref=ref)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    require_edit(actor, await stewards_of(session, objective), what=key_result.ref)
    if key_result.state == "archived":
        raise Invalid(f"{key_result.ref} is archived already.")
    key_result.state = "archived"
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="key_result.archive",
        entity="key_result",
        entity_id=key_result.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={"state": "archived"},
    )
    return key_result.ref


async def edit_key_result(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    title: str,
    start: float,
    target: float,
    unit: str,
    direction: str | None,
    comparator: str | None,
    owner_person_id: int | None,
    weight: float,
) -> str:
    key_result = await key_result_by_ref(session, actor=actor, ref=ref)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    require_edit(actor, await stewards_of(session, objective), what=key_result.ref)
    title = clean_text(title, field="title", label="title", limit=TITLE_MAX)
    unit = clean_text(unit, field="unit", label="unit", limit=UNIT_MAX, required=False)
    if not (math.isfinite(weight) and weight > 0):
        raise Invalid("The weight must be a number above 0 (1 is usual).", field="weight")
    if key_result.kind == Kind.MILESTONE:
        start, target = 0.0, 1.0
    direction, comparator = check_measure(
        kind=key_result.kind, direction=direction, start=start, target=target, comparator=comparator
    )
    wanted = {
        "title": title,
        "start_value": start,
        "target_value": target,
        "unit": unit,
        "direction": direction,
        "comparator": comparator,
        "weight": weight,
        "owner_person_id": owner_person_id or key_result.owner_person_id,
    }
    changes = {
        k: [getattr(key_result, k), v] for k, v in wanted.items() if getattr(key_result, k) != v
    }
    for name, (_, new) in changes.items():
        setattr(key_result, name, new)
    if changes:
        await audit.record(
            session,
            workspace_id=actor.workspace_id,
            action="key_result.edit",
            entity="key_result",
            entity_id=key_result.id,
            source="modal",
            actor_person_id=actor.person_id,
            changes=changes,
        )
    return key_result.ref
