"""What an outbox row posts, by kind, and where to look for it when its outcome is unknown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.retro import build_lessons
from bot.models import OutboxItem, Person, Team
from bot.models.outbox_keys import CEREMONY_KINDS, TEAM_CYCLE_KINDS, Kind
from bot.okr.cycle_end import NEXT_CYCLE_ASK
from bot.services import (
    carry_over_messages,
    company_digest,
    digest_chart,
    digests,
    grading_messages,
    lessons,
    notices,
    prompts,
    report,
    retro_messages,
    summary,
)
from bot.services.digest_chart import ChartPost
from bot.services.prompts import Composed

DIGEST_BLOCKS_FOR_LESSONS = 49  # a digest part already full keeps its size


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    """The message for a row, or None when it is no longer owed."""
    if item.kind in CEREMONY_KINDS:
        return await prompts.compose(session, item=item, now=now)
    if item.kind == Kind.NOTICE and item.payload.get("ask") == NEXT_CYCLE_ASK:
        return await carry_over_messages.compose_ask(session, item=item)
    if item.kind == Kind.NOTICE:
        return await notices.compose(session, item=item)
    if item.kind == Kind.REPORT:
        return await report.compose(session, item=item, now=now)
    if item.kind == Kind.DIGEST:
        return (await compose_all(session, items=[item], now=now))[0]
    if item.kind == Kind.COMPANY_DIGEST:
        return await company_digest.compose(session, item=item, now=now)
    if item.kind in (Kind.GRADING, Kind.GRADING_REMINDER):
        return await grading_messages.compose(session, item=item, now=now)
    if item.kind == Kind.RETRO:
        return await retro_messages.compose(session, item=item, now=now)
    if item.kind == Kind.SUMMARY:
        return await summary.compose(session, item=item, now=now)
    if item.kind == Kind.CARRY_OVER:
        return await carry_over_messages.compose(session, item=item, now=now)
    return None


async def compose_all(
    session: AsyncSession, *, items: Sequence[OutboxItem], now: datetime
) -> list[Composed | None]:
    """Each row's message, in order (as `compose`); a batch's digests are composed together,
    from one set of reads for all of them."""
    composed: list[Composed | None] = [None] * len(items)
    digest_rows = [n for n, item in enumerate(items) if item.kind == Kind.DIGEST]
    digest_items = [items[n] for n in digest_rows]
    together = await digests.compose_all(session, items=digest_items, now=now)
    said = await lessons.first_digest_lessons(session, items=digest_items)
    for n, found, (before, answers) in zip(digest_rows, together, said, strict=True):
        if found is not None and answers and len(found.blocks) < DIGEST_BLOCKS_FOR_LESSONS:
            # the team's first digest of a cycle opens with what it said it would change
            found = replace(found, blocks=[*build_lessons(before, answers), *found.blocks])
        composed[n] = found
    for n, item in enumerate(items):
        if item.kind != Kind.DIGEST:
            composed[n] = await compose(session, item=item, now=now)
    return composed


async def compose_chart(
    session: AsyncSession, *, item: OutboxItem, now: datetime, draw: bool = True
) -> ChartPost | None:
    """A digest chart row's post: the digest's thread, the file it holds, and the chart
    (None when no longer owed); `draw` False reads no chart (a duplicate check)."""
    return await digest_chart.compose(session, item=item, now=now, draw=draw)


async def history_channel(session: AsyncSession, *, item: OutboxItem) -> str | None:
    """The conversation whose history shows whether the row was posted (None: DM not known
    yet; the caller opens it)."""
    if item.kind in (Kind.PROMPT, Kind.DIGEST):
        team = await session.get(Team, int(item.payload["team_id"]))
        return team.channel_id if team else None
    if item.kind in TEAM_CYCLE_KINDS and item.payload.get("channel"):
        return str(item.payload["channel"])  # a retro poll or a summary
    if item.kind == Kind.COMPANY_DIGEST and item.payload.get("channel"):
        return str(item.payload["channel"])  # the company channel (else a facilitator's DM)
    person_id = item.payload.get("person_id")
    person = await session.get(Person, int(person_id)) if person_id is not None else None
    return person.im_channel_id if person else None
