"""`/okr show KR12`: one key result, its standing now, its cycle week by week and its
check-in history, a page at a time. Anyone in the workspace may read it.

The same number of queries whatever the number of check-ins: the key result, its objective
and cycle, every check-in row at once, the people they name, and its round's schedule.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.key_result_page import HistoryEntry, KeyResultPage
from bot.db import readers_for
from bot.models import Checkin, Cycle, Objective, Person
from bot.okr.history import marks, sparkline
from bot.okr.period import label, zone
from bot.okr.progress import Status, clamp, expected_progress, key_result_progress, status
from bot.okr.series import CycleDates, cycle_periods
from bot.repository.checkins import (
    CurrentValue,
    checkins_of_key_result,
    current_from,
    value_for_period,
)
from bot.services.actors import Actor
from bot.services.okr_lookup import key_result_by_ref
from bot.services.reading import measure_of
from bot.services.round_periods import outdated, periods_of

PAGE_SIZE = 10  # check-ins a page
_UTC = ZoneInfo("UTC")


async def read_key_result_page(
    session: AsyncSession, *, actor: Actor, ref: str, page: int = 0, at: datetime
) -> KeyResultPage:
    """The page of key result `ref` in the actor's workspace (`NotFound` elsewhere); `page`
    0 holds the newest `PAGE_SIZE` check-ins (a page past the last shows the last)."""
    kr = await key_result_by_ref(session, actor=actor, ref=ref)
    objective = await session.get(Objective, kr.objective_id)
    assert objective is not None
    cycle = await session.get(Cycle, objective.cycle_id)
    assert cycle is not None
    rows = await checkins_of_key_result(
        session, workspace_id=actor.workspace_id, key_result_id=kr.id
    )
    people = {kr.owner_person_id} | {row.author_person_id for row in rows}
    named = await session.execute(
        select(Person.id, Person.slack_user_id).where(
            Person.workspace_id == actor.workspace_id,
            Person.id.in_([p for p in people if p is not None]),
        )
    )
    slack_ids = {row.id: row.slack_user_id for row in named}
    periods = (
        await periods_of(
            session,
            workspace_id=actor.workspace_id,
            key_results=[kr],
            team_of_objective={objective.id: objective.team_id},
            at=at,
        )
    )[kr.id]

    by_period: dict[str, list[Checkin]] = {}
    for row in rows:
        by_period.setdefault(row.period, []).append(row)
    period_values = {p: value_for_period(found) for p, found in sorted(by_period.items())}
    current = current_from(rows)
    measure = measure_of(kr)
    tz = zone(actor.timezone, _UTC)
    weeks = cycle_periods(CycleDates(cycle.starts_on, cycle.ends_on, tz), through=periods.current)
    levels = []
    for period in weeks:
        value = period_values.get(period)
        levels.append(clamp(key_result_progress(measure, [value.value])) if value else None)
    known = [value.value for value in period_values.values() if value is not None]
    progress = clamp(key_result_progress(measure, known)) if current is not None else None
    now_status, reported = _status_now(
        cycle, current, progress, current_period=periods.current, at=at, tz=tz
    )

    mark_of = marks(rows)
    history = [row for row in reversed(rows) if not row.retraction]  # newest first
    pages = max(1, -(-len(history) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    entries = [
        HistoryEntry(
            period=row.period,
            value=row.value if row.value is not None else 0.0,
            confidence=row.confidence,
            status=row.status,
            note=row.note,
            author_slack_id=slack_ids.get(row.author_person_id or 0),
            source=row.source,
            mark=mark_of.get(row.id),
        )
        for row in history[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    return KeyResultPage(
        ref=kr.ref,
        title=kr.title,
        objective_ref=objective.ref,
        objective_title=objective.title,
        cycle=cycle.name,
        state=kr.state,
        owner_slack_id=slack_ids.get(kr.owner_person_id or 0),
        unit=kr.unit,
        start=kr.start_value,
        target=kr.target_value,
        current=current.value if current else None,
        progress=progress,
        status=now_status,
        status_reported=reported,
        last_reported_status=current.status if current else None,
        confidence=current.confidence if current else None,
        outdated=outdated(kr, periods, current, cycle),
        last_period=current.period if current else None,
        sparkline=sparkline(levels),
        first_period=weeks[0] if weeks else label(cycle.starts_on),
        last_shown_period=weeks[-1] if weeks else label(cycle.starts_on),
        entries=entries,
        page=page,
        pages=pages,
        checkins=len(history),
    )


def _status_now(
    cycle: Cycle,
    current: CurrentValue | None,
    progress: float | None,
    *,
    current_period: str,
    at: datetime,
    tz: ZoneInfo,
) -> tuple[str | None, bool]:
    """The status now and whether its owner reported it: a status reported in a check-in
    holds for its week; otherwise it is computed from progress, pace and confidence
    (`okr.progress.status`). None before the first check-in."""
    if current is None or progress is None:
        return None, False
    reported = (
        Status(current.status)
        if current.status in set(Status) and current.period >= current_period
        else None
    )
    expected = expected_progress(at, starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=tz)
    computed = status(
        progress=progress, expected=expected, confidence=current.confidence, reported=reported
    )
    return computed.value, reported is not None


async def key_result_page(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, ref: str, page: int = 0
) -> KeyResultPage:
    """`/okr show KR12` (and its Older / Newer buttons), read in a session of its own."""
    async with readers_for(sessions)() as session:
        return await read_key_result_page(session, actor=actor, ref=ref, page=page, at=clock.now())
