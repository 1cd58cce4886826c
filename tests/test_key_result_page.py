"""`/okr show KR12` as conversations over the emulator: a key result's standing, its cycle
week by week (a sparkline), its check-in history newest first with who and from where
(revised and withdrawn check-ins marked, not hidden), paged with Older / Newer; the
"outdated" mark on every screen that shows a key result; and a fixed statement count."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import clock
from bot.blocks.key_result_page import (
    HistoryEntry,
    KeyResultPage,
    build_key_result_modal,
    build_key_result_page,
    key_result_page_text,
)
from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, Objective, Team, Workspace
from bot.okr.history import Mark, marks, sparkline
from bot.okr.period import monday_of, next_period
from bot.okr.progress import OUTDATED_AFTER_PERIODS, is_outdated
from bot.repository.checkins import CheckinRow, insert_checkins
from bot.sandbox.conversation import Conversation, Reply
from bot.sandbox.emulator import Message, User
from bot.sandbox.emulator.blockkit import validate_message, validate_view
from bot.sandbox.render import render_message, render_view
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, WorldTeam, build_world
from bot.services import key_results, objectives
from bot.services.actors import actor_for
from bot.services.checkin_targets import open_period_of
from bot.services.errors import NotFound
from bot.services.key_result_page import PAGE_SIZE, read_key_result_page
from bot.services.round_periods import periods_of
from tests.ceremony_fixtures import clocked_stack
from tests.databases import Database
from tests.statements import counting_statements

EVIL = "<!channel> look <https://evil|x> & more"
LEVELS = "▁▂▃▄▅▆▇█"


@pytest.fixture
async def stack(database: Database, monday_ten: datetime) -> AsyncIterator[SandboxStack]:
    """The stack at Monday 2026-11-30 10:00 UTC (2026-W49), its Slack on the bot's clock, so
    message times and check-in times agree when a test moves the clock."""
    async with clocked_stack(database) as running:
        yield running


@dataclass
class Setting:
    world: World
    team: WorldTeam
    owner: User
    other_owner: User
    lead: User

    @property
    def workspace_id(self) -> int:
        return self.world.workspace_id


async def setting(stack: SandboxStack) -> Setting:
    """Team 0 (Mondays 10:00 UTC) with O1 and two key results: KR1 (owner0-0, 0 to 100
    signups) and KR2 (owner0-1, NPS 30 to 50), both created now; the cycle is 2026-Q4."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=2)
    team = world.teams[0]
    return Setting(world, team, team.owners[0], team.owners[1], team.lead)


def periods_from(first: str, last: str) -> list[str]:
    """Every week label from `first` to `last`, both included."""
    found = [first]
    while found[-1] != last:
        found.append(next_period(found[-1]))
    return found


def at_period(period: str, minutes: int = 0) -> datetime:
    return datetime.combine(monday_of(period), time(12), tzinfo=UTC) + timedelta(minutes=minutes)


async def add_rows(stack: SandboxStack, rows: list[CheckinRow]) -> None:
    assert stack.app is not None
    async with stack.app.sessions.begin() as session:
        await insert_checkins(session, rows)


def row(
    s: Setting,
    period: str,
    value: float | None,
    *,
    minutes: int = 0,
    ref: str = "",
    source: str = "command",
    by: User | None = None,
    kr: int = 0,
    **extra: Any,
) -> CheckinRow:
    return CheckinRow(
        workspace_id=s.workspace_id,
        key_result_id=s.team.key_result_ids[kr],
        period=period,
        value=value,
        author_person_id=s.world.person(by or s.owner),
        recorded_at=at_period(period, minutes),
        source=source,
        source_ref=ref or f"{period}:{minutes}",
        **extra,
    )


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        for part in [block.get("text") or {}, *block.get("elements", [])]:
            if isinstance(part, dict) and part.get("type") == "mrkdwn":
                found.append(str(part["text"]))
    return found


async def show(stack: SandboxStack, who: User, words: str) -> Reply:
    assert stack.driver is not None
    reply = await Conversation(stack.driver).command(who, words)
    assert reply.answer.status == 200, reply.answer.body
    return reply


