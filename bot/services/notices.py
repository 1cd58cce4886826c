"""Telling people when a delivery fails for good: the team's lead (for a person's DM, the
lead of their team) and a facilitator, so someone can fix what only a person can."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape, section
from bot.models import OutboxItem, Person, Team, TeamMember
from bot.models.outbox_keys import Kind, notice_key, priority
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.prompts import Composed
from bot.slack.errors import Classified

GONE = ("user_not_found", "user_disabled")


async def _facilitator(session: AsyncSession, workspace_id: int) -> int | None:
    return (
        await session.execute(
            select(Person.id)
            .where(
                Person.workspace_id == workspace_id,
                Person.role.in_(("facilitator", "admin")),
                Person.is_deactivated.is_(False),
            )
            .order_by(Person.role.desc(), Person.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def _lead_of_person(session: AsyncSession, workspace_id: int, person_id: int) -> int | None:
    return (
        await session.execute(
            select(Team.lead_person_id)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(
                Team.workspace_id == workspace_id,
                TeamMember.person_id == person_id,
                Team.lead_person_id.is_not(None),
                Team.lead_person_id != person_id,
            )
            .order_by(TeamMember.joined_at)
            .limit(1)
        )
    ).scalar_one_or_none()


async def report(
    session: AsyncSession, *, item: OutboxItem, failure: Classified, now: datetime
) -> None:
    """Record what cannot be delivered and queue one notice a day per target and error."""
    recipient: int | None = None
    if item.kind == Kind.PROMPT:
        team = await session.get(Team, int(item.payload["team_id"]))
        if team is None:
            return
        team.needs_attention = f"check-in prompt not delivered: {failure.explanation}"[:200]
        what = f"the weekly check-in prompt for *{escape(team.name)}* (<#{team.channel_id}>)"
        recipient = team.lead_person_id
    elif item.kind in (Kind.DM, Kind.REMINDER):
        person = await session.get(Person, int(item.payload["person_id"]))
        if person is None:
            return
        if failure.error in GONE:
            person.is_deactivated = True
        what = f"the weekly check-in DM to <@{person.slack_user_id}>"
        recipient = await _lead_of_person(session, item.workspace_id, person.id)
    else:
        return  # notices and updates are not reported again
    recipients = {r for r in (recipient, await _facilitator(session, item.workspace_id)) if r}
    if not recipients:
        return
    text = (
        f":warning: I could not deliver {what}: {escape(failure.explanation)}. "
        "Nothing else was affected; fix it and the next round goes out as usual."
    )
    for person_id in sorted(recipients):
        await _queue_notice(session, item=item, failure=failure, now=now, to=person_id, text=text)


async def _queue_notice(
    session: AsyncSession,
    *,
    item: OutboxItem,
    failure: Classified,
    now: datetime,
    to: int,
    text: str,
) -> None:
    """One notice a day per failed target, error and person told."""
    key = notice_key(item.workspace_id, item.target, failure.error, now.date(), to)
    await session.execute(
        insert_ignoring_conflicts(
            session,
            OutboxItem,
            {
                "workspace_id": item.workspace_id,
                "kind": Kind.NOTICE,
                "idempotency_key": key,
                "target": str(to),
                "period": item.period,
                "priority": priority(Kind.NOTICE),
                "state": "pending",
                "payload": {"person_id": to, "text": text},
                "attempts": 0,
                "next_attempt_at": now,
            },
            conflict_columns=["idempotency_key"],
        )
    )


async def compose(session: AsyncSession, *, item: OutboxItem) -> Composed | None:
    person = await session.get(Person, int(item.payload["person_id"]))
    if person is None or person.is_deactivated:
        return None
    text = str(item.payload.get("text") or "")
    return Composed(person.slack_user_id, text, [section(text)], (), person_id=person.id)
