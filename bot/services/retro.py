"""Taking part in a team's retrospective: a 1-5 vote and an answer (went well / didn't /
change next cycle), each once per person, until the retro closes.

Anonymous for real: an anonymous retro's vote and answer rows carry no person, no time of
their own and no audit entry; the participation row (person, retro, voted, answered) alone
says who took part, enforces once each and drives the count. So an anonymous vote or answer
is final: nothing could find it again to change it. Nothing here logs who did what."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.retro import RetroAnswerForm
from bot.models import (
    OutboxItem,
    Retro,
    RetroParticipation,
    RetroResponse,
    RetroVote,
    Team,
    TeamMember,
)
from bot.models.outbox_keys import Kind, cycle_period
from bot.okr.cycle_end import ANSWER_MAX, RATINGS
from bot.repository import audit
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid, NotFound
from bot.services.retro_messages import is_open, read_poll
from bot.services.updates import arm_update


@dataclass(frozen=True)
class Said:
    """What the person is told, and whether anything changed."""

    text: str
    changed: bool


async def _retro(
    session: AsyncSession, *, actor: Actor, retro_id: int, now: datetime, lock: bool = False
) -> Retro:
    retro = await session.get(Retro, retro_id, with_for_update=lock or None)
    if retro is None or retro.workspace_id != actor.workspace_id:
        raise NotFound("That retrospective is not here any more.")
    if not is_open(retro, now):
        poll = await read_poll(session, retro=retro, now=now)
        raise Invalid(
            f"The retrospective of {poll.cycle} closed on {poll.closes_on}: it takes no more "
            "votes or answers."
        )
    if retro.team_id is not None and not await _in_team(session, actor, retro.team_id):
        raise Forbidden("This retrospective is for the team's members and its lead.")
    return retro


async def _in_team(session: AsyncSession, actor: Actor, team_id: int) -> bool:
    team = await session.get(Team, team_id)
    if team is not None and team.lead_person_id == actor.person_id:
        return True
    member = await session.get(TeamMember, (team_id, actor.person_id))
    return member is not None


async def _participation(session: AsyncSession, retro: Retro, actor: Actor) -> RetroParticipation:
    found = await session.get(RetroParticipation, (retro.id, actor.person_id))
    if found is None:
        found = RetroParticipation(
            retro_id=retro.id, person_id=actor.person_id, workspace_id=retro.workspace_id,
            voted=False, answered=False,
        )  # fmt: skip
        session.add(found)
    return found


async def refresh_poll(session: AsyncSession, retro: Retro, now: datetime, every: float) -> None:
    """Arm the poll message's coalescing update, so its count follows."""
    posted = (
        await session.execute(
            select(OutboxItem.slack_channel, OutboxItem.slack_ts).where(
                OutboxItem.workspace_id == retro.workspace_id,
                OutboxItem.kind == Kind.RETRO,
                OutboxItem.period == cycle_period(retro.cycle_id),
                OutboxItem.target == str(retro.team_id),
            )
        )
    ).first()
    if posted is None or not posted[0] or not posted[1]:
        return
    await arm_update(
        session, workspace_id=retro.workspace_id, channel=posted[0], ts=posted[1],
        period=cycle_period(retro.cycle_id), now=now, every_seconds=every,
    )  # fmt: skip


async def vote(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    retro_id: int,
    rating: int,
    now: datetime,
    update_every: float = 30.0,
) -> Said:
    if rating not in RATINGS:
        raise Invalid("A rating goes from 1 to 5.")
    async with sessions.begin() as session:
        retro = await _retro(session, actor=actor, retro_id=retro_id, now=now, lock=True)
        taking_part = await _participation(session, retro, actor)
        if retro.anonymous:
            if taking_part.voted:
                return Said("You have voted already; an anonymous vote is final.", False)
            session.add(RetroVote(workspace_id=retro.workspace_id, retro_id=retro.id,
                                  person_id=None, rating=rating))  # fmt: skip
            said = f"Thank you: your anonymous vote ({rating}) is in. It is final."
        else:
            mine = (
                await session.execute(
                    select(RetroVote).where(
                        RetroVote.retro_id == retro.id, RetroVote.person_id == actor.person_id
                    )
                )
            ).scalar_one_or_none()
            if mine is not None and mine.rating == rating:
                return Said(f"Your vote is {rating} already; nothing changed.", False)
            if mine is None:
                session.add(RetroVote(workspace_id=retro.workspace_id, retro_id=retro.id,
                                      person_id=actor.person_id, rating=rating))  # fmt: skip
                said = f"Thank you: you voted {rating}. You can change it until the retro closes."
            else:
                said = f"Changed your vote from {mine.rating} to {rating}."
                mine.rating = rating
            await audit.record(
                session, workspace_id=actor.workspace_id, action="retro.vote", entity="retro",
                entity_id=retro.id, source="button", actor_person_id=actor.person_id,
                changes={"rating": rating},
            )  # fmt: skip
        first = not taking_part.voted and not taking_part.answered
        taking_part.voted = True
        if first:
            await refresh_poll(session, retro, now, update_every)
        return Said(said, True)