def ephemeral_of(stack: SandboxStack, who: User) -> Message:
    return stack.slack.answers_to(who.id)[-1].message


def shown(stack: SandboxStack, message: Message) -> str:
    assert stack.driver is not None
    return render_message(message.text, message.blocks, Conversation(stack.driver).names()).text


def about(texts: list[str], ref: str) -> str:
    """What a screen says about one key result: from its `*KR1*` to the next key result."""
    joined = "\n".join(texts)
    start = joined.index(f"*{ref}*")
    end = joined.find("*KR", start + 1)
    return joined[start : end if end != -1 else None]


# --- the pure rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "current", "created", "outdated"),
    [
        (None, "2026-W49", "2026-W49", False),  # created this period
        (None, "2026-W50", "2026-W49", False),  # one period without a check-in
        (None, "2026-W51", "2026-W49", True),  # two
        ("2026-W49", "2026-W49", "2026-W40", False),
        ("2026-W48", "2026-W49", "2026-W40", False),
        ("2026-W47", "2026-W49", "2026-W40", True),
        ("2026-W40", "2026-W49", "2026-W40", True),
        ("2026-W53", "2027-W01", "2026-W40", False),  # 2026 has 53 ISO weeks
        ("2026-W52", "2027-W01", "2026-W40", True),
        ("2026-W50", "2026-W49", "2026-W40", False),  # a line of next week's DM
        ("2026-W30", "2026-W49", "2026-W48", False),  # counted from its creation
    ],
)
def test_is_outdated(last: str | None, current: str, created: str, outdated: bool) -> None:
    assert OUTDATED_AFTER_PERIODS == 2
    assert (
        is_outdated(last_checkin_period=last, current_period=current, created_period=created)
        is outdated
    )


def test_sparkline_and_marks_rules() -> None:
    assert sparkline([0.0, None, 0.15, 0.5, 1.0, 1.7, -0.2]) == "▁·▂▅██▁"

    @dataclass(frozen=True)
    class Facts:
        id: int
        period: str
        source: str
        source_ref: str
        recorded_at: datetime
        retraction: bool = False

    t = datetime(2026, 11, 30, tzinfo=UTC)
    rows = [
        Facts(1, "2026-W49", "thread", "C1:1", t),
        Facts(2, "2026-W49", "thread", "C1:1", t + timedelta(minutes=1)),  # the edit
        Facts(3, "2026-W49", "dm", "D1:1", t),
        Facts(4, "2026-W49", "dm", "D1:1", t + timedelta(minutes=2), retraction=True),
        Facts(5, "2026-W48", "dm", "D1:1", t),  # another period: its own
    ]
    assert marks(rows) == {1: Mark.REVISED, 3: Mark.WITHDRAWN}


def test_the_biggest_page_stays_within_slacks_limits() -> None:
    hostile = '<&>"' * 2000
    entries = [
        HistoryEntry(
            period="2026-W49",
            value=1e15,
            confidence=10,
            status="off_track",
            note=hostile,
            author_slack_id="U0123456789",
            source="thread",
            mark="revised",
        )
        for _ in range(PAGE_SIZE)
    ]
    page = KeyResultPage(
        ref="KR123456",
        title="x" * 300,
        objective_ref="O123456",
        objective_title=hostile[:300],
        cycle="c" * 40,
        state="archived",
        owner_slack_id="U0123456789",
        unit="<" * 20,
        start=-1e15,
        target=1e15,
        current=1e15,
        progress=1.0,
        status="off_track",
        status_reported=True,
        last_reported_status="off_track",
        confidence=10,
        outdated=True,
        last_period="2026-W40",
        sparkline="█" * 53,
        first_period="2026-W01",
        last_shown_period="2026-W53",
        entries=entries,
        page=1,
        pages=3,
        checkins=30,
    )
    blocks = build_key_result_page(page)
    validate_message({"text": key_result_page_text(page), "blocks": blocks})
    validate_view(build_key_result_modal(page))
    for text in mrkdwn_texts(blocks):
        assert not re.search(r"&[a-z]{0,3}…", text)  # no entity cut in half
        assert "<" not in text.replace("<@U0123456789>", "")


