"""Recording check-ins that arrive without a prompt (`/okr update`): they go to the open
period of the key result's team, and repeat deliveries record once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape
from bot.models import Checkin, Cycle, Objective, Team, TeamMember, Workspace
from bot.models.people import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY
from bot.okr.period import open_period
from bot.okr.progress import Comparator, Direction, Kind, Measure, clamp, key_result_progress
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.inputs import NOTE_MAX, clean_text
from bot.services.okr_lookup import key_result_by_ref
from bot.services.permissions import require_checkin
from bot.services.updates import refresh_rounds


@dataclass(frozen=True)
class CheckinRecorded:
    ref: str
    title: str
    value: float
    unit: str
    target: float
    progress: float | None  # clamped, as shown; None for hold (it needs the whole cycle)
    period: str


def parse_value(text: str, *, kind: str) -> float:
    """A value as typed after a key result: `45`, `45.5`, `45%` (percent), `done` (milestone)."""
    raw = text.strip().lower()
    if kind == Kind.MILESTONE and raw in ("done", "yes", "1"):
        return 1.0
    if kind == Kind.MILESTONE and raw in ("not done", "no", "0"):
        return 0.0
    if kind == Kind.PERCENT:
        raw = raw.removesuffix("%")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        example = "done" if kind == Kind.MILESTONE else "45"
        raise Invalid(
            f"`{escape(text)}` is not a value I can record. Type a number after the key "
            f"result, like `/okr update KR12 {example} shipped the beta`."
        )
    return value


async def _schedule(session: AsyncSession, objective: Objective, owner: int | None) -> Team | None:
    """The team whose week a key result follows: its objective's, else its owner's first."""
    if objective.team_id is not None:
        return await session.get(Team, objective.team_id)
    if owner is None:
        return None
    return (
        await session.execute(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == owner)
            .order_by(TeamMember.joined_at, Team.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def record_update(
    session: AsyncSession,
    *,
    actor: Actor,
    key_result_ref: str,
    value_text: str,
    note: str,
    source_ref: str,
    now: datetime,
    confidence: int | None = None,
    status: str | None = None,
    source: str = "command",
    period: str | None = None,
) -> CheckinRecorded:
    """Record one check-in; `period` is a prompt's (its "Check in" button), else the open one."""
    key_result = await key_result_by_ref(session, actor=actor, ref=key_result_ref)
    objective = await session.get(Objective, key_result.objective_id)
    assert objective is not None
    team = await _schedule(session, objective, key_result.owner_person_id)
    require_checkin(
        actor,
        owner=key_result.owner_person_id,
        team_lead=team.lead_person_id if team else None,
        what=key_result.ref,
    )
    cycle = await session.get(Cycle, objective.cycle_id)
    if key_result.state == "archived" or objective.state == "archived":
        raise Invalid(f"{key_result.ref} is archived; there is nothing to check in.")
    if cycle is None or cycle.state != "active":
        raise Invalid(f"{key_result.ref}'s cycle is not active, so it takes no check-ins.")
    value = parse_value(value_text, kind=key_result.kind)
    if confidence is not None and not 0 <= confidence <= 10:
        raise Invalid("Confidence goes from 0 (no chance) to 10 (certain).", field="confidence")
    if status is not None and status not in ("on_track", "at_risk", "off_track"):
        raise Invalid("Pick on track, at risk or off track.", field="status")
    note = clean_text(note, field="note", label="note", limit=NOTE_MAX, required=False)
    if team is not None:
        weekday, at, tz = team.checkin_weekday, team.checkin_time, ZoneInfo(team.timezone)
    else:
        workspace = await session.get(Workspace, actor.workspace_id)
        assert workspace is not None
        defaults = workspace.settings or {}
        weekday = int(defaults.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY))
        at = time.fromisoformat(str(defaults.get("checkin_time", DEFAULT_CHECKIN_TIME)))
        tz = ZoneInfo(workspace.timezone)
    period = period or open_period(now, weekday=weekday, local_time=at, tz=tz)
    await session.execute(
        insert_ignoring_conflicts(
            session,
            Checkin,
            {
                "workspace_id": actor.workspace_id,
                "key_result_id": key_result.id,
                "period": period,
                "value": value,
                "note": note or None,
                "confidence": confidence,
                "status": status,
                "author_person_id": actor.person_id,
                "recorded_at": now,
                "source": source,
                "source_ref": source_ref,
                "revision": "",
                "retraction": False,
            },
            conflict_columns=["key_result_id", "period", "source", "source_ref", "revision"],
        )
    )
    await refresh_rounds(session, workspace_id=actor.workspace_id, lines={(key_result.id, period)},
                         now=now)  # fmt: skip
    measure = Measure(
        Kind(key_result.kind),
        Direction(key_result.direction),
        key_result.start_value,
        key_result.target_value,
        Comparator(key_result.comparator) if key_result.comparator else None,
    )
    progress = (
        None
        if measure.direction is Direction.HOLD
        else clamp(key_result_progress(measure, [value]))
    )
    return CheckinRecorded(
        key_result.ref,
        key_result.title,
        value,
        key_result.unit,
        key_result.target_value,
        progress,
        period,
    )