async def answer_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, retro_id: int, now: datetime
) -> RetroAnswerForm:
    """The answer modal, prefilled with an attributed answer given before."""
    async with sessions() as session:
        retro = await _retro(session, actor=actor, retro_id=retro_id, now=now)
        poll = await read_poll(session, retro=retro, now=now)
        taking_part = await session.get(RetroParticipation, (retro.id, actor.person_id))
        if retro.anonymous and taking_part is not None and taking_part.answered:
            raise Invalid("You have answered already; an anonymous answer is final.")
        form = RetroAnswerForm(retro.id, poll.cycle, retro.anonymous, poll.closes_on)
        if not retro.anonymous:
            mine = await _attributed(session, retro, actor)
            if mine is not None:
                form = RetroAnswerForm(
                    retro.id, poll.cycle, False, poll.closes_on,
                    mine.went_well, mine.went_badly, mine.to_change,
                )  # fmt: skip
        return form


async def _attributed(session: AsyncSession, retro: Retro, actor: Actor) -> RetroResponse | None:
    return (
        await session.execute(
            select(RetroResponse).where(
                RetroResponse.retro_id == retro.id,
                RetroResponse.person_id == actor.person_id,
            )
        )
    ).scalar_one_or_none()


def _clean(parts: dict[str, str | None]) -> dict[str, str]:
    cleaned = {name: (text or "").strip() for name, text in parts.items()}
    for name, text in cleaned.items():
        if len(text) > ANSWER_MAX:
            raise Invalid(f"Keep each answer under {ANSWER_MAX} characters.", field=name)
    if not any(cleaned.values()):
        raise Invalid("Write at least one of the three.", field="went_well")
    return cleaned


async def save_answer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    retro_id: int,
    parts: dict[str, str | None],
    now: datetime,
    update_every: float = 30.0,
) -> Said:
    cleaned = _clean(parts)
    async with sessions.begin() as session:
        retro = await _retro(session, actor=actor, retro_id=retro_id, now=now, lock=True)
        taking_part = await _participation(session, retro, actor)
        if retro.anonymous:
            if taking_part.answered:
                raise Invalid("You have answered already; an anonymous answer is final.")
            # No person, no time of its own (the retro's opening) and no audit entry.
            session.add(RetroResponse(
                workspace_id=retro.workspace_id, retro_id=retro.id,
                respondent_key=secrets.token_hex(16), person_id=None,
                submitted_at=retro.created_at, updated_at=retro.created_at, **cleaned,
            ))  # fmt: skip
            said = "Thank you: your anonymous answer is in. It is final."
        else:
            mine = await _attributed(session, retro, actor)
            if mine is None:
                session.add(RetroResponse(
                    workspace_id=retro.workspace_id, retro_id=retro.id,
                    respondent_key=f"person:{actor.person_id}", person_id=actor.person_id,
                    **cleaned,
                ))  # fmt: skip
            else:
                for name, text in cleaned.items():
                    setattr(mine, name, text)
            said = "Thank you: your answer is saved. You can change it until the retro closes."
            await audit.record(
                session, workspace_id=actor.workspace_id, action="retro.answer", entity="retro",
                entity_id=retro.id, source="modal", actor_person_id=actor.person_id,
            )  # fmt: skip
        first = not taking_part.voted and not taking_part.answered
        taking_part.answered = True
        if first:
            await refresh_poll(session, retro, now, update_every)
        return Said(said, True)
