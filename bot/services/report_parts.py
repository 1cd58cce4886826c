"""Parts of the facilitator's report (`bot.services.report`): quality findings from the OKR
lint, per objective with refs, and delivery problems read from the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.report import Failed, Finding, Unchecked
from bot.models import Cycle, KeyResult, Objective, OutboxItem
from bot.models.outbox_keys import Kind
from bot.okr import lint
from bot.okr.period import label

FAILED_SINCE = timedelta(days=7)  # failed deliveries this recent are shown
SWEEP_WEEKS = 2  # the DM sweep's unreadable DMs of this many latest weeks are shown

PROBLEMS = {  # okr.lint's codes, as a short phrase a facilitator scans
    "number_in_objective": "a number in the objective",
    "too_few_key_results": "too few key results",
    "too_many_key_results": "too many key results",
    "no_owner": "no owner",
    "not_aligned": "not aligned to a company objective",
    "date_outside_cycle": "a date outside the cycle",
    "activity": "reads like an activity",
    "no_target": "no measurable target",
    "kr_no_owner": "no owner",
}


def findings(
    objectives: Sequence[Objective], key_results: Sequence[KeyResult], cycle: Cycle
) -> tuple[Finding, ...]:
    by_objective: dict[int, list[KeyResult]] = {}
    for kr in key_results:
        by_objective.setdefault(kr.objective_id, []).append(kr)
    found = []
    for objective in objectives:
        krs = by_objective.get(objective.id, [])
        facts = [
            lint.KeyResultFacts(
                kr.title, kr.kind, kr.start_value, kr.target_value, kr.owner_person_id is not None
            )  # fmt: skip
            for kr in krs
        ]
        everything = lint.lint_objective(
            lint.ObjectiveFacts(
                objective.title,
                objective.level,
                objective.owner_person_id is not None,
                objective.parent_objective_id is not None,
                facts,
                cycle.starts_on,
                cycle.ends_on,
            )  # fmt: skip
        )
        per_kr = [
            (kr.ref, lint.lint_key_result(f, starts_on=cycle.starts_on, ends_on=cycle.ends_on))
            for kr, f in zip(krs, facts, strict=True)
        ]
        # lint_objective ends with its key results' warnings: the rest are the objective's own.
        own = everything[: len(everything) - sum(len(w) for _, w in per_kr)]
        problems = [PROBLEMS.get(w.code, w.code) for w in own]
        problems += [f"{ref}: {PROBLEMS.get(w.code, w.code)}" for ref, ws in per_kr for w in ws]
        if problems:
            found.append(Finding(objective.ref, objective.title, tuple(problems)))
    return tuple(found)


async def delivery_problems(
    session: AsyncSession, *, workspace_id: int, now: datetime, tz: ZoneInfo, who: dict[int, str]
) -> tuple[tuple[Failed, ...], tuple[Unchecked, ...]]:
    """Failed deliveries of the last week by kind and error, and the DM sweep's unreadable
    DMs of the latest weeks."""
    failed = tuple(
        Failed(kind, error or "unknown", int(n), last)
        for kind, error, n, last in await session.execute(
            select(OutboxItem.kind, OutboxItem.error, func.count(), func.max(OutboxItem.updated_at))
            .where(
                OutboxItem.workspace_id == workspace_id,
                OutboxItem.state == "failed",
                OutboxItem.updated_at >= now - FAILED_SINCE,
            )
            .group_by(OutboxItem.kind, OutboxItem.error)
            .order_by(func.count().desc(), OutboxItem.kind)
        )
    )
    weeks = [label((now - timedelta(days=7 * n)).astimezone(tz).date()) for n in range(SWEEP_WEEKS)]
    unchecked = []
    rows = await session.execute(
        select(OutboxItem.period, OutboxItem.payload)
        .where(
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.kind == Kind.DM,
            OutboxItem.period.in_(weeks),
        )
        .order_by(OutboxItem.period.desc(), OutboxItem.id)
    )
    for period, payload in rows:
        reason = (payload or {}).get("sweep_unchecked")
        person = who.get(int((payload or {}).get("person_id") or 0))
        if reason and person:
            unchecked.append(Unchecked(person, period or "", str(reason)))
    return failed, tuple(unchecked)
