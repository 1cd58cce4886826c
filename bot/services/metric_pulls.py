"""Pulling a key result's source: what the pull runner reads before fetching (the source and
its secret, decrypted only here), and each pull's outcome recorded: a value through the one
check-in intake (source `pull`, the outbox key as `source_ref`, the round's period), or the
error beside the last good value, which stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.text import escape
from bot.models import Cycle, KeyResult, MetricSourceState, Objective, OutboxItem
from bot.models.checkin import CheckinSource
from bot.services.actors import Actor
from bot.services.intake import CheckinInput, record_checkin
from bot.services.metric_sources import ERROR_MAX, spec_of
from bot.slack.tokens import TokenCipher, TokenCipherError
from bot.sources.fetch import PullResult, SourceSpec


@dataclass(frozen=True)
class PullJob:
    """What the pull runner needs for one outbox row, read before any network call."""

    key: str
    workspace_id: int
    key_result_id: int
    period: str | None
    spec: SourceSpec | None
    secret: str | None
    error: str | None = None  # why it cannot be fetched (the secret no longer decrypts)


async def pull_job(session: AsyncSession, *, item: OutboxItem, cipher: TokenCipher) -> PullJob:
    """The source and secret for one pull row (the secret decrypted only here)."""
    kr_id = int(item.payload.get("key_result_id") or item.target)
    key_result = await session.get(KeyResult, kr_id)
    job = PullJob(item.idempotency_key, item.workspace_id, kr_id, item.period, None, None)
    if key_result is None or key_result.workspace_id != item.workspace_id:
        return job
    spec = spec_of(key_result)
    state = await session.get(MetricSourceState, key_result.id)
    try:
        secret = cipher.decrypt(state.secret) if state and state.secret else None
    except TokenCipherError:
        return PullJob(
            job.key, job.workspace_id, kr_id, job.period, spec, None,
            error="The source's secret no longer decrypts with TOKEN_ENCRYPTION_KEY: set it again.",
        )  # fmt: skip
    return PullJob(job.key, job.workspace_id, kr_id, job.period, spec, secret)


async def hold_batch(session: AsyncSession, *, key_result_ids: list[int]) -> list[object]:
    """Load a batch's key results, their objectives, cycles and source states in four
    statements; the caller keeps the list for the transaction, so the intake's lookups of
    them are answered from the session (its identity map holds only what is referenced)."""
    if not key_result_ids:
        return []
    held: list[object] = list(
        (await session.execute(select(KeyResult).where(KeyResult.id.in_(key_result_ids))))
        .scalars()
        .all()
    )
    objective_ids = {kr.objective_id for kr in held if isinstance(kr, KeyResult)}
    objectives = (
        (await session.execute(select(Objective).where(Objective.id.in_(objective_ids))))
        .scalars()
        .all()
    )
    held += objectives
    held += (
        (await session.execute(select(Cycle).where(Cycle.id.in_({o.cycle_id for o in objectives}))))
        .scalars()
        .all()
    )
    held += (
        (
            await session.execute(
                select(MetricSourceState).where(MetricSourceState.key_result_id.in_(key_result_ids))
            )
        )
        .scalars()
        .all()
    )
    return held


def number_text(value: float) -> str:
    """A pulled number as the value grammar reads it (no exponent, no sign)."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


async def record_pull(
    session: AsyncSession, *, job: PullJob, result: PullResult, now: datetime
) -> str | None:
    """Record a pull's value through the intake, or its error beside the last good value;
    returns the error (None when the value counted)."""
    key_result = await session.get(KeyResult, job.key_result_id)
    if key_result is None or key_result.workspace_id != job.workspace_id:
        return "The key result is gone."
    state = await session.get(MetricSourceState, key_result.id)
    error = result.error
    if error is None and result.value is not None:
        author = state.set_by_person_id if state else None
        error = await _record_value(session, key_result, author, job, result.value, now)
    if state is None:  # changed after the intake's reads, so they need no flush of it
        state = MetricSourceState(key_result_id=key_result.id, workspace_id=job.workspace_id)
        session.add(state)
    if error is not None:
        state.last_error = error[:ERROR_MAX]
        state.last_error_at = now
        return error
    state.last_value = result.value
    state.last_good_at = now
    state.last_error = None
    return None


async def _record_value(
    session: AsyncSession,
    key_result: KeyResult,
    set_by: int | None,
    job: PullJob,
    value: float,
    now: datetime,
) -> str | None:
    if value < 0:
        return f"The source gave {escape(repr(value))}: a negative value cannot be recorded."
    author = set_by or key_result.owner_person_id
    if author is None:
        return "Nobody is behind this source any more: set it again."
    actor = Actor(
        job.workspace_id,
        author,
        "",
        "facilitator",  # a source set by someone allowed to edit the key result pulls for it
        "UTC",
    )
    outcome = await record_checkin(
        session,
        checkin=CheckinInput(
            actor=actor,
            text=f"{key_result.ref} {number_text(value)}",
            source=CheckinSource.PULL,
            source_ref=job.key,
            at=now,
            period=job.period,
        ),
        now=now,
    )
    if outcome.recorded:
        return None
    if outcome.refused:
        return outcome.refused[0].reason
    return outcome.explanation or "The pulled value could not be recorded."
