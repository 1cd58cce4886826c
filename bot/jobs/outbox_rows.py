"""The outbox sender's working data: what a claim is, what a batch will send (read in one
session for the whole batch), and the figures a run leaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxItem, Workspace
from bot.models.outbox_keys import Kind
from bot.services import deliveries, prompt_prefetch
from bot.services.digest_chart import ChartPost
from bot.services.prompts import Composed
from bot.services.updates import UpdateMessage, compose_update

VERIFY = "verify_no_duplicate"  # error marker: sent without a readable history; check later


@dataclass
class SendStats:
    sent: int = 0
    reconciled: int = 0  # found already posted: no second post
    duplicates_deleted: int = 0
    cancelled: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    id: int
    workspace_id: int
    kind: str
    reconcile: bool
    lease_until: datetime
    step: int


@dataclass(frozen=True)
class Prepared:
    key: str
    verify: bool
    sent_channel: str | None
    sent_ts: str | None
    update: UpdateMessage | None
    composed: Composed | None
    channel_hint: str | None
    period: str = ""
    person_id: int | None = None
    team_id: int | None = None
    im_channel: str | None = None  # the person's DM channel, as known now
    chart: ChartPost | None = None  # a digest chart row's post (`jobs.chart_send`)


async def claim_rows(
    session: AsyncSession, *, now: datetime, lease: datetime, held: list[int], batch: int
) -> list[Claim]:
    """Claim up to `batch` ready rows (the caller commits before calling Slack): due ones,
    leases run out, outcomes unknown, and sent rows whose duplicate check is due. Paused and
    rate-held workspaces wait; on PostgreSQL, rows other senders hold are skipped."""
    retry = OutboxItem.state.in_(("pending", "uncertain"))
    verify = and_(OutboxItem.state == "sent", OutboxItem.error == VERIFY)
    ready = and_(
        or_(
            and_(retry, OutboxItem.next_attempt_at <= now),
            and_(OutboxItem.state == "sending", OutboxItem.lease_until < now),
            and_(verify, OutboxItem.next_attempt_at <= now),
        ),
        OutboxItem.kind != Kind.PULL,  # metric pulls have their own runner (`jobs.pulls`)
    )
    acting = or_(Workspace.paused_until.is_(None), Workspace.paused_until <= now)
    order = (OutboxItem.priority, OutboxItem.next_attempt_at, OutboxItem.id)
    # Workspaces take turns: each one's first row, then each one's second... so a workspace
    # with a big queue (or a slow budget) never makes another wait behind all of it.
    ranked = (
        select(
            OutboxItem.id.label("id"),
            func.row_number()
            .over(partition_by=OutboxItem.workspace_id, order_by=order)
            .label("turn"),
        )
        .join(Workspace, Workspace.id == OutboxItem.workspace_id)
        .where(ready, Workspace.state == "active", acting)
    )
    if held:
        ranked = ranked.where(OutboxItem.workspace_id.not_in(held))
    turns = ranked.subquery()
    query = (
        select(OutboxItem)
        .join(turns, turns.c.id == OutboxItem.id)
        # Again on the row itself: when another sender has just claimed it, PostgreSQL
        # re-checks these conditions on the row's newest version before locking it (the
        # subquery's view would still call it ready).
        .where(ready)
        .order_by(turns.c.turn, *order)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=OutboxItem, skip_locked=True)
    claims: list[Claim] = []
    sending: list[int] = []
    checking: list[int] = []
    for row in (await session.execute(query)).scalars():
        check = row.state == "sent"
        reconcile = row.state in ("sending", "uncertain") or check
        (checking if check else sending).append(row.id)
        claims.append(Claim(row.id, row.workspace_id, row.kind, reconcile, lease, row.step))
    # The batch's claims in two statements (the rows are locked on PostgreSQL; on SQLite this
    # transaction is the only writer), not one UPDATE per row.
    if sending:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(sending))
            .values(state="sending", attempts=OutboxItem.attempts + 1, lease_until=lease)
            .execution_options(synchronize_session=False)
        )
    if checking:  # a duplicate check: not picked again while this sender checks
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(checking))
            .values(lease_until=lease, next_attempt_at=lease)
            .execution_options(synchronize_session=False)
        )
    return claims


async def prepare(session: AsyncSession, claims: list[Claim], now: datetime) -> dict[int, Prepared]:
    """What each claimed row will send, read in one session for the whole batch."""
    prepared: dict[int, Prepared] = {}
    rows = {
        row.id: row
        for row in (
            await session.execute(
                select(OutboxItem).where(OutboxItem.id.in_([c.id for c in claims]))
            )
        ).scalars()
    }
    await prompt_prefetch.prefetch(session, list(rows.values()))
    # What each row posts, composed together: the batch's digests share one set of reads.
    posting = [
        row
        for claim in claims
        if (row := rows.get(claim.id)) is not None
        and claim.kind != Kind.UPDATE
        and not (row.state == "sent" and row.error == VERIFY)
    ]
    messages = dict(
        zip(
            [row.id for row in posting],
            await deliveries.compose_all(session, items=posting, now=now),
            strict=True,
        )
    )
    for claim in claims:
        row = rows.get(claim.id)
        if row is None:
            continue
        verify = row.state == "sent" and row.error == VERIFY
        person_id = _int_or_none(row.payload.get("person_id"))
        prepared[claim.id] = Prepared(
            key=row.idempotency_key,
            verify=verify,
            sent_channel=row.slack_channel,
            sent_ts=row.slack_ts,
            update=await compose_update(session, item=row) if claim.kind == Kind.UPDATE else None,
            composed=messages.get(row.id),
            channel_hint=(
                await deliveries.history_channel(session, item=row) if claim.reconcile else None
            ),
            period=row.period or "",
            person_id=person_id,
            team_id=_int_or_none(row.payload.get("team_id")),
            im_channel=prompt_prefetch.im_channel(session, person_id),
            chart=(
                await deliveries.compose_chart(session, item=row, now=now, draw=not verify)
                if claim.kind == Kind.CHART
                else None
            ),
        )
    return prepared


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None
