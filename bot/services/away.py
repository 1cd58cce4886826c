"""Away periods: days a person is away (no check-in prompt, no reminder, not missing).

A person marks their own days; facilitators and admins may act for anyone. Overlapping or
touching periods of one person merge into one row. Days before the person's local today are
history: nothing here rewrites them. The public functions own their transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import readers_for
from bot.models import AwayPeriod, Person
from bot.okr.period import known_zone
from bot.repository import audit
from bot.repository.workspaces import ensure_person
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid

LONGEST_DAYS = 366


@dataclass(frozen=True)
class Away:
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class AwayDays:
    """A person's current and coming away periods, as seen on their local `today`."""

    slack_user_id: str
    today: date
    periods: list[Away]


@dataclass(frozen=True)
class AwayMarked:
    slack_user_id: str
    period: Away  # the whole period the asked days now belong to (after merging)
    changed: bool  # False when every asked day was away already


@dataclass(frozen=True)
class AwayCancelled:
    slack_user_id: str
    today: date
    removed: list[Away]  # as they were before cancelling


def example(today: date) -> str:
    """A command that marks a week away, starting next week: a form that works today."""
    start = today + timedelta(days=7 - today.weekday())
    return f"`/okr away {start}..{start + timedelta(days=4)}`"


def require_acting_for(actor: Actor, slack_user_id: str) -> None:
    if slack_user_id == actor.slack_user_id or actor.is_facilitator:
        return
    raise Forbidden(
        f"Only facilitators and admins mark away days for someone else. <@{slack_user_id}> "
        "can type `/okr away` themselves."
    )


async def _person(session: AsyncSession, actor: Actor, slack_user_id: str | None) -> Person:
    return await ensure_person(
        session, workspace_id=actor.workspace_id, slack_user_id=slack_user_id or actor.slack_user_id
    )


def local_today(person: Person | None, actor: Actor) -> date:
    """Today in the person's time zone, else the workspace's, else UTC."""
    for name in (person.timezone if person else None, actor.timezone):
        if (tz := known_zone(name)) is not None:
            return clock.now().astimezone(tz).date()
    return clock.now().date()


async def _from_today(session: AsyncSession, person: Person, today: date) -> list[AwayPeriod]:
    rows = await session.execute(
        select(AwayPeriod)
        .where(
            AwayPeriod.workspace_id == person.workspace_id,
            AwayPeriod.person_id == person.id,
            AwayPeriod.ends_on >= today,
        )
        .order_by(AwayPeriod.starts_on)
    )
    return list(rows.scalars())


async def _away_days(
    session: AsyncSession, *, actor: Actor, slack_user_id: str | None = None
) -> AwayDays:
    """Anyone may read anyone's away days (everything in a workspace is open to read)."""
    wanted = slack_user_id or actor.slack_user_id
    person = (
        await session.execute(
            select(Person).where(
                Person.workspace_id == actor.workspace_id, Person.slack_user_id == wanted
            )
        )
    ).scalar_one_or_none()
    if person is None:  # never seen, so never away
        return AwayDays(wanted, local_today(None, actor), [])
    today = local_today(person, actor)
    rows = await _from_today(session, person, today)
    return AwayDays(wanted, today, [Away(r.starts_on, r.ends_on) for r in rows])


def check_days(starts_on: date, ends_on: date, *, today: date) -> None:
    if ends_on < starts_on:
        raise Invalid(
            f"{ends_on} is before {starts_on}: give the first day, then the last, like "
            f"{example(today)}."
        )
    if ends_on < today:
        days = str(starts_on) if starts_on == ends_on else f"{starts_on}..{ends_on}"
        raise Invalid(
            f"{days} is over already (today is {today}). Mark days from today on, like "
            f"{example(today)}."
        )
    if (ends_on - starts_on).days + 1 > LONGEST_DAYS:
        raise Invalid(
            f"That is {(ends_on - starts_on).days + 1} days; mark at most {LONGEST_DAYS} at a "
            f"time, like {example(today)}."
        )


