"""Iterate: what a team said it would change next cycle (its last retrospective's third
answer) is shown to it when the next cycle's planning starts: on its first `/okr new` of that
cycle and at the top of its first digest. Anonymous answers follow the summary's rule: shown
only when at least 3 people answered."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Cycle,
    Objective,
    OutboxItem,
    Retro,
    RetroParticipation,
    RetroResponse,
    Team,
    TeamMember,
)
from bot.models.outbox_keys import Kind
from bot.okr.period import label
from bot.okr.summary import anonymous_answers_shown

LESSONS_MAX = 8


async def team_lessons(
    session: AsyncSession, *, workspace_id: int, team_id: int, cycle: Cycle
) -> tuple[str, tuple[str, ...]]:
    """(the previous cycle's name, its "what we change" answers) for the team; empty when
    there is nothing to show."""
    found = (
        await session.execute(
            select(Retro, Cycle)
            .join(Cycle, Cycle.id == Retro.cycle_id)
            .where(
                Retro.workspace_id == workspace_id,
                Retro.team_id == team_id,
                Cycle.state == "closed",
                Cycle.ends_on < cycle.starts_on,
            )
            .order_by(Cycle.ends_on.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return "", ()
    retro, before = found
    if retro.anonymous:
        answered = await session.scalar(
            select(func.count()).where(
                RetroParticipation.retro_id == retro.id, RetroParticipation.answered.is_(True)
            )
        )
        if not anonymous_answers_shown(int(answered or 0)):
            return "", ()
    answers = (
        await session.execute(
            select(RetroResponse.to_change)
            .where(RetroResponse.retro_id == retro.id, RetroResponse.to_change != "")
            .order_by(RetroResponse.respondent_key)
        )
    ).scalars()
    said = tuple(a for a in answers if a.strip())[:LESSONS_MAX]
    return (before.name, said) if said else ("", ())


async def new_objective_lessons(
    session: AsyncSession, *, workspace_id: int, person_id: int, channel_team: int | None
) -> tuple[str, tuple[str, ...]]:
    """For `/okr new`: the lessons of the channel's team, else of the person's teams, while
    that team has written no objective in the active cycle yet (its first `/okr new` of it;
    objectives carried over do not count)."""
    cycle = (
        await session.execute(
            select(Cycle).where(Cycle.workspace_id == workspace_id, Cycle.state == "active")
        )
    ).scalar_one_or_none()
    if cycle is None:
        return "", ()
    if channel_team is not None:
        teams = [channel_team]
    else:
        led = select(Team.id).where(
            Team.workspace_id == workspace_id, Team.lead_person_id == person_id
        )
        member = select(TeamMember.team_id).where(TeamMember.person_id == person_id)
        teams = sorted(
            set((await session.execute(led)).scalars())
            | set((await session.execute(member)).scalars())
        )
    for team_id in teams:
        planned = await session.scalar(
            select(Objective.id)
            .where(
                Objective.workspace_id == workspace_id,
                Objective.cycle_id == cycle.id,
                Objective.team_id == team_id,
                Objective.state != "archived",
                Objective.carried_from_id.is_(None),  # carried ones were not written anew
            )
            .limit(1)
        )
        if planned is None:
            found = await team_lessons(
                session, workspace_id=workspace_id, team_id=team_id, cycle=cycle
            )
            if found[1]:
                return found
    return "", ()


Lessons = tuple[str, tuple[str, ...]]  # (the previous cycle's name, what the team said)
NO_LESSONS: Lessons = ("", ())


async def first_digest_lessons(
    session: AsyncSession, *, items: Sequence[OutboxItem]
) -> list[Lessons]:
    """For each team digest row, the lessons when it is part 1 of the team's first digest of
    the active cycle (no digest of an earlier period of that cycle was sent). Shared reads for
    a batch: three statements whatever its size, then the lessons of the teams that had a
    retrospective, which is their first digest of a cycle only once."""
    found = [NO_LESSONS] * len(items)
    wanted = [
        n
        for n, item in enumerate(items)
        if item.payload.get("part") in (1, None)
        and item.payload.get("team_id") is not None
        and item.period is not None
    ]
    if not wanted:
        return found
    workspace_ids = {items[n].workspace_id for n in wanted}
    cycles = {
        cycle.workspace_id: cycle
        for cycle in (
            await session.execute(
                select(Cycle).where(Cycle.workspace_id.in_(workspace_ids), Cycle.state == "active")
            )
        ).scalars()
    }
    wanted = [n for n in wanted if items[n].workspace_id in cycles]
    if not wanted:
        return found
    team_ids = {int(items[n].payload["team_id"]) for n in wanted}
    with_retro: set[tuple[int, int | None]] = set()
    for workspace_id, team_id in await session.execute(
        select(Retro.workspace_id, Retro.team_id)
        .join(Cycle, Cycle.id == Retro.cycle_id)
        .where(
            Retro.workspace_id.in_(cycles),
            Retro.team_id.in_(team_ids),
            Cycle.state == "closed",
        )
        .distinct()
    ):
        with_retro.add((workspace_id, team_id))
    wanted = [
        n for n in wanted if (items[n].workspace_id, int(items[n].payload["team_id"])) in with_retro
    ]
    if not wanted:
        return found
    first_sent: dict[tuple[int, str], str] = {}
    for workspace_id, target, period in await session.execute(
        select(OutboxItem.workspace_id, OutboxItem.target, func.min(OutboxItem.period))
        .where(
            or_(
                *(
                    and_(
                        OutboxItem.workspace_id == workspace_id,
                        OutboxItem.period >= label(cycle.starts_on),
                    )
                    for workspace_id, cycle in cycles.items()
                )
            ),
            OutboxItem.kind == Kind.DIGEST,
            OutboxItem.state == "sent",
            OutboxItem.target.in_({items[n].target for n in wanted}),
        )
        .group_by(OutboxItem.workspace_id, OutboxItem.target)
    ):
        if period is not None:
            first_sent[(workspace_id, target)] = period
    for n in wanted:
        item = items[n]
        earliest = first_sent.get((item.workspace_id, item.target))
        if earliest is not None and item.period is not None and earliest < item.period:
            continue
        found[n] = await team_lessons(
            session,
            workspace_id=item.workspace_id,
            team_id=int(item.payload["team_id"]),
            cycle=cycles[item.workspace_id],
        )
    return found
