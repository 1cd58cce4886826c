"""The one check-in intake. Every way a value arrives (`/okr update`, the check-in form, a
thread reply, a DM reply, an edit, a delete; later the push API, a metric pull, an import)
builds a `CheckinInput` and calls `record_checkin`, which reads the text with the one
grammar (`okr/parse.py`), finds each line's key result and period with the one round rule,
checks the one permission rule and the cycle (`services/checkin_targets.py`), inserts through
one repository function and arms the prompt's refresh. A new source adds a name, not a path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.checkin import RecordedLine, RefusedLine
from bot.blocks.text import escape
from bot.models import Prompt
from bot.models.checkin import CheckinSource
from bot.okr.numbers import NumberProblem, resolve_value
from bot.okr.parse import KeyResultName, ParsedReply, ReplyLine, parse_reply
from bot.okr.progress import CONFIDENCE_MAX, CONFIDENCE_MIN, Direction, Status, clamp
from bot.okr.progress import key_result_progress as progress_of
from bot.repository.checkins import (
    CheckinRow,
    CurrentValue,
    current_values,
    insert_checkins,
    recorded_by,
)
from bot.services.actors import Actor
from bot.services.checkin_targets import Target, prompt_lines, target_of
from bot.services.errors import DomainError, Invalid
from bot.services.inputs import CONTROL_CHARACTERS, NOTE_MAX
from bot.services.reading import measure_of
from bot.services.updates import refresh_rounds

HOW_TO = "Reply with one line per key result, like `#1 45 conf 7 — shipped the beta`."
TEXT_MAX = 4000  # a line of `/okr update` or a form's value box; a reply is bounded by Slack


Source = CheckinSource  # where a check-in came from (the `checkin.source` column)


@dataclass(frozen=True, kw_only=True)
class CheckinInput:
    """One action of one person: a message, an edit, a delete, a command or a form row.

    `text` is what they typed, each line starting with its key result (`KR12`, or `#2` for
    line 2 of the message answered): a whole reply, `/okr update`'s `KR12 45 …`, or a form
    row's `KR12 <value box>`. A form's own fields (`confidence`, `status`, `note`) win over
    what the text says. `at` is when the person did it (Slack's timestamp where there is one).
    """

    actor: Actor
    text: str
    source: Source
    source_ref: str
    at: datetime
    revision: str = ""  # an edit's timestamp; "" for the first version
    prompt: Prompt | None = None  # the check-in message answered, for its lines and periods
    period: str | None = None  # a form opened from a prompt's button records to its period
    confidence: int | None = None
    status: str | None = None
    note: str | None = None
    retraction: bool = False  # a delete: withdraw everything `source_ref` recorded
    keep_value: str | None = None  # a form row with no new value: this key result keeps its
    # current one (its box was empty, or sent as shown); `text` is not read then
    api_token_id: int | None = None  # pushed through the API: the token that sent it


@dataclass
class IntakeOutcome:
    period: str = ""
    recorded: list[RecordedLine] = field(default_factory=list)
    refused: list[RefusedLine] = field(default_factory=list)
    explanation: str | None = None  # nothing could count, and why
    touched: set[tuple[int, str]] = field(default_factory=set)  # (key result, period)
    retracted: set[tuple[int, str]] = field(default_factory=set)

    @property
    def anything(self) -> bool:
        return bool(self.recorded or self.refused or self.explanation)


async def check_in(
    sessions: async_sessionmaker[AsyncSession], *, checkin: CheckinInput
) -> IntakeOutcome:
    """`record_checkin` in a transaction of its own (a command's one line)."""
    async with sessions.begin() as session:
        return await record_checkin(session, checkin=checkin, now=checkin.at)


async def record_checkin(
    session: AsyncSession, *, checkin: CheckinInput, now: datetime, refresh_every: float = 30.0
) -> IntakeOutcome:
    """Record every readable line of `checkin` in the caller's transaction; say why for the
    rest. Repeating the same input (Slack's retries, a double submit) records nothing new."""
    outcome = IntakeOutcome(period=checkin.prompt.period if checkin.prompt else "")
    if checkin.retraction:
        outcome.retracted = await _retract(session, checkin, keep=set())
    else:
        await _record(session, checkin, outcome)
    if outcome.touched or outcome.retracted:
        await refresh_rounds(
            session,
            workspace_id=checkin.actor.workspace_id,
            lines=outcome.touched | outcome.retracted,
            now=now,
            every_seconds=refresh_every,
        )
    return outcome


async def _record(session: AsyncSession, checkin: CheckinInput, outcome: IntakeOutcome) -> None:
    if len(checkin.text) > TEXT_MAX and checkin.source in (Source.COMMAND, Source.MODAL):
        outcome.explanation = f"That is {len(checkin.text)} characters; keep it to {TEXT_MAX}."
        return
    parsed = _kept(checkin.keep_value) if checkin.keep_value else parse_reply(checkin.text)
    if parsed.too_long and parsed.is_checkin:
        outcome.explanation = parsed.too_long
        return
    if not parsed.is_checkin:
        if checkin.revision:  # edited into something else: what it said no longer counts
            outcome.retracted = await _retract(session, checkin, keep=set())
        elif checkin.source is Source.COMMAND:
            word = (checkin.text.split() or [""])[0][:40]
            outcome.explanation = (
                f"`{escape(word)}` is not a key result: start with one, like "
                "`/okr update KR12 45 conf 7 — shipped the beta`."
            )
        elif checkin.source is not Source.THREAD:
            outcome.explanation = f"I could not find a key result in that. {HOW_TO}"
        return
    if checkin.prompt is not None and not checkin.revision:  # an edit still corrects it
        outcome.explanation = await replaced(session, checkin.prompt)
        if outcome.explanation:
            return
    lines = await prompt_lines(session, checkin.prompt) if checkin.prompt else {}
    targets: list[tuple[ReplyLine, Target]] = []
    for line in parsed.lines:
        try:
            targets.append((line, await target_of(
                session, actor=checkin.actor, name=line.name, prompt=checkin.prompt,
                lines=lines, period=checkin.period, at=checkin.at,
            )))  # fmt: skip
        except DomainError as exc:
            outcome.refused.append(RefusedLine(line.text, str(exc)))
    bases = await current_values(  # one load for the whole reply, without its own rows
        session,
        workspace_id=checkin.actor.workspace_id,
        key_result_ids={target.key_result.id for _, target in targets},
        excluding_source_ref=checkin.source_ref,
    )
    rows: list[CheckinRow] = []
    for line, target in targets:
        try:
            base = bases.get(target.key_result.id)
            rows.append(_row(checkin, target, line, base, outcome))
        except DomainError as exc:
            outcome.refused.append(RefusedLine(line.text, str(exc)))
    for bad in parsed.unreadable:
        outcome.refused.append(RefusedLine(bad.text, bad.reason, bad.example))
    await insert_checkins(session, rows)
    outcome.touched = {(row.key_result_id, row.period) for row in rows}
    if not outcome.period and rows:
        outcome.period = rows[0].period
    if checkin.revision:
        outcome.retracted = await _retract(session, checkin, keep=outcome.touched)


def _row(
    checkin: CheckinInput,
    target: Target,
    line: ReplyLine,
    base: CurrentValue | None,
    outcome: IntakeOutcome,
) -> CheckinRow:
    """The row for one line; a line that cannot count raises a `DomainError` saying why.
    `base` is the key result's value before this message (a change counts from it)."""
    kr = target.key_result
    confidence = checkin.confidence if checkin.confidence is not None else line.confidence
    status = checkin.status or (line.status.value if line.status else None)
    _check_confidence_and_status(confidence, status)
    if line.value is not None:
        try:
            value = resolve_value(line.value, target.scale, current=base.value if base else None)
        except NumberProblem as problem:
            raise Invalid(problem.reason) from None
    elif base is not None:
        value = base.value  # a status or confidence alone keeps the value
    else:
        raise Invalid(f"{kr.ref} has no value yet: give one, like `{kr.ref} 45`.")
    note = _note(checkin.note if checkin.note is not None else line.note)
    measure = measure_of(kr)
    progress = None if measure.direction is Direction.HOLD else clamp(progress_of(measure, [value]))
    outcome.recorded.append(
        RecordedLine(
            kr.ref, value, kr.unit, progress, status, confidence, kr.title, kr.target_value
        )
    )
    return CheckinRow(
        workspace_id=kr.workspace_id,
        key_result_id=kr.id,
        period=target.period,
        value=value,
        confidence=confidence,
        status=status,
        note=note,
        author_person_id=checkin.actor.person_id,
        recorded_at=checkin.at,
        source=checkin.source,
        source_ref=checkin.source_ref,
        revision=checkin.revision,
        api_token_id=checkin.api_token_id,
    )


def _kept(ref: str) -> ParsedReply:
    """The line of a form row whose value stays as it is (the grammar needs a value)."""
    line = ReplyLine(
        line=1, text=ref, name=KeyResultName(ref=ref), value=None, status=None, confidence=None,
        note=None,
    )  # fmt: skip
    return ParsedReply(lines=(line,), unreadable=())


def _check_confidence_and_status(confidence: int | None, status: str | None) -> None:
    if confidence is not None and not CONFIDENCE_MIN <= confidence <= CONFIDENCE_MAX:
        raise Invalid("Confidence goes from 0 (no chance) to 10 (certain).", field="confidence")
    if status is not None and status not in {s.value for s in Status}:
        raise Invalid("Pick on track, at risk or off track.", field="status")


def _note(text: str | None) -> str | None:
    """A note as kept (control characters dropped); one too long is refused, never cut."""
    note = CONTROL_CHARACTERS.sub("", text or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"The note has {len(note)} characters; keep it to {NOTE_MAX}.", field="note")
    return note or None


async def replaced(session: AsyncSession, prompt: Prompt) -> str | None:
    """Why a new answer to `prompt` cannot count, when a later round (or week's DM) has
    replaced the one it opened; None while it is the newest."""
    newer = await _newer(session, prompt)
    if newer is None:
        return None
    return (
        f"This is the {prompt.period} check-in, which has been replaced by {newer.period}'s: "
        "please answer the newest one. Nothing was recorded."
    )


async def _newer(session: AsyncSession, prompt: Prompt) -> Prompt | None:
    """A later round (or week's DM) that replaced the one `prompt` opened."""
    same = Prompt.team_id == prompt.team_id if prompt.kind == "round" else (
        Prompt.person_id == prompt.person_id
    )  # fmt: skip
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


async def _retract(
    session: AsyncSession, checkin: CheckinInput, *, keep: set[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Retraction rows for what `source_ref` recorded, except `keep`; returns those withdrawn."""
    workspace_id = checkin.actor.workspace_id
    earlier = await recorded_by(
        session, workspace_id=workspace_id, source=checkin.source, source_ref=checkin.source_ref
    )
    withdrawn = earlier - keep
    await insert_checkins(
        session,
        [
            CheckinRow(
                workspace_id=workspace_id,
                key_result_id=kr,
                period=period,
                value=None,
                author_person_id=checkin.actor.person_id,
                recorded_at=checkin.at,
                source=checkin.source,
                source_ref=checkin.source_ref,
                revision=checkin.revision,
                retraction=True,
            )
            for kr, period in sorted(withdrawn)
        ],
    )
    return withdrawn
