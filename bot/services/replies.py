"""Check-ins from threaded replies and DMs: each line of a reply, read by `bot.okr.parse`,
becomes an append-only check-in row for the line's key result and the prompt's period.

An edit adds a revision (lines no longer there are retracted); a delete retracts every line.
A reply under a round that a newer one has replaced, or naming a key result that is not in
the message it answers, is explained; nothing is recorded for such lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.checkin import RecordedLine, RefusedLine
from bot.models import Checkin, KeyResult, Objective, Prompt, PromptLine, Team
from bot.okr.parse import ParsedReply, ReplyLine, Value, parse_reply
from bot.okr.progress import Direction, Kind, clamp, key_result_progress
from bot.repository.checkins import current_from
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.actors import Actor
from bot.services.errors import DomainError
from bot.services.inputs import NOTE_MAX
from bot.services.okr_lookup import key_result_by_ref
from bot.services.permissions import require_checkin
from bot.services.reading import measure_of

HOW_TO = "Reply with one line per key result, like `#1 45 conf 7 — shipped the beta`."


@dataclass
class ReplyOutcome:
    period: str = ""
    recorded: list[RecordedLine] = field(default_factory=list)
    refused: list[RefusedLine] = field(default_factory=list)
    explanation: str | None = None  # the whole message could not count, and why
    prompt: Prompt | None = None
    touched: set[tuple[int, str]] = field(default_factory=set)  # (key result, period) recorded
    retracted: set[tuple[int, str]] = field(default_factory=set)

    @property
    def anything(self) -> bool:
        return bool(self.recorded or self.refused or self.explanation)


async def prompt_for(
    session: AsyncSession,
    *,
    workspace_id: int,
    channel: str,
    thread_ts: str | None,
    person_id: int | None,
    is_dm: bool,
    message_ts: str | None = None,
) -> Prompt | None:
    """The prompt a message answers: its thread's parent, or in a DM the latest DM prompt
    posted before the message (so an edit still answers what the message first answered)."""
    if thread_ts:
        found = (
            await session.execute(
                select(Prompt).where(
                    Prompt.workspace_id == workspace_id,
                    Prompt.channel_id == channel,
                    Prompt.message_ts == thread_ts,
                )
            )
        ).scalar_one_or_none()
        if found is not None or not is_dm:
            return found
    if not is_dm or person_id is None:
        return None
    return (
        await session.execute(
            select(Prompt)
            .where(
                Prompt.workspace_id == workspace_id,
                Prompt.kind == "dm",
                Prompt.person_id == person_id,
                Prompt.channel_id == channel,
                *([Prompt.message_ts < message_ts] if message_ts else []),
            )
            .order_by(Prompt.message_ts.desc(), Prompt.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _newer(session: AsyncSession, prompt: Prompt) -> Prompt | None:
    same = (
        Prompt.team_id == prompt.team_id
        if prompt.kind == "round"
        else (Prompt.person_id == prompt.person_id)
    )
    return (
        await session.execute(
            select(Prompt)
            .where(
                Prompt.workspace_id == prompt.workspace_id,
                Prompt.kind == prompt.kind,
                same,
                Prompt.period > prompt.period,
            )
            .order_by(Prompt.period.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def _resolve_value(value: Value, kr: KeyResult, base: float | None) -> float:
    if value.done:
        if kr.kind != Kind.MILESTONE:
            raise DomainError(f"`done` is for milestones; {kr.ref} needs a number.")
        return kr.target_value
    if value.percent and kr.kind != Kind.PERCENT:
        raise DomainError(f"{kr.ref} is counted in {kr.unit or 'numbers'}, not in %.")
    if value.relative:
        return (base if base is not None else kr.start_value) + value.number
    return value.number


async def _base_value(session: AsyncSession, kr: KeyResult, source_ref: str) -> float | None:
    rows = (
        await session.execute(
            select(Checkin).where(
                Checkin.workspace_id == kr.workspace_id,
                Checkin.key_result_id == kr.id,
                Checkin.source_ref != source_ref,
            )
        )
    ).scalars()
    current = current_from(list(rows))
    return current.value if current else None


async def _line_target(
    session: AsyncSession, actor: Actor, prompt: Prompt, line: ReplyLine
) -> tuple[KeyResult, str]:
    lines = {
        row.line_no: row
        for row in (
            await session.execute(select(PromptLine).where(PromptLine.prompt_id == prompt.id))
        ).scalars()
    }
    if line.name.line_no is not None:
        chosen = lines.get(line.name.line_no)
        if chosen is None:
            raise DomainError(
                f"This check-in has lines 1–{len(lines)}; there is no line {line.name.line_no}."
            )
        kr = await session.get(KeyResult, chosen.key_result_id)
        assert kr is not None
        return kr, chosen.period
    kr = await key_result_by_ref(session, actor=actor, ref=line.name.ref or "")
    for row in lines.values():
        if row.key_result_id == kr.id:
            return kr, row.period
    objective = await session.get(Objective, kr.objective_id)
    team = await session.get(Team, objective.team_id) if objective and objective.team_id else None
    where = f" (it checks in with {team.name})" if team else ""
    raise DomainError(
        f"{kr.ref} is not in this check-in{where}. Answer its own prompt, or use "
        f"`/okr update {kr.ref} <value>`."
    )


async def record_reply(
    session: AsyncSession,
    *,
    actor: Actor,
    prompt: Prompt,
    text: str,
    source_ref: str,
    revision: str,
    now: datetime,
) -> ReplyOutcome:
    """Record every readable line of a reply (or an edit of one, `revision` = its edit ts)."""
    outcome = ReplyOutcome(period=prompt.period, prompt=prompt)
    newer = await _newer(session, prompt)
    parsed: ParsedReply = parse_reply(text)
    source = "thread" if prompt.kind == "round" else "dm"
    if not parsed.is_checkin:
        if revision:  # edited into something else: what it said no longer counts
            outcome.retracted = await retract(
                session, workspace_id=actor.workspace_id, author=actor.person_id, source=source,
                source_ref=source_ref, revision=revision, now=now,
            )  # fmt: skip
        elif prompt.kind == "dm":
            outcome.explanation = f"I could not find a key result in that. {HOW_TO}"
        return outcome
    if newer is not None and not revision:  # an edit corrects what was already counted
        outcome.explanation = (
            f"This is the {prompt.period} check-in, which has been replaced by {newer.period}'s: "
            "please answer the newest one. Nothing was recorded."
        )
        return outcome
    touched: set[tuple[int, str]] = set()
    for line in parsed.lines:
        try:
            kr, period = await _line_target(session, actor, prompt, line)
            await _record_line(
                session, actor=actor, kr=kr, period=period, line=line, source=source,
                source_ref=source_ref, revision=revision, now=now, outcome=outcome,
            )  # fmt: skip
            touched.add((kr.id, period))
        except DomainError as exc:
            outcome.refused.append(RefusedLine(line.text, str(exc)))
    for bad in parsed.unreadable:
        outcome.refused.append(RefusedLine(bad.text, bad.reason, bad.example))
    outcome.touched = touched
    if revision:
        outcome.retracted = await retract(
            session, workspace_id=actor.workspace_id, author=actor.person_id, source=source,
            source_ref=source_ref, revision=revision, now=now, keep=touched,
        )  # fmt: skip
    return outcome


async def _record_line(
    session: AsyncSession,
    *,
    actor: Actor,
    kr: KeyResult,
    period: str,
    line: ReplyLine,
    source: str,
    source_ref: str,
    revision: str,
    now: datetime,
    outcome: ReplyOutcome,
) -> None:
    objective = await session.get(Objective, kr.objective_id)
    assert objective is not None
    team = await session.get(Team, objective.team_id) if objective.team_id else None
    require_checkin(
        actor, owner=kr.owner_person_id, team_lead=team.lead_person_id if team else None,
        what=kr.ref,
    )  # fmt: skip
    if kr.state != "active" or objective.state != "active":
        raise DomainError(f"{kr.ref} is archived; there is nothing to check in.")
    base = await _base_value(session, kr, source_ref)
    if line.value is not None:
        value = _resolve_value(line.value, kr, base)
    elif base is not None:
        value = base  # a status or confidence alone keeps the value
    else:
        raise DomainError(f"{kr.ref} has no value yet: give one, like `{kr.ref} 45`.")
    note = (line.note or "").strip()[:NOTE_MAX] or None
    await session.execute(
        insert_ignoring_conflicts(
            session,
            Checkin,
            {
                "workspace_id": kr.workspace_id,
                "key_result_id": kr.id,
                "period": period,
                "value": value,
                "confidence": line.confidence,
                "status": line.status.value if line.status else None,
                "note": note,
                "author_person_id": actor.person_id,
                "recorded_at": now,
                "source": source,
                "source_ref": source_ref,
                "revision": revision,
                "retraction": False,
            },
            conflict_columns=["key_result_id", "period", "source", "source_ref", "revision"],
        )
    )
    measure = measure_of(kr)
    progress = (
        None
        if measure.direction is Direction.HOLD
        else clamp(key_result_progress(measure, [value]))
    )
    outcome.recorded.append(
        RecordedLine(
            kr.ref,
            value,
            kr.unit,
            progress,
            line.status.value if line.status else None,
            line.confidence,
        )  # fmt: skip
    )


async def retract(
    session: AsyncSession,
    *,
    workspace_id: int,
    author: int | None,
    source: str,
    source_ref: str,
    revision: str,
    now: datetime,
    keep: set[tuple[int, str]] | None = None,
) -> set[tuple[int, str]]:
    """Retraction rows for every (key result, period) the message recorded, except `keep`;
    returns those retracted."""
    earlier = {
        (kr, period)
        for kr, period in await session.execute(
            select(Checkin.key_result_id, Checkin.period).where(
                Checkin.workspace_id == workspace_id,
                Checkin.source == source,
                Checkin.source_ref == source_ref,
                Checkin.retraction.is_(False),
            )
        )
    } - (keep or set())
    for kr, period in sorted(earlier):
        await session.execute(
            insert_ignoring_conflicts(
                session,
                Checkin,
                {
                    "workspace_id": workspace_id,
                    "key_result_id": kr,
                    "period": period,
                    "value": None,
                    "author_person_id": author,
                    "recorded_at": now,
                    "source": source,
                    "source_ref": source_ref,
                    "revision": revision,
                    "retraction": True,
                },
                conflict_columns=["key_result_id", "period", "source", "source_ref", "revision"],
            )
        )
    return earlier
