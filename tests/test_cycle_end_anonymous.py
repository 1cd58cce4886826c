"""An anonymous retrospective can be tied to no person: after votes and answers, no row of
any table and no captured log line holds an anonymous answer (or vote) together with who gave
it; the participation rows alone say who took part. Fewer than 3 answers stay hidden from the
summary; a second anonymous vote or answer is refused."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from bot import clock
from bot.models import Base, Person, RetroParticipation, RetroResponse, RetroVote, Team
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import build_world
from tests.ceremony_fixtures import clocked_stack
from tests.cycle_end_fixtures import (
    answer_retro,
    blocks_text,
    poll_in,
    run_ticks,
    set_now,
    summary_in,
    vote,
)
from tests.databases import Database

CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
END = datetime(2027, 1, 1, tzinfo=UTC)
SECRETS = ("Our manager <b>micromanages</b>", "Nobody reads the digest")


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(END - timedelta(days=1))
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database, update_every_seconds=0) as running:
        yield running


async def all_rows(stack: SandboxStack) -> dict[str, list[dict[str, Any]]]:
    assert stack.app is not None
    found: dict[str, list[dict[str, Any]]] = {}
    async with stack.app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            found[table.name] = [dict(row._mapping) for row in rows]
    return found


async def test_anonymous_answers_and_votes_link_to_nobody(
    stack: SandboxStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert stack.app is not None and stack.ws is not None
    world = await build_world(
        stack.app.sessions, stack.slack, stack.ws, teams=1, owners_per_team=3, cycle=CYCLE
    )
    team = world.teams[0]
    async with stack.app.sessions.begin() as session:
        await session.execute(update(Team).values(anonymous_retros=True))
    await run_ticks(stack, END)
    [poll] = poll_in(stack, team.channel.id)
    ana, ben, cai = team.owners
    assert "final" in await vote(stack, ana, poll, 2)
    assert "final" in await vote(stack, ben, poll, 5)
    outsider = stack.slack.add_user(stack.ws, "outsider")
    assert "for the team's members and its lead" in await vote(stack, outsider, poll, 1)
    again = await vote(stack, ana, poll, 4)
    assert "voted already; an anonymous vote is final" in again
    for user, said in ((ana, SECRETS[0]), (ben, SECRETS[1])):
        sent = await answer_retro(stack, user, poll, {"went_badly": said})
        assert "final once sent" in sent["modal"]
    assert stack.driver is not None
    twice = await answer_retro(stack, ana, poll, {"went_well": "again"})
    assert "already" in twice["modal"] and "went_well" not in twice["modal"]

    people = {world.person(u): u.id for u in (ana, ben, cai, team.lead)}
    async with stack.app.sessions() as session:
        responses = (await session.execute(select(RetroResponse))).scalars().all()
        votes = (await session.execute(select(RetroVote))).scalars().all()
        taking_part = (await session.execute(select(RetroParticipation))).scalars().all()
        names = {p.id: p.name for p in (await session.execute(select(Person))).scalars()}
    assert sorted(v.rating for v in votes) == [2, 5] and all(v.person_id is None for v in votes)
    assert all(r.person_id is None for r in responses) and len(responses) == 2
    assert all(r.submitted_at == r.updated_at for r in responses)  # the retro's opening
    assert {(p.person_id, p.voted, p.answered) for p in taking_part} == {
        (world.person(ana), True, True), (world.person(ben), True, True)
    }  # fmt: skip
    # No row anywhere holds an anonymous answer's text, key or id together with a person.
    markers = [*SECRETS, *(r.respondent_key for r in responses)]
    for table, rows in (await all_rows(stack)).items():
        for row in rows:
            values = " ".join(str(v) for v in row.values())
            if not any(marker in values for marker in markers):
                continue
            assert table in ("retro_response", "cycle_summary"), (table, row)
            assert not any(slack_id in values for slack_id in people.values()), (table, row)
            assert not any(row.get(c) in people for c in ("person_id", "actor_person_id"))
            assert not any(names[p] in values for p in people)
    audit = (await all_rows(stack))["audit"]
    assert not [a for a in audit if str(a.get("action", "")).startswith("retro.")]
    # No log line holds an answer together with who gave it (the database driver's own
    # DEBUG lines show each statement alone: the answer's INSERT names nobody), and the
    # bot's own lines hold no answer at all.
    for record in caplog.records:
        line = record.getMessage() + " " + " ".join(str(v) for v in record.__dict__.values())
        if any(secret in line for secret in SECRETS):
            assert not record.name.startswith("bot"), line
            assert not any(slack_id in line for slack_id in people.values()), line
            assert not any(names[p] in line for p in people), line
    # The summary: two answered (fewer than 3), so the anonymous answers stay hidden.
    await run_ticks(stack, END + timedelta(days=5))
    [summary] = summary_in(stack, team.channel.id)
    shown = blocks_text(summary)
    assert not any(secret in shown for secret in SECRETS)
    assert "2 anonymous answer(s) are not shown" in shown
    assert "Participation: 2 of 4 responded (2 voted, 2 answered)" in shown
    # Sealed at the deadline: every anonymous row and every participation row written again
    # in one transaction, so no row version lines an answer or a vote up with its author.
    assert stack.app is not None
    async with stack.app.sessions() as session:
        sealed_votes = (
            (await session.execute(select(RetroVote).where(RetroVote.person_id.is_(None))))
            .scalars()
            .all()
        )
        assert sorted(v.rating for v in sealed_votes) == sorted(v.rating for v in votes)
        sealed = (await session.execute(select(RetroResponse))).scalars().all()
        assert {r.respondent_key for r in sealed}.isdisjoint({r.respondent_key for r in responses})
        if session.bind.dialect.name == "postgresql":
            versions = set()
            for table in ("retro_vote", "retro_response", "retro_participation"):
                found = await session.execute(text(f"SELECT xmin::text FROM {table}"))  # noqa: S608
                versions |= set(found.scalars())
            assert len(versions) == 1, versions  # one transaction wrote them all
