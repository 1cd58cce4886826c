"""The team digest at D over the emulator: a cycle of check-ins, then the digest shows what the
test works out by hand (progress, change, pace, at risk, drops, wins, missing with streaks,
away, outdated), escaped; paused teams and skipped weeks get none; a big team's digest comes
in parts with every key result; the statements a digest costs do not grow with the teams,
alone or in the sender's batch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import clock
from bot.jobs.clock import Ceremony
from bot.models import (
    AwayPeriod,
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    ObjectiveContributor,
    OutboxItem,
    Person,
    Team,
    TeamMember,
    TeamSkippedPeriod,
    Workspace,
)
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from bot.services import digests
from bot.services.digests import DigestRound, read_digest, read_digests
from tests import factories
from tests.databases import Database
from tests.statements import counting_statements

MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 2026-W49, P of the world's teams
D = MONDAY_TEN + timedelta(days=2)  # the default digest delay
CYCLE = (date(2026, 11, 2), date(2026, 12, 27))  # 2026-W45 .. 2026-W52


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(MONDAY_TEN)
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False, outbox_poll_seconds=0.05) as running:
        yield running


def digests_in(stack: SandboxStack, channel: str) -> list[Message]:
    assert stack.ws is not None
    return [
        m
        for m in stack.slack.channel_messages(channel)
        if m.bot_id == stack.ws.bot_id
        and str((m.metadata or {}).get("event_payload", {}).get("key", "")).startswith("digest:")
    ]


async def run_until_quiet(ceremony: Ceremony, at: datetime, rounds: int = 8) -> None:
    for _ in range(rounds):
        set_now(at)
        await ceremony.tick()
        await ceremony.sender.drain()


async def add_history(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    rows: list[tuple[int, str, float, int | None]],
) -> None:
    """Check-ins of earlier weeks (key result index, period, value, confidence)."""
    team = world.teams[0]
    async with sessions.begin() as session:
        await session.execute(
            update(KeyResult).values(created_at=datetime(2026, 10, 20, tzinfo=UTC))
        )
        for n, (index, period, value, confidence) in enumerate(rows):
            session.add(
                Checkin(
                    workspace_id=world.workspace_id,
                    key_result_id=team.key_result_ids[index],
                    period=period,
                    value=value,
                    confidence=confidence,
                    recorded_at=MONDAY_TEN - timedelta(days=30) + timedelta(hours=n),
                    source="modal",
                    source_ref=f"V{n}",
                )
            )


async def test_digest_at_d_shows_figures_worked_out_by_hand(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    sessions = stack.app.sessions
    world = await build_world(sessions, stack.slack, stack.ws, owners_per_team=3, cycle=CYCLE)
    team = world.teams[0]
    ana, ben, cy = team.owners  # KR1 signups 0→100, KR2 NPS 30→50, KR3 signups 0→100
    await add_history(sessions, world, [
        (0, "2026-W46", 10, 8), (0, "2026-W47", 20, 8), (0, "2026-W48", 40, 9),
        (1, "2026-W46", 35, 7), (1, "2026-W47", 40, 7),  # then nothing: outdated at W49
        (2, "2026-W46", 5, 6), (2, "2026-W47", 10, 6), (2, "2026-W48", 20, 6),
    ])  # fmt: skip
    async with sessions.begin() as session:
        await session.execute(
            update(Objective).values(title="Win <!channel> & <@U999> *bold* <https://x|y>")
        )
        session.add(
            AwayPeriod(workspace_id=world.workspace_id, person_id=world.people[cy.id],
                       starts_on=date(2026, 11, 28), ends_on=date(2026, 12, 6))
        )  # fmt: skip
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [m for m in stack.slack.channel_messages(team.channel.id) if m.bot_id]
    await stack.driver.say(
        ana, "#1 72 conf 5 churn <!channel> worries me", channel=team.channel, thread_ts=prompt.ts
    )
    # Before D: nothing. At D the DMs are swept first (the digest waits for it), then it goes.
    await run_until_quiet(ceremony, D - timedelta(minutes=1), rounds=2)
    assert digests_in(stack, team.channel.id) == []
    await run_until_quiet(ceremony, D)
    [digest] = digests_in(stack, team.channel.id)
    async with sessions() as session:
        dms = (await session.execute(select(OutboxItem).where(OutboxItem.kind == "dm"))).scalars()
        assert all("swept_at" in (dm.payload or {}) for dm in dms)
    text = str(digest.blocks)
    # Worked out by hand. Cycle: 2026-11-02 00:00 to 2026-12-28 00:00 (56 days); D is
    # 30 days 10 hours in: 54 %. KR1 72/100 = 72 % (was 40 %), KR2 (40-30)/20 = 50 %,
    # KR3 20 %: the objective (72+50+20)/3 = 47 % (was (40+50+20)/3 = 37 %: +11 pts).
    assert "47 % done, 54 % of the cycle gone: behind" in text
    assert "(+11 pts)" in text
    assert "72 of 100 (was 40) · confidence 5/10" in text and "72% (+32 pts)" in text
    assert "40 of 50 · confidence 7/10 · ⏳ outdated" in text
    # KR1: 72 % ≥ 54 − 10 but confidence 5 < 7: at risk (suggested), its note escaped.
    assert "🟡 at risk (suggested)" in text
    assert "churn &lt;!channel&gt; worries me" in text
    # KR3: 20 % < 54 − 25: off track. KR2: last check-in W47, two weeks ago: outdated.
    assert "🔴 off track (suggested)" in text and "⏳ outdated" in text
    assert "*Confidence drops*" in text and "confidence 9 → 5" in text
    assert "*Wins*" in text and "72 % — past 70 %" in text
    # KR2's figures look on track (50 % ≥ 54 − 10, confidence 7), but it is outdated: it
    # counts as at risk, so it needs attention, shown as outdated.
    attention = text[text.index("*Needs attention*") : text.index("*Confidence drops*")]
    assert "⏳ outdated" in attention and attention.count("• *KR") == 3
    # Ana checked in; Ben missed W48 and W49; Cy is away, not missing.
    who = text[text.index("*Who*") :]
    assert f"Checked in: <@{ana.id}>" in who
    assert f"Missing: <@{ben.id}> (2 weeks in a row)" in who
    assert f"Away: <@{cy.id}>" in who and f"<@{cy.id}> (" not in who
    # Escaped: nobody is pinged by the title.
    assert "<!channel>" not in text and "<@U999>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U999&gt;" in text
    assert "&" not in digest.text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    # Later ticks add nothing; the second part's row found no part and was cancelled.
    await run_until_quiet(ceremony, D + timedelta(hours=3), rounds=2)
    assert len(digests_in(stack, team.channel.id)) == 1
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OutboxItem.idempotency_key, OutboxItem.state)
                .where(OutboxItem.kind == "digest")
                .order_by(OutboxItem.id)
            )
        ).all()
    ws = world.workspace_id
    assert [tuple(r) for r in rows] == [
        (f"digest:{ws}:{team.id}:2026-W49:1", "sent"),
        (f"digest:{ws}:{team.id}:2026-W49:2", "cancelled"),
    ]


@pytest.mark.parametrize("how", ["paused", "skipped"])
async def test_paused_team_or_skipped_week_gets_no_digest(stack: SandboxStack, how: str) -> None:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, teams=2, cycle=CYCLE)
    quiet, other = world.teams
    ceremony = Ceremony(stack.app)
    await run_until_quiet(ceremony, MONDAY_TEN, rounds=1)
    async with stack.app.sessions.begin() as session:
        if how == "paused":
            await session.execute(update(Team).where(Team.id == quiet.id).values(paused=True))
        else:
            session.add(TeamSkippedPeriod(workspace_id=world.workspace_id, team_id=quiet.id,
                                          period="2026-W49"))  # fmt: skip
    await run_until_quiet(ceremony, D, rounds=3)
    assert digests_in(stack, quiet.channel.id) == []
    assert len(digests_in(stack, other.channel.id)) == 1


async def test_digest_past_its_window_is_not_sent(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, cycle=CYCLE)
    ceremony = Ceremony(stack.app)
    await run_until_quiet(ceremony, MONDAY_TEN, rounds=1)
    # The clock was down from before D until after D + 2 days: that digest is dropped.
    await run_until_quiet(ceremony, D + timedelta(days=2, minutes=1), rounds=2)
    assert digests_in(stack, world.teams[0].channel.id) == []


async def test_big_team_digest_comes_in_parts_with_every_key_result(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1,
                              cycle=CYCLE)  # fmt: skip
    team = world.teams[0]
    refs: list[str] = []
    async with stack.app.sessions.begin() as session:
        owner = world.people[team.owners[0].id]
        cycle_id = (await session.execute(select(Objective.cycle_id))).scalars().first()
        ws = await session.get(Workspace, world.workspace_id)
        assert ws is not None and cycle_id is not None
        cyc = await session.get(Cycle, cycle_id)
        assert cyc is not None
        for o in range(30):
            objective = await factories.objective(
                session, ws, cyc, level="team", team_id=team.id, owner_person_id=owner,
                title=f"Objective {o} " + "<long & hostile> " * 12,
            )  # fmt: skip
            for k in range(5):
                kr = await factories.key_result(
                    session, objective, owner_person_id=owner, unit="<u>",
                    title=f"KR {o}.{k} " + "words & more " * 15,
                )  # fmt: skip
                refs.append(kr.ref)
                session.add(Checkin(workspace_id=ws.id, key_result_id=kr.id, period="2026-W48",
                                    value=40.0, confidence=2, note="<!here> " * 60,
                                    recorded_at=MONDAY_TEN - timedelta(days=5),
                                    source="modal", source_ref=f"B{kr.id}"))  # fmt: skip
    ceremony = Ceremony(stack.app)
    await run_until_quiet(ceremony, MONDAY_TEN, rounds=1)
    await run_until_quiet(ceremony, D, rounds=14)
    parts = digests_in(stack, team.channel.id)
    assert len(parts) >= 4
    rejected = [
        call
        for call in stack.slack.recorded("chat.postMessage", ok=False)
        if "digest for" in str(call.args.get("text"))
    ]
    assert rejected == []
    keys = [m.metadata["event_payload"]["key"] for m in parts if m.metadata]
    assert keys == [f"digest:{world.workspace_id}:{team.id}:2026-W49:{n}"
                    for n in range(1, len(parts) + 1)]  # fmt: skip
    shown = " ".join(str(m.blocks) for m in parts)
    for ref in refs:
        assert f"*{ref}*" in shown
    for message in parts:
        assert len(message.blocks) <= 50
        assert f"of {len(parts)}" in str(message.blocks)
    assert "<!here>" not in shown and "<u>" not in shown


async def _many_teams(session: AsyncSession, count: int, channels: bool = False) -> list[Team]:
    """`count` teams of one lead, each with a team objective of two key results checked in
    last week; inserted in bulk (hundreds of teams, one statement a table)."""
    ws = await factories.workspace(session)
    cyc = await factories.cycle(session, ws, starts_on=CYCLE[0], ends_on=CYCLE[1], state="active")

    async def bulk(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        found = await session.execute(insert(model).returning(model.id), rows)
        return list(found.scalars())

    people = await bulk(Person, [{"workspace_id": ws.id, "slack_user_id": f"U{ws.id}P{n:05d}"}
                                 for n in range(count)])  # fmt: skip
    team_ids = await bulk(Team, [
        {"workspace_id": ws.id, "name": f"Team {n}", "checkin_time": time(10),
         "lead_person_id": people[n], "channel_id": f"C{n:05d}{ws.id}" if channels else None}
        for n in range(count)
    ])  # fmt: skip
    await session.execute(insert(TeamMember), [
        {"team_id": t, "person_id": p, "workspace_id": ws.id}
        for t, p in zip(team_ids, people, strict=True)
    ])  # fmt: skip
    objectives = await bulk(Objective, [
        {"workspace_id": ws.id, "ref_number": n + 1, "cycle_id": cyc.id, "level": "team",
         "team_id": t, "title": f"Objective {n}"} for n, t in enumerate(team_ids)
    ])  # fmt: skip
    key_results = await bulk(KeyResult, [
        {"workspace_id": ws.id, "ref_number": 2 * n + k + 1, "objective_id": o,
         "owner_person_id": people[n], "title": f"Signups {n}.{k}", "start_value": 30.0,
         "target_value": 50.0} for n, o in enumerate(objectives) for k in range(2)
    ])  # fmt: skip
    await session.execute(insert(Checkin), [
        {"workspace_id": ws.id, "key_result_id": kr, "period": "2026-W48",
         "value": 40.0 + (n // 2) % 7 + n % 2, "recorded_at": D - timedelta(days=8),
         "source": "modal", "source_ref": f"V{kr}"} for n, kr in enumerate(key_results)
    ])  # fmt: skip
    found = await session.execute(select(Team).where(Team.id.in_(team_ids)).order_by(Team.id))
    return list(found.scalars())


async def test_statements_per_digest_do_not_grow_with_teams(engine: AsyncEngine) -> None:
    """One team's digest, and a batch of every team's digests (as the sender composes them),
    cost the same statements with 10 teams as with 500: per digest, and per batch."""
    alone: list[int] = []
    batch: list[int] = []
    for count in (10, 500):
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            teams = await _many_teams(session, count)
        async with sessions() as session:
            with counting_statements(engine) as seen:
                data = await read_digest(session, team=teams[0], period="2026-W49", at=D)
            assert data is not None and len(data.objectives) == 1
            assert len(data.objectives[0].key_results) == 2
            alone.append(len(seen))
        rounds = [DigestRound(team, "2026-W49", D) for team in teams]
        async with sessions() as session:
            with counting_statements(engine) as seen:
                together = await read_digests(session, rounds=rounds)
            batch.append(len(seen))
        async with sessions() as session:
            # The batch shows each team what its own read shows it.
            for team, data in list(zip(teams, together, strict=True))[:: max(1, count // 10)]:
                assert data == await read_digest(session, team=team, period="2026-W49", at=D)
                assert data is not None and data.team_name == team.name
    assert alone[0] == alone[1]
    assert batch[0] == batch[1] == alone[0]


async def test_the_sender_composes_a_batch_of_digests_as_each_alone(engine: AsyncEngine) -> None:
    """`compose_all` of a mixed batch (a paused team, a skipped week, a part past the end,
    last week's round beside this week's, a team of another workspace, an objective shared
    by two teams of the batch and a member's personal one) gives each row what composing it
    alone gives."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        teams = await _many_teams(session, 4, channels=True)
        other = await _many_teams(session, 1, channels=True)
        teams[1].paused = True
        session.add(TeamSkippedPeriod(workspace_id=teams[2].workspace_id, team_id=teams[2].id,
                                      period="2026-W49"))  # fmt: skip
        ws = await session.get_one(Workspace, teams[0].workspace_id)
        cyc = await session.get_one(
            Cycle, await session.scalar(select(Objective.cycle_id).where(
                Objective.team_id == teams[0].id))
        )  # fmt: skip
        # Refs past the bulk-inserted ones (O1-O4, KR1-KR8).
        shared = Objective(workspace_id=ws.id, ref_number=100, cycle_id=cyc.id, level="team",
                           team_id=teams[0].id, title="Shared by teams 0 and 3")  # fmt: skip
        lead = teams[3].lead_person_id
        mine = Objective(workspace_id=ws.id, ref_number=101, cycle_id=cyc.id, level="personal",
                         owner_person_id=lead, title="Learn the ropes")  # fmt: skip
        session.add_all([shared, mine])
        await session.flush()
        session.add(ObjectiveContributor(objective_id=shared.id, team_id=teams[3].id,
                                         workspace_id=ws.id))  # fmt: skip
        for n, objective in enumerate((shared, mine)):
            kr = KeyResult(workspace_id=ws.id, ref_number=100 + n, objective_id=objective.id,
                           owner_person_id=teams[3].lead_person_id, title="Signups",
                           start_value=30.0, target_value=50.0)  # fmt: skip
            session.add(kr)
            await session.flush()
            await factories.checkin(session, kr, period="2026-W49", value=45.0,
                                    recorded_at=D - timedelta(hours=1))  # fmt: skip

    def row(team: Team, part: int = 1, period: str = "2026-W49") -> OutboxItem:
        at = D - timedelta(weeks=1) if period != "2026-W49" else D
        return OutboxItem(
            workspace_id=team.workspace_id, kind="digest", target=str(team.id),
            idempotency_key=f"digest:{team.workspace_id}:{team.id}:{period}:{part}",
            period=period, next_attempt_at=at,
            payload={"team_id": team.id, "channel": team.channel_id, "part": part,
                     "digest_at": at.isoformat(),
                     "deadline": (D + timedelta(days=2)).isoformat()},
        )  # fmt: skip

    items = [row(teams[0]), row(teams[1]), row(teams[2]), row(teams[3]), row(teams[0], 2),
             row(other[0]), row(teams[3], period="2026-W48")]  # fmt: skip
    now = D + timedelta(minutes=1)
    async with sessions() as session:
        together = await digests.compose_all(session, items=items, now=now)
        alone = [await digests.compose(session, item=item, now=now) for item in items]
        [this_week, last_week] = await read_digests(session, rounds=[
            DigestRound(teams[3], "2026-W49", D), DigestRound(teams[3], "2026-W48", D)
        ])  # fmt: skip
    assert together == alone
    assert [c is not None for c in together] == [True, False, False, True, False, True, True]
    assert together[0] is not None and together[0].channel == teams[0].channel_id
    assert together[5] is not None and together[5].channel == other[0].channel_id
    # Team 3 shows the shared objective and its lead's personal one, this week's check-ins in
    # this week's digest only.
    assert this_week is not None and last_week is not None
    assert [o.ref for o in this_week.objectives] == ["O4", shared.ref]
    assert [o.ref for o in this_week.personal] == [mine.ref]
    assert "Shared by teams 0 and 3" in str(together[3]) and "Learn the ropes" in str(together[3])
    assert "Shared by teams 0 and 3" in str(together[0])
    assert this_week.objectives[1].key_results[0].value == 45.0
    assert last_week.objectives[1].key_results[0].value is None
