"""Starting a team's round by hand (`/okr checkin now [team]`), and finding what a person
may check in on from a prompt's "Check in" button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape
from bot.jobs.tick import tick  # the one named layer exception: see pyproject's contracts
from bot.models import KeyResult, Objective, OutboxItem, Prompt, PromptLine, Team
from bot.models.outbox_keys import prompt_key
from bot.okr.period import period_of, zone
from bot.services.actors import Actor
from bot.services.errors import Invalid, NotFound
from bot.services.teams import require_steward


@dataclass(frozen=True)
class RoundStarted:
    team_name: str
    channel_id: str
    period: str
    already: bool
    queued: int  # new outbox rows: the prompt and the DMs of this round


async def start_round(
    session: AsyncSession, *, actor: Actor, team: Team, now: datetime
) -> RoundStarted:
    """Queue this week's round of `team` now; repeating it for the same week does nothing."""
    require_steward(actor, team)
    if team.paused:
        raise Invalid(f"{escape(team.name)} is paused: `/okr team resume` first.")
    if not team.channel_id:
        raise Invalid(f"{escape(team.name)} has no channel: `/okr team setup` in its channel.")
    period = period_of(now, zone(team.timezone, ZoneInfo("UTC")))
    key = prompt_key(actor.workspace_id, team.id, period)
    existing = (
        await session.execute(select(OutboxItem.state).where(OutboxItem.idempotency_key == key))
    ).scalar_one_or_none()
    if existing is not None and existing != "cancelled":
        return RoundStarted(team.name, team.channel_id, period, True, 0)
    result = await tick(session, now, workspace_ids=[actor.workspace_id], started={team.id: now})
    queued = (
        await session.execute(select(OutboxItem.id).where(OutboxItem.idempotency_key == key))
    ).first()
    if queued is None:
        raise Invalid(
            f"{escape(team.name)} has nothing to check in for {period}: no active key results "
            "in an active cycle, or the week is skipped (`/okr team unskip`)."
        )
    return RoundStarted(team.name, team.channel_id, period, False, result.inserted)


@dataclass(frozen=True)
class PromptCheckin:
    refs: list[str]
    period: str


async def checkin_from_prompt(
    session: AsyncSession, *, actor: Actor, channel: str, ts: str
) -> PromptCheckin:
    """The key results of a prompt this person may check in on, and the prompt's period."""
    prompt = (
        await session.execute(
            select(Prompt).where(
                Prompt.workspace_id == actor.workspace_id,
                Prompt.channel_id == channel,
                Prompt.message_ts == ts,
            )
        )
    ).scalar_one_or_none()
    if prompt is None:
        raise NotFound("This check-in is no longer known. `/okr checkin` opens yours.")
    rows = await session.execute(
        select(KeyResult, Objective, PromptLine.period)
        .join(PromptLine, PromptLine.key_result_id == KeyResult.id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(PromptLine.prompt_id == prompt.id, KeyResult.state == "active")
        .order_by(PromptLine.line_no)
    )
    refs = []
    for kr, objective, _period in rows.all():
        lead = None
        if objective.team_id is not None:
            team = await session.get(Team, objective.team_id)
            lead = team.lead_person_id if team else None
        if actor.is_facilitator or actor.person_id in (kr.owner_person_id, lead):
            refs.append(kr.ref)
    if not refs:
        raise Invalid("None of the key results in this check-in are yours to update.")
    return PromptCheckin(refs, prompt.period)
