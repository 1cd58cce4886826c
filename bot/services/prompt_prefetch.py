"""Reading what a batch of check-in messages needs in a few set queries, not a few per
message: the sender composes 50 at a time, and per-message queries were most of its CPU.

`prefetch` fills `session.info`; the lookups in `bot.services.prompts` answer from it when
everything they ask for was prefetched, and query as before otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamSkippedPeriod,
)
from bot.models.outbox_keys import Kind

KEY = "prompt_prefetch"


@dataclass
class Prefetched:
    key_results: set[int] = field(default_factory=set)  # every id asked about
    live: dict[int, tuple[KeyResult, Objective]] = field(default_factory=dict)
    checkins: dict[int, list[Checkin]] = field(default_factory=dict)
    slack_ids: dict[int, str] = field(default_factory=dict)
    team_names: dict[int, str] = field(default_factory=dict)
    periods: set[str] = field(default_factory=set)
    team_ids: set[int] = field(default_factory=set)  # every team asked about
    skipped: set[tuple[int, str]] = field(default_factory=set)

    def covers(self, ids: Iterable[int]) -> bool:
        return set(ids) <= self.key_results


def live_key_results_query(
    workspace_ids: Iterable[int], ids: Iterable[int]
) -> Select[KeyResult, Objective]:
    """Key results `ids` that still take check-ins (active, in an active objective and
    cycle), with their objectives."""
    return (
        select(KeyResult, Objective)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .join(Cycle, Cycle.id == Objective.cycle_id)
        .where(
            KeyResult.workspace_id.in_(set(workspace_ids)),
            KeyResult.id.in_(set(ids)),
            KeyResult.state == "active",
            Objective.state == "active",
            Cycle.state == "active",
        )
    )


def cached(session: AsyncSession) -> Prefetched | None:
    found = session.info.get(KEY)
    return found if isinstance(found, Prefetched) else None


async def prefetch(session: AsyncSession, items: Sequence[OutboxItem]) -> Prefetched:
    lines = [
        (int(kr), str(period)) for item in items for kr, period in item.payload.get("lines") or []
    ]
    workspaces = {item.workspace_id for item in items}
    ids = {kr for kr, _ in lines}
    found = Prefetched(key_results=ids, periods={p for _, p in lines})
    if ids:
        rows = await session.execute(live_key_results_query(workspaces, ids))
        found.live = {kr.id: (kr, objective) for kr, objective in rows.all()}
        for checkin in (
            await session.execute(
                select(Checkin).where(
                    Checkin.workspace_id.in_(workspaces), Checkin.key_result_id.in_(ids)
                )
            )
        ).scalars():
            found.checkins.setdefault(checkin.key_result_id, []).append(checkin)
    people = {kr.owner_person_id for kr, _ in found.live.values() if kr.owner_person_id}
    if people:
        rows2 = await session.execute(
            select(Person.id, Person.slack_user_id).where(
                Person.workspace_id.in_(workspaces), Person.id.in_(people)
            )
        )
        found.slack_ids = {pid: slack_id for pid, slack_id in rows2.all()}  # noqa: C416
    teams = {o.team_id for _, o in found.live.values() if o.team_id}
    teams |= {int(i.payload["team_id"]) for i in items if i.kind == Kind.PROMPT}
    if teams:
        rows3 = await session.execute(
            select(Team.id, Team.name).where(Team.workspace_id.in_(workspaces), Team.id.in_(teams))
        )
        found.team_names = {tid: name for tid, name in rows3.all()}  # noqa: C416
        skipped = await session.execute(
            select(TeamSkippedPeriod.team_id, TeamSkippedPeriod.period).where(
                TeamSkippedPeriod.workspace_id.in_(workspaces),
                TeamSkippedPeriod.team_id.in_(teams),
            )
        )
        found.skipped = {(tid, period) for tid, period in skipped.all()}
    found.team_ids = teams
    session.info[KEY] = found
    return found