# --- conversations -----------------------------------------------------------------------


async def test_history_newest_first_with_who_and_where_revised_and_withdrawn(
    stack: SandboxStack,
) -> None:
    assert stack.app is not None and stack.driver is not None and stack.ws is not None
    s = await setting(stack)
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [
        m
        for m in stack.slack.channel_messages(s.team.channel.id)
        if m.bot_id == stack.ws.bot_id and not m.thread_ts
    ]
    driver = stack.driver
    await show(stack, s.owner, "update KR1 10 conf 5 — by command")
    clock.advance(timedelta(minutes=1))
    reply = await driver.say(
        s.owner, "KR1 20 — in the thread", channel=s.team.channel, thread_ts=prompt.ts
    )
    clock.advance(timedelta(minutes=1))
    await driver.edit(s.owner, reply, "KR1 25 — in the thread, fixed")
    clock.advance(timedelta(minutes=1))
    dm = await driver.say(s.owner, "KR1 30 — by dm")
    clock.advance(timedelta(minutes=1))
    await driver.delete(s.owner, dm)
    clock.advance(timedelta(minutes=1))
    await show(stack, s.lead, "update KR1 40 on track conf 8 — the lead")

    async with stack.app.sessions() as session:
        stored = (
            (
                await session.execute(
                    select(Checkin)
                    .where(Checkin.key_result_id == s.team.key_result_ids[0])
                    .order_by(Checkin.recorded_at.desc(), Checkin.id.desc())
                )
            )
            .scalars()
            .all()
        )
    notes = [r.note for r in stored if not r.retraction]
    assert notes == [
        "the lead",
        "by dm",
        "in the thread, fixed",
        "in the thread",
        "by command",
    ]
    assert [r.source for r in stored if r.retraction] == ["dm"]

    page = await show(stack, s.other_owner, "show KR1")  # anyone in the workspace reads it
    text = page.text
    assert "# KR1 Signups from 0 to 100 (owner0-0)" in text
    assert "key result of *O1* Team 0 delights its customers" in text
    assert "owner @owner0-0" in text
    assert "0 → *40* → 100" in text
    assert "🟢 on track (reported) · confidence 8/10" in text
    positions = [text.index(note) for note in ("the lead", "by dm", "fixed", "by command")]
    assert positions == sorted(positions), text  # newest first
    lines = [line for line in text.split("\n") if line.startswith("*2026-W49*")]
    assert lines == [
        "*2026-W49* · 40 · confidence 8/10 · 🟢 on track · @lead0 via command",
        "*2026-W49* · ~30~ · @owner0-0 via DM · _withdrawn_",
        "*2026-W49* · 25 · @owner0-0 via thread reply",
        "*2026-W49* · ~20~ · @owner0-0 via thread reply · _revised later_",
        "*2026-W49* · 10 · confidence 5/10 · @owner0-0 via command",
    ], text
    assert "*Check-ins* (5, newest first)" in text
    assert "Older" not in text and "Newer" not in text  # one page


