"""Reading what a batch of check-in messages needs in a few set queries, not a few per
message: the sender composes 50 at a time, and per-message queries were most of its CPU.

`prefetch` fills `session.info`; the lookups in `bot.services.prompts` answer from it when
everything they ask for was prefetched, and query as before otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    AwayPeriod,
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamSkippedPeriod,
    Workspace,
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
    people: set[int] = field(default_factory=set)  # every person a DM or reminder is for
    im_channels: dict[int, str | None] = field(default_factory=dict)
    away: dict[int, list[tuple[date, date]]] = field(default_factory=dict)
    # Rows loaded whole for `session.get` to find: the session's identity map holds rows
    # only while something else does, so the batch holds them.
    held: list[object] = field(default_factory=list)

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


def im_channel(session: AsyncSession, person_id: int | None) -> str | None:
    """The person's DM channel as the batch read it (None when unknown or not read)."""
    found = cached(session)
    if found is None or person_id is None:
        return None
    return found.im_channels.get(person_id)


def away_on(found: Prefetched, person_id: int, day: date) -> bool:
    return any(start <= day <= end for start, end in found.away.get(person_id, ()))


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
    # The people the DMs and reminders are for, their workspaces and their away periods:
    # loaded whole, so composing looks them up in the session instead of one query each.
    found.people = {
        int(i.payload["person_id"])
        for i in items
        if i.kind != Kind.PROMPT and str(i.payload.get("person_id", "")).isdigit()
    }
    found.held.extend(
        (await session.execute(select(Workspace).where(Workspace.id.in_(workspaces)))).scalars()
    )
    if found.people:
        for person in (
            await session.execute(
                select(Person).where(
                    Person.workspace_id.in_(workspaces), Person.id.in_(found.people)
                )
            )
        ).scalars():
            found.im_channels[person.id] = person.im_channel_id
            found.held.append(person)
        for person_id, starts_on, ends_on in (
            await session.execute(
                select(AwayPeriod.person_id, AwayPeriod.starts_on, AwayPeriod.ends_on).where(
                    AwayPeriod.workspace_id.in_(workspaces),
                    AwayPeriod.person_id.in_(found.people),
                )
            )
        ).all():
            found.away.setdefault(person_id, []).append((starts_on, ends_on))
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
            select(Team).where(Team.workspace_id.in_(workspaces), Team.id.in_(teams))
        )
        loaded_teams = list(rows3.scalars())
        found.held.extend(loaded_teams)
        found.team_names = {team.id: team.name for team in loaded_teams}
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