async def _mark_away(
    session: AsyncSession,
    *,
    actor: Actor,
    starts_on: date,
    ends_on: date,
    slack_user_id: str | None = None,
) -> AwayMarked:
    """Mark `starts_on..ends_on` away, merged with the person's overlapping or touching
    periods into one row."""
    require_acting_for(actor, slack_user_id or actor.slack_user_id)
    person = await _person(session, actor, slack_user_id)
    check_days(starts_on, ends_on, today=local_today(person, actor))
    near = list(
        (
            await session.execute(
                select(AwayPeriod)
                .where(
                    AwayPeriod.workspace_id == actor.workspace_id,
                    AwayPeriod.person_id == person.id,
                    AwayPeriod.starts_on <= ends_on + timedelta(days=1),
                    AwayPeriod.ends_on >= starts_on - timedelta(days=1),
                )
                .order_by(AwayPeriod.starts_on, AwayPeriod.id)
            )
        ).scalars()
    )
    for row in near:
        if row.starts_on <= starts_on and ends_on <= row.ends_on:
            return AwayMarked(person.slack_user_id, Away(row.starts_on, row.ends_on), False)
    first = min([starts_on, *(r.starts_on for r in near)])
    last = max([ends_on, *(r.ends_on for r in near)])
    if near:
        kept, merged = near[0], near[1:]
        kept.starts_on, kept.ends_on = first, last
        if merged:
            await session.execute(
                delete(AwayPeriod).where(AwayPeriod.id.in_([r.id for r in merged]))
            )
    else:
        kept = AwayPeriod(
            workspace_id=actor.workspace_id, person_id=person.id, starts_on=first, ends_on=last
        )
        session.add(kept)
    await session.flush()
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="away.mark",
        entity="away_period",
        entity_id=kept.id,
        source="command",
        actor_person_id=actor.person_id,
        changes={
            "person": person.slack_user_id,
            "asked": [starts_on.isoformat(), ends_on.isoformat()],
            "period": [first.isoformat(), last.isoformat()],
            "merged": [[r.starts_on.isoformat(), r.ends_on.isoformat()] for r in near],
        },
    )
    return AwayMarked(person.slack_user_id, Away(first, last), True)


async def _cancel_away(
    session: AsyncSession, *, actor: Actor, slack_user_id: str | None = None
) -> AwayCancelled:
    """Remove the person's current and coming away days; a current period is cut to end
    yesterday (their local day), so the past stays as it was."""
    require_acting_for(actor, slack_user_id or actor.slack_user_id)
    person = await _person(session, actor, slack_user_id)
    today = local_today(person, actor)
    removed: list[Away] = []
    for row in await _from_today(session, person, today):
        was = Away(row.starts_on, row.ends_on)
        removed.append(was)
        now: list[str] | None = None
        if row.starts_on < today:  # under way: the days already past stay away
            row.ends_on = today - timedelta(days=1)
            now = [row.starts_on.isoformat(), row.ends_on.isoformat()]
        else:
            await session.delete(row)
        await audit.record(
            session,
            workspace_id=actor.workspace_id,
            action="away.shorten" if now else "away.cancel",
            entity="away_period",
            entity_id=row.id,
            source="command",
            actor_person_id=actor.person_id,
            changes={
                "person": person.slack_user_id,
                "was": [was.starts_on.isoformat(), was.ends_on.isoformat()],
                "now": now,
            },
        )
    return AwayCancelled(person.slack_user_id, today, removed)


async def away_days(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, slack_user_id: str | None = None
) -> AwayDays:
    async with readers_for(sessions)() as session:
        return await _away_days(session, actor=actor, slack_user_id=slack_user_id)


async def mark_away(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    starts_on: date,
    ends_on: date,
    slack_user_id: str | None = None,
) -> AwayMarked:
    async with sessions.begin() as session:
        return await _mark_away(
            session, actor=actor, starts_on=starts_on, ends_on=ends_on, slack_user_id=slack_user_id
        )


async def cancel_away(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, slack_user_id: str | None = None
) -> AwayCancelled:
    async with sessions.begin() as session:
        return await _cancel_away(session, actor=actor, slack_user_id=slack_user_id)
