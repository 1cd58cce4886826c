"""The data model's constraints live in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import make_sessionmaker
from bot.models import (
    Checkin,
    Cycle,
    Grade,
    InboxEvent,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    Workspace,
)
from bot.models.checkin import AppendOnlyError
from bot.repository.refs import next_ref_number, parse_ref
from tests import factories as make


async def _refused(session: AsyncSession, build: Callable[[], Awaitable[Any]]) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            row = await build()
            if row is not None:
                session.add(row)
            await session.flush()


async def test_key_result_rules_are_checks_in_the_database(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    obj = await make.objective(session, ws, await make.cycle(session, ws))

    def kr(**fields: Any) -> Callable[[], Awaitable[KeyResult]]:
        async def build() -> KeyResult:
            base: dict[str, Any] = {
                "workspace_id": ws.id,
                "ref_number": 900,
                "objective_id": obj.id,
                "title": "x",
                "start_value": 0.0,
                "target_value": 10.0,
            }
            return KeyResult(**(base | fields))

        return build

    await _refused(session, kr(target_value=0.0))  # target equals start
    await _refused(session, kr(direction="decrease"))  # decrease must go down
    await _refused(session, kr(direction="increase", start_value=10.0, target_value=5.0))
    await _refused(session, kr(direction="hold"))  # hold needs a comparator
    await _refused(session, kr(comparator="at_least"))  # a comparator only for hold
    await _refused(session, kr(kind="ratio"))
    await _refused(session, kr(weight=0.0))
    await _refused(session, kr(objective_id=999_999))  # foreign key
    # and the good ones pass
    for i, fields in enumerate(
        [
            {},
            {"direction": "decrease", "start_value": 10.0, "target_value": 2.0},
            {"direction": "hold", "comparator": "at_most", "start_value": 5.0, "target_value": 5.0},
            {"kind": "milestone", "start_value": 0.0, "target_value": 1.0},
        ]
    ):
        session.add(await kr(ref_number=901 + i, **fields)())
    await session.flush()


async def test_other_checks(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    cyc = await make.cycle(session, ws)
    kr = await make.key_result(session, await make.objective(session, ws, cyc))
    await _refused(
        session,
        lambda: make.cycle(session, ws, starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 1)),
    )
    await _refused(session, lambda: make.cycle(session, ws, name=cyc.name))  # unique per workspace
    await _refused(session, lambda: make.cycle(session, ws, state="paused"))
    await _refused(
        session, lambda: make.objective(session, ws, cyc, level="team")
    )  # team level, no team
    await _refused(session, lambda: make.objective(session, ws, cyc, level="department"))
    await _refused(session, lambda: make.team(session, ws, checkin_weekday=7))
    await _refused(session, lambda: make.person(session, ws, role="owner"))
    await _refused(session, lambda: make.checkin(session, kr, confidence=11))
    await _refused(session, lambda: make.checkin(session, kr, status="green"))
    await _refused(
        session, lambda: make.checkin(session, kr, value=None)
    )  # only retractions lack one
    await _refused(session, lambda: make.checkin(session, kr, source="email"))

    async def grade_both() -> Grade:
        return Grade(
            workspace_id=ws.id,
            cycle_id=cyc.id,
            key_result_id=kr.id,
            objective_id=kr.objective_id,
            score_hundredths=50,
        )

    async def grade_over() -> Grade:
        return Grade(workspace_id=ws.id, cycle_id=cyc.id, key_result_id=kr.id, score_hundredths=101)

    await _refused(session, grade_both)
    await _refused(session, grade_over)


async def test_checkin_keys_allow_revisions_and_refuse_repeats(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    kr = await make.key_result(
        session, await make.objective(session, ws, await make.cycle(session, ws))
    )
    await make.checkin(session, kr, source="thread", source_ref="C1:1700000000.000100")
    await make.checkin(
        session, kr, source="thread", source_ref="C1:1700000000.000100", revision="1700000100.0002"
    )
    await make.checkin(
        session,
        kr,
        source="thread",
        source_ref="C1:1700000000.000100",
        retraction=True,
        value=None,
        revision="1700000200.0003",
    )
    await _refused(
        session,
        lambda: make.checkin(session, kr, source="thread", source_ref="C1:1700000000.000100"),
    )
    count = await session.scalar(
        select(func.count()).select_from(Checkin).where(Checkin.key_result_id == kr.id)
    )
    assert count == 3


async def test_checkins_are_append_only(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    kr = await make.key_result(
        session, await make.objective(session, ws, await make.cycle(session, ws))
    )
    row = await make.checkin(session, kr)
    with pytest.raises(AppendOnlyError):
        async with session.begin_nested():
            row.value = 99.0
            await session.flush()
    with pytest.raises(AppendOnlyError):
        async with session.begin_nested():
            await session.delete(row)
            await session.flush()
    with pytest.raises(AppendOnlyError):
        await session.execute(update(Checkin).values(value=1.0))
    with pytest.raises(AppendOnlyError):
        await session.execute(delete(Checkin))


async def test_outbox_and_inbox_keys(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    now = datetime.now(UTC)

    def outbox(**fields: Any) -> Callable[[], Awaitable[OutboxItem]]:
        async def build() -> OutboxItem:
            base = {
                "workspace_id": ws.id,
                "kind": "prompt",
                "target": "C1",
                "period": "2027-W02",
                "idempotency_key": f"prompt:{ws.id}:1:2027-W02",
                "next_attempt_at": now,
            }
            return OutboxItem(**(base | fields))

        return build

    session.add(await outbox()())
    await session.flush()
    await _refused(session, outbox())  # same idempotency key
    await _refused(session, outbox(idempotency_key="x", kind="fax"))
    await _refused(session, outbox(idempotency_key="y", state="sending"))  # sending needs a lease
    await _refused(session, outbox(idempotency_key="z", state="done"))

    def inbox(**fields: Any) -> Callable[[], Awaitable[InboxEvent]]:
        async def build() -> InboxEvent:
            base = {
                "workspace_id": ws.id,
                "event_id": "Ev1",
                "channel_id": "C1",
                "message_ts": "1.1",
                "action": "post",
                "payload": {},
            }
            return InboxEvent(**(base | fields))

        return build

    session.add(await inbox()())
    await session.flush()
    await _refused(session, inbox())  # same event_id
    await _refused(session, inbox(event_id="Ev2"))  # same message, same action: a redelivery
    session.add(await inbox(event_id="Ev3", action="edit", edited_ts="2.2")())
    await session.flush()


async def test_times_come_back_aware_in_utc(session: AsyncSession) -> None:
    ws = await make.workspace(session)
    berlin_noon = datetime(2027, 1, 4, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    ws.paused_until = berlin_noon
    await session.flush()
    await session.refresh(ws)
    again = ws
    assert again.paused_until == berlin_noon
    assert again.paused_until.tzinfo is not None and again.paused_until.utcoffset() == timedelta(0)
    ws.paused_until = datetime(2027, 1, 4, 12, 0)  # naive: refused
    with pytest.raises(Exception, match="naive datetime"):
        await session.flush()


async def test_purging_a_workspace_removes_all_its_rows_and_nothing_else(
    engine: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        keep, purge = await make.workspace(session), await make.workspace(session)
        for ws in (keep, purge):
            cyc = await make.cycle(session, ws)
            t = await make.team(session, ws)
            p = await make.person(session, ws)
            kr = await make.key_result(
                session,
                await make.objective(
                    session, ws, cyc, level="team", team_id=t.id, owner_person_id=p.id
                ),
            )
            await make.checkin(session, kr, author_person_id=p.id)
        purge_id = purge.id
    async with sessions.begin() as session:
        await session.execute(delete(Workspace).where(Workspace.id == purge_id))
    async with sessions() as session:
        for model in (Cycle, Team, Person, Objective, KeyResult, Checkin):
            left = await session.scalar(
                select(func.count()).select_from(model).where(model.workspace_id == purge_id)
            )  # type: ignore[attr-defined]
            kept = await session.scalar(
                select(func.count()).select_from(model).where(model.workspace_id != purge_id)
            )  # type: ignore[attr-defined]
            assert (model.__name__, left, kept) == (model.__name__, 0, 1)


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(Person(workspace_id=987_654, slack_user_id="U1"))
            await session.flush()
    if session.bind.dialect.name == "sqlite":
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_refs_are_per_workspace_and_never_reused(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        a, b = await make.workspace(session), await make.workspace(session)
        ids = (a.id, b.id)

    async def take(ws_id: int) -> int:
        async with sessions.begin() as session:
            return await next_ref_number(session, workspace_id=ws_id, kind="KR")

    first = await asyncio.gather(*(take(ids[0]) for _ in range(8)))
    assert sorted(first) == list(range(1, 9))
    assert await take(ids[1]) == 1  # another workspace counts on its own
    async with sessions() as session:  # a rolled-back transaction still burns no number twice
        await next_ref_number(session, workspace_id=ids[0], kind="KR")
        await session.rollback()
    assert await take(ids[0]) == 9
    async with sessions.begin() as session:
        assert await next_ref_number(session, workspace_id=ids[0], kind="O") == 1


@pytest.mark.parametrize(
    ("text_in", "parsed"),
    [
        ("O7", ("O", 7)),
        ("kr12", ("KR", 12)),
        (" KR-3 ", ("KR", 3)),
        ("o 4", ("O", 4)),
        ("K12", None),
        ("O", None),
        ("OKR1", None),
        ("O1.5", None),
        ("", None),
    ],
)
def test_parse_ref(text_in: str, parsed: tuple[str, int] | None) -> None:
    assert parse_ref(text_in) == parsed


async def test_audit_rows_record_who_changed_what(session: AsyncSession) -> None:
    from bot.models import Audit
    from bot.repository import audit

    ws = await make.workspace(session)
    pat = await make.person(session, ws)
    await audit.record(
        session,
        workspace_id=ws.id,
        action="objective.create",
        entity="objective",
        entity_id=7,
        source="modal",
        actor_person_id=pat.id,
        actor_slack_id=pat.slack_user_id,
        changes={"title": [None, "Delight customers"]},
    )
    await session.flush()
    row = (await session.execute(select(Audit).where(Audit.workspace_id == ws.id))).scalar_one()
    assert (row.action, row.actor_person_id, row.changes) == (
        "objective.create",
        pat.id,
        {"title": [None, "Delight customers"]},
    )
    assert row.at.tzinfo is not None


async def test_readers_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    """On SQLite a writer holds the lock from BEGIN IMMEDIATE; a reader still reads (WAL)."""
    from bot.db import make_reader_sessionmaker

    writers, readers = make_sessionmaker(engine), make_reader_sessionmaker(engine)
    async with writers.begin() as writer:
        await make.workspace(writer)  # the write lock is held until this block ends
        async with readers() as reader:
            count = await asyncio.wait_for(
                reader.scalar(select(func.count()).select_from(Workspace)), timeout=2
            )
        assert count == 0  # the writer's row is not committed yet
    async with readers() as reader:
        assert await reader.scalar(select(func.count()).select_from(Workspace)) == 1


async def test_workspace_settings_changed_in_place_are_saved(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        ws = await make.workspace(session, settings={"company_channel": "C1"})
        ws_id = ws.id
    async with sessions.begin() as session:
        row = await session.get(Workspace, ws_id)
        assert row is not None
        row.settings["default_weekday"] = 2
    async with sessions() as session:
        row = await session.get(Workspace, ws_id)
        assert row is not None and row.settings == {"company_channel": "C1", "default_weekday": 2}


async def test_no_row_can_point_into_another_workspace(session: AsyncSession) -> None:
    a, b = await make.workspace(session), await make.workspace(session)
    cycle_a, cycle_b = await make.cycle(session, a), await make.cycle(session, b)
    objective_b = await make.objective(session, b, cycle_b)
    person_b, team_b = await make.person(session, b), await make.team(session, b)
    kr_b = await make.key_result(session, objective_b)
    await _refused(session, lambda: make.objective(session, a, cycle_b))
    await _refused(
        session, lambda: make.objective(session, a, cycle_a, owner_person_id=person_b.id)
    )
    await _refused(
        session, lambda: make.objective(session, a, cycle_a, level="team", team_id=team_b.id)
    )
    await _refused(
        session, lambda: make.objective(session, a, cycle_a, parent_objective_id=objective_b.id)
    )
    objective_a = await make.objective(session, a, cycle_a)

    async def kr_under_b() -> KeyResult:
        return KeyResult(
            workspace_id=a.id,
            ref_number=77,
            objective_id=objective_b.id,
            title="x",
            start_value=0.0,
            target_value=1.0,
        )

    async def checkin_of_b() -> Checkin:
        return Checkin(
            workspace_id=a.id,
            key_result_id=kr_b.id,
            period="2027-W01",
            value=1.0,
            recorded_at=datetime.now(UTC),
            source="modal",
            source_ref="V1",
        )

    await _refused(session, kr_under_b)
    await _refused(session, checkin_of_b)
    await _refused(
        session, lambda: make.key_result(session, objective_a, owner_person_id=person_b.id)
    )


async def test_the_database_itself_refuses_to_update_a_checkin(session: AsyncSession) -> None:
    from sqlalchemy.exc import DBAPIError

    ws = await make.workspace(session)
    kr = await make.key_result(
        session, await make.objective(session, ws, await make.cycle(session, ws))
    )
    row = await make.checkin(session, kr, value=40.0)
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE checkin SET value = 99 WHERE id = :id"), {"id": row.id}
            )
    assert await session.scalar(select(Checkin.value).where(Checkin.id == row.id)) == 40.0
