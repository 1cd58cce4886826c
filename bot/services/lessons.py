"""Iterate: what a team said it would change next cycle (its last retrospective's third
answer) is shown to it when the next cycle's planning starts: on its first `/okr new` of that
cycle and at the top of its first digest. Anonymous answers follow the summary's rule: shown
only when at least 3 people answered."""

from __future__ import annotations

from sqlalchemy import func, select
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


async def first_digest_lessons(
    session: AsyncSession, *, item: OutboxItem
) -> tuple[str, tuple[str, ...]]:
    """For a team digest's part 1: the lessons, when it is the team's first digest of the
    active cycle (no digest of an earlier period of that cycle was sent)."""
    if item.payload.get("part") not in (1, None) or item.payload.get("team_id") is None:
        return "", ()
    team_id = int(item.payload["team_id"])
    cycle = (
        await session.execute(
            select(Cycle).where(Cycle.workspace_id == item.workspace_id, Cycle.state == "active")
        )
    ).scalar_one_or_none()
    if cycle is None or item.period is None:
        return "", ()
    earlier = await session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.workspace_id == item.workspace_id,
            OutboxItem.kind == Kind.DIGEST,
            OutboxItem.idempotency_key.like(f"{Kind.DIGEST}:{item.workspace_id}:{team_id}:%"),
            OutboxItem.state == "sent",
            OutboxItem.period < item.period,
            OutboxItem.period >= label(cycle.starts_on),
        )
        .limit(1)
    )
    if earlier is not None:
        return "", ()
    return await team_lessons(session, workspace_id=item.workspace_id, team_id=team_id, cycle=cycle)