async def test_paging_older_and_newer_in_the_message_and_from_app_home(
    stack: SandboxStack,
) -> None:
    assert stack.driver is not None
    s = await setting(stack)
    periods = periods_from("2026-W40", "2026-W49")
    await add_rows(
        stack,
        [
            row(s, periods[n // 3], n, minutes=n, ref=f"ref{n}", note=f"note {n:02d}")
            for n in range(1, 24)  # 23 check-ins, in this order: pages of 10, 10 and 3
        ],
    )
    reply = await show(stack, s.owner, "show KR1")
    message = ephemeral_of(stack, s.owner)
    assert "page 1 of 3" in reply.text
    assert "note 23" in reply.text and "note 14" in reply.text and "note 13" not in reply.text
    assert "Newer" not in reply.text and "Older" in reply.text

    async def click(label: str) -> str:
        control = render_message(message.text, message.blocks).control(label)
        assert stack.driver is not None
        before = message.edited_ts
        answer = await stack.driver.click(
            s.owner, action_id=control.action_id, value=control.value, message=message
        )
        assert answer.status == 200
        await stack.driver.settle()
        assert message.edited_ts != before  # replaced in place, not a new message
        return shown(stack, message)

    second = await click("Older")
    assert "page 2 of 3" in second and "note 13" in second and "note 04" in second
    assert "note 14" not in second and "note 03" not in second
    assert "Newer" in second and "Older" in second
    last = await click("Older")
    assert "page 3 of 3" in last and "note 03" in last and "note 01" in last
    assert "Older" not in last and "Newer" in last  # the last page has no Older
    back = await click("Newer")
    assert "page 2 of 3" in back and "note 13" in back
    assert len(stack.slack.answers_to(s.owner.id)) == 1

    # App Home: each key result line has a History button opening the same page in a modal
    await stack.driver.open_home(s.owner)
    home = stack.slack.home(s.owner.id)
    assert home is not None
    history = render_view(home.view).control("History")
    assert history.value == "KR1"
    await stack.driver.click(s.owner, action_id=history.action_id, value="KR1", view=home)
    modal = await stack.driver.modal(s.owner)
    assert "note 23" in render_view(modal.view).text
    older = render_view(modal.view).control("Older")
    await stack.driver.click(s.owner, action_id=older.action_id, value=older.value, view=modal)
    await stack.driver.settle()
    updated = stack.slack.open_modal(s.owner.id)
    assert updated is not None and updated.id == modal.id
    assert "page 2 of 3" in render_view(updated.view).text
    assert "note 13" in render_view(updated.view).text


async def test_sparkline_follows_each_periods_value(stack: SandboxStack) -> None:
    s = await setting(stack)
    await add_rows(
        stack,
        [
            row(s, "2026-W40", 0),
            row(s, "2026-W42", 15),
            row(s, "2026-W43", 30, ref="form"),
            row(s, "2026-W43", 45, ref="form", minutes=5, revision="2"),  # the form sent again
            row(s, "2026-W44", 60),
            row(s, "2026-W44", 100, ref="gone", minutes=5),
            row(s, "2026-W44", None, ref="gone", minutes=6, revision="d", retraction=True),
            row(s, "2026-W46", 72),
            row(s, "2026-W47", 30, minutes=9),  # stored first, recorded last: it counts
            row(s, "2026-W47", 86, minutes=1),
            row(s, "2026-W48", 120),  # above target: a full bar
        ],
    )
    # Worked out by hand: progress = value / 100, clamped, in eight steps (0, 1/7, ... 1);
    # W41, W45 and W49 (this week, not yet checked in) have no value.
    expected = "▁·▂▄▅·▆▃█·"
    assert len(expected) == len(periods_from("2026-W40", "2026-W49"))
    reply = await show(stack, s.owner, "show KR1")
    assert f"*By week* `{expected}`" in reply.text, reply.text
    assert "2026-W40 to 2026-W49" in reply.text
    assert "0 → *120* → 100" in reply.text
    assert "⏳ outdated" not in reply.text  # checked in last week


async def test_outdated_after_two_periods_everywhere(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.driver is not None and stack.ws is not None
    s = await setting(stack)
    await show(stack, s.owner, "update KR1 10 on track conf 9")

    async def screens() -> dict[str, list[str]]:
        """The mrkdwn of each screen that shows KR1 (the lead's `mine` lists O1 whole)."""
        assert stack.driver is not None
        await stack.driver.open_home(s.owner)
        home = stack.slack.home(s.owner.id)
        assert home is not None

        async def blocks(who: User, words: str) -> list[str]:
            body = (await show(stack, who, words)).answer.json
            assert body is not None
            return mrkdwn_texts(body["blocks"])

        return {
            "kr1": await blocks(s.owner, "show KR1"),
            "kr2": await blocks(s.owner, "show KR2"),
            "objective": await blocks(s.owner, "show O1"),
            "team": await blocks(s.owner, "team Team 0"),
            "mine": await blocks(s.lead, "mine"),
            "home": mrkdwn_texts(home.view["blocks"]),
        }

    def marked(texts: list[str]) -> bool:
        return any("⏳ outdated" in text for text in texts)

    now = await screens()
    assert any("🟢 on track (reported)" in t for t in now["kr1"])  # behind pace, but reported
    assert not any(marked(texts) for texts in now.values()), now

    clock.advance(timedelta(days=7))  # 2026-W50: one period without a check-in
    later = await screens()
    assert not any(marked(texts) for texts in later.values()), later
    assert not any("on track (reported)" in t for t in later["kr1"])  # it held for its week

    clock.advance(timedelta(days=7))  # 2026-W51: two
    async with stack.app.sessions.begin() as session:  # and a key result new this week
        lead = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=s.lead.id)
        await key_results.add_key_result(
            session,
            actor=lead,
            objective_ref="O1",
            title="Brand new",
            target=5,
            owner_person_id=s.world.person(s.owner),
        )
    stale = await screens()
    status = "*Status* ⏳ outdated: no check-in since 2026-W49 (last reported 🟢 on track)"
    assert any(status in t for t in stale["kr1"]), stale["kr1"]
    assert not any("on track (reported)" in t for t in stale["kr1"])
    assert any("*Status* ⏳ outdated: no check-in yet" in t for t in stale["kr2"])  # since W49
    for name in ("objective", "team", "mine"):
        assert "⏳ outdated" in about(stale[name], "KR1"), (name, stale[name])
        assert "⏳ outdated" in about(stale[name], "KR2"), (name, stale[name])
        assert "⏳ outdated" not in about(stale[name], "KR3"), (name, stale[name])
    assert "⏳ outdated" in about(stale["home"], "KR1"), stale["home"]
    assert "⏳ outdated" not in about(stale["home"], "KR3"), stale["home"]
    assert "*KR2*" not in "".join(stale["home"])  # not the owner's

    await show(stack, s.owner, "update KR1 12")  # checked in again: no longer outdated
    fresh = await show(stack, s.owner, "show O1")
    assert fresh.answer.json is not None
    assert "⏳ outdated" not in about(mrkdwn_texts(fresh.answer.json["blocks"]), "KR1")
    assert "⏳ outdated" in about(mrkdwn_texts(fresh.answer.json["blocks"]), "KR2")


async def test_typed_text_is_escaped_on_the_page(stack: SandboxStack) -> None:
    assert stack.app is not None
    s = await setting(stack)
    async with stack.app.sessions.begin() as session:
        kr = await session.get(KeyResult, s.team.key_result_ids[0])
        assert kr is not None
        kr.title, kr.unit = EVIL, "<!here>"
    await show(stack, s.owner, f"update KR1 10 — {EVIL}")
    page = await show(stack, s.owner, "show KR1")
    body = page.answer.json
    assert body is not None
    texts = mrkdwn_texts(body["blocks"])
    assert any("&lt;!channel&gt; look &lt;https://evil|x&gt; &amp; more" in t for t in texts)
    for text in texts:
        assert "<!channel>" not in text and "<!here>" not in text and "<https://" not in text
    assert "<!" not in body["text"] and "<https" not in body["text"]
    header = body["blocks"][0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert f"{EVIL} look" not in page.text  # the note is shown once, literally
    assert EVIL in page.text


async def test_a_ref_of_another_workspace_is_not_found(stack: SandboxStack) -> None:
    assert stack.app is not None
    await setting(stack)
    reply = await show(stack, stack.slack.add_user(stack.ws, "newcomer"), "show KR9")  # type: ignore[arg-type]
    assert "There is no KR9 here" in reply.text
    async with stack.app.sessions.begin() as session:
        outsider = await actor_for(session, slack_team_id="T0OTHER", slack_user_id="U0OUT")
        with pytest.raises(NotFound):
            await read_key_result_page(session, actor=outsider, ref="KR1", at=clock.now())


async def test_the_page_costs_the_same_statements_for_1_and_100_checkins(
    stack: SandboxStack,
) -> None:
    assert stack.app is not None
    s = await setting(stack)
    await add_rows(stack, [row(s, "2026-W49", 10)])
    await show(stack, s.owner, "show KR1")  # the person is known from now on

    async def statements() -> int:
        assert stack.app is not None
        with counting_statements(stack.app.engine) as seen:
            reply = await show(stack, s.owner, "show KR1")
        assert "KR1" in reply.text
        return len(seen)

    one = await statements()
    periods = periods_from("2026-W40", "2026-W49")
    authors = [s.owner, s.other_owner, s.lead]
    await add_rows(
        stack,
        [
            row(
                s,
                periods[n % len(periods)],
                None if n % 9 == 0 else n,
                minutes=n,
                ref=f"ref{n // 2}",
                revision=str(n),
                by=authors[n % 3],
                source=("thread", "dm", "command", "modal")[n % 4],
                retraction=n % 9 == 0,
                note=f"note {n}",
            )
            for n in range(1, 100)
        ],
    )
    hundred = await statements()
    reply = await show(stack, s.owner, "show KR1")
    assert "page 1 of" in reply.text and "@lead0" in reply.text
    assert one == hundred, (one, hundred)


async def test_round_periods_agree_with_the_intakes_rule(stack: SandboxStack) -> None:
    """The screens' batch rule (`round_periods.periods_of`) and the intake's one-key-result
    rule (`checkin_targets.open_period_of`) give every key result the same open period: a
    team's key result, a personal one (its owner's earliest team), one with no team (the
    workspace default), before and after a round started by hand."""
    assert stack.app is not None and stack.ws is not None
    s = await setting(stack)
    loner_user = stack.slack.add_user(stack.ws, "loner")
    async with stack.app.sessions.begin() as session:
        team = await session.get(Team, s.team.id)
        workspace = await session.get(Workspace, s.workspace_id)
        assert team is not None and workspace is not None
        team.checkin_weekday = 4  # Fridays 10:00 UTC
        workspace.settings = {"checkin_weekday": 3, "checkin_time": "09:00"}  # Thursdays
        today = clock.now().date()
        for user in (s.owner, loner_user):
            actor = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=user.id)
            saved = await objectives.create_objective(
                session, actor=actor, title=f"{user.name} grows", level="personal", today=today
            )
            await key_results.add_key_result(
                session, actor=actor, objective_ref=saved.ref, title="Talks given", target=3
            )

    async def both() -> tuple[dict[str, str], dict[str, str]]:
        assert stack.app is not None
        async with stack.app.sessions() as session:
            krs = (await session.execute(select(KeyResult))).scalars().all()
            teams = {o.id: o for o in (await session.execute(select(Objective))).scalars()}
            batch = await periods_of(
                session,
                workspace_id=s.workspace_id,
                key_results=krs,
                team_of_objective={o.id: o.team_id for o in teams.values()},
                at=clock.now(),
            )
            one = {
                kr.ref: await open_period_of(session, kr, teams[kr.objective_id], at=clock.now())
                for kr in krs
            }
        return {kr.ref: batch[kr.id].current for kr in krs}, one

    def weeks(*labels: str) -> dict[str, str]:
        return {f"KR{n}": f"2026-{week}" for n, week in enumerate(labels, 1)}

    # Monday of 2026-W49, 10:00: Friday's and Thursday's rounds of W48 are the open ones
    batch, one = await both()
    assert batch == one == weeks("W48", "W48", "W48", "W48")
    await show(stack, s.lead, "checkin now Team 0")  # the team's round of W49 starts early
    batch, one = await both()
    assert batch == one == weeks("W49", "W49", "W49", "W48")
    clock.advance(timedelta(days=3, hours=-1))  # Thursday 09:00: the default round opens
    batch, one = await both()
    assert batch == one == weeks("W49", "W49", "W49", "W49")
