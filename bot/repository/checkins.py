"""Reading check-ins: the current value of key results, by DESIGN.md's rule."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Checkin, KeyResult
from bot.repository.ids import among
from bot.repository.upsert import insert_ignoring_conflicts


@dataclass(frozen=True)
class CurrentValue:
    value: float
    confidence: int | None
    period: str
    recorded_at: datetime
    status: str | None = None  # the status reported for the period, if any
    note: str | None = None
    source: str | None = None  # where the value came from (`checkin.source`)


PULLED = "pull"  # `CheckinSource.PULL`: a value fetched from the key result's source


class CheckinLike(Protocol):
    """What reading a value needs of a check-in row: a loaded `Checkin` or `CheckinFacts`."""

    @property
    def id(self) -> int: ...
    @property
    def key_result_id(self) -> int: ...
    @property
    def period(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def confidence(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def source(self) -> str: ...
    @property
    def source_ref(self) -> str: ...
    @property
    def retraction(self) -> bool: ...


class CheckinFacts(NamedTuple):
    """A check-in's columns that reading values needs, as a plain row: screens that read
    thousands of them (digests) skip building an ORM object for each."""

    id: int
    key_result_id: int
    period: str
    value: float | None
    confidence: int | None
    status: str | None
    note: str | None
    recorded_at: datetime
    source: str
    source_ref: str
    retraction: bool


_FACTS = (
    Checkin.id,
    Checkin.key_result_id,
    Checkin.period,
    Checkin.value,
    Checkin.confidence,
    Checkin.status,
    Checkin.note,
    Checkin.recorded_at,
    Checkin.source,
    Checkin.source_ref,
    Checkin.retraction,
)


def value_for_period(rows: Sequence[CheckinLike]) -> CurrentValue | None:
    """One period's value: the newest row (recorded_at, then id) whose source_ref has no
    later retraction, a value a person gave (typed or pushed) winning over a pulled one
    whatever their order; a missing confidence, status or note carries over from earlier
    rows of the period (a status reported in a check-in holds for its week)."""
    retracted: set[tuple[str, str]] = set()
    given: CheckinLike | None = None
    pulled: CheckinLike | None = None
    confidence: int | None = None
    status: str | None = None
    note: str | None = None
    for row in sorted(rows, key=lambda r: (r.recorded_at, r.id), reverse=True):
        key = (row.source, row.source_ref)
        if row.retraction:
            retracted.add(key)
            continue
        if key in retracted or row.value is None:
            continue
        if row.source == PULLED:
            pulled = pulled or row
        else:
            given = given or row
        if confidence is None and row.confidence is not None:
            confidence = row.confidence
        if status is None and row.status:
            status = row.status
        if note is None and row.note:
            note = row.note
    chosen = given or pulled
    if chosen is None or chosen.value is None:
        return None
    return CurrentValue(
        chosen.value,
        confidence,
        chosen.period,
        chosen.recorded_at,
        status=status,
        note=note,
        source=chosen.source,
    )


def periods_with_values(
    rows: Iterable[Checkin], *, only: set[tuple[int, str]] | None = None
) -> set[tuple[int, str]]:
    """The (key result, period) pairs among `rows` that have a value (retractions applied),
    optionally only those in `only`."""
    grouped: dict[tuple[int, str], list[Checkin]] = {}
    for row in rows:
        key = (row.key_result_id, row.period)
        if only is None or key in only:
            grouped.setdefault(key, []).append(row)
    return {key for key, found in grouped.items() if value_for_period(found) is not None}


def current_from(rows: Sequence[Checkin]) -> CurrentValue | None:
    """The value of the latest period that has one (a late answer to an older round does not
    replace this week's)."""
    by_period: dict[str, list[Checkin]] = {}
    for row in rows:
        by_period.setdefault(row.period, []).append(row)
    for period in sorted(by_period, reverse=True):
        value = value_for_period(by_period[period])
        if value is not None:
            return value
    return None


async def current_values(
    session: AsyncSession,
    *,
    workspace_id: int,
    key_result_ids: Iterable[int],
    excluding_source_ref: str | None = None,
) -> dict[int, CurrentValue]:
    """The current value of each key result, in one query; `excluding_source_ref` leaves out
    what one message or form recorded itself (a `+3` in its edit counts from before it)."""
    ids = list(key_result_ids)
    if not ids:
        return {}
    query = select(Checkin).where(
        Checkin.workspace_id == workspace_id, Checkin.key_result_id.in_(ids)
    )
    if excluding_source_ref is not None:
        query = query.where(Checkin.source_ref != excluding_source_ref)
    rows = (await session.execute(query)).scalars()
    by_kr: dict[int, list[Checkin]] = {}
    for row in rows:
        by_kr.setdefault(row.key_result_id, []).append(row)
    found = {kr: current_from(kr_rows) for kr, kr_rows in by_kr.items()}
    return {kr: value for kr, value in found.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class CheckinRow:
    """One append-only check-in row, as every way in records it."""

    workspace_id: int
    key_result_id: int
    period: str
    value: float | None  # None only for a retraction
    author_person_id: int | None
    recorded_at: datetime
    source: str
    source_ref: str
    revision: str = ""
    confidence: int | None = None
    status: str | None = None
    note: str | None = None
    retraction: bool = False
    api_token_id: int | None = None  # a check-in pushed through the API: the token it came by


CHECKIN_KEY = ["key_result_id", "period", "source", "source_ref", "revision"]


async def insert_checkins(session: AsyncSession, rows: Sequence[CheckinRow]) -> None:
    """Insert check-in rows; a row whose key is already there (a redelivery) is skipped."""
    if not rows:
        return
    await session.execute(
        insert_ignoring_conflicts(
            session, Checkin, [asdict(row) for row in rows], conflict_columns=CHECKIN_KEY
        )
    )


async def recorded_by(
    session: AsyncSession, *, workspace_id: int, source: str, source_ref: str
) -> set[tuple[int, str]]:
    """The (key result, period) pairs one message or form recorded a value for."""
    found = await session.execute(
        select(Checkin.key_result_id, Checkin.period).where(
            Checkin.workspace_id == workspace_id,
            Checkin.source == source,
            Checkin.source_ref == source_ref,
            Checkin.retraction.is_(False),
        )
    )
    return {(kr, period) for kr, period in found}


async def checkins_of_key_result(
    session: AsyncSession, *, workspace_id: int, key_result_id: int
) -> list[Checkin]:
    """Every row of one key result, retractions and revisions included, oldest first (one
    query however many there are)."""
    rows = await session.execute(
        select(Checkin)
        .where(Checkin.workspace_id == workspace_id, Checkin.key_result_id == key_result_id)
        .order_by(Checkin.recorded_at, Checkin.id)
    )
    return list(rows.scalars())


CheckinsByPeriod = dict[int, dict[str, list[CheckinFacts]]]  # key result -> period -> rows


async def active_key_results_with_checkins(
    session: AsyncSession,
    *,
    workspace_ids: Collection[int],
    objective_ids: Collection[int],
    through_period: str | None = None,
) -> tuple[list[KeyResult], CheckinsByPeriod]:
    """The active key results of `objective_ids` (by ref) and every check-in row of theirs
    (up to `through_period` when given), grouped by key result and period: two statements,
    however many objectives (and workspaces) are asked about."""
    key_results = list(
        (
            await session.execute(
                select(KeyResult)
                .where(
                    among(session, KeyResult.workspace_id, workspace_ids),
                    among(session, KeyResult.objective_id, objective_ids),
                    KeyResult.state == "active",
                )
                .order_by(KeyResult.ref_number)
            )
        ).scalars()
    )
    rows = select(*_FACTS).where(
        among(session, Checkin.workspace_id, workspace_ids),
        among(session, Checkin.key_result_id, [kr.id for kr in key_results]),
    )
    if through_period is not None:
        rows = rows.where(Checkin.period <= through_period)
    # Grouped by hand: a digest batch reads thousands of rows, and setdefault would build
    # (and drop) a dict and a list for each of them.
    checkins: CheckinsByPeriod = {}
    facts = CheckinFacts._make
    for row in (await session.execute(rows)).all():
        checkin = facts(row)
        by_period = checkins.get(checkin.key_result_id)
        if by_period is None:
            checkins[checkin.key_result_id] = {checkin.period: [checkin]}
        elif (found := by_period.get(checkin.period)) is None:
            by_period[checkin.period] = [checkin]
        else:
            found.append(checkin)
    return key_results, checkins
