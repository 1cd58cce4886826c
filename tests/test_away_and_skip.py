"""`/okr away` and `/okr team skip|unskip` as conversations over the emulator, on a clock
frozen to Wednesday 2026-12-16 (ISO week 2026-W51)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.models import Audit, AwayPeriod, Person, TeamSkippedPeriod, Workspace
from bot.sandbox.conversation import Conversation
from bot.sandbox.emulator import User
from bot.sandbox.stack import SandboxStack
from bot.services import teams
from bot.services.actors import actor_for
from tests.databases import Database

WEDNESDAY = datetime(2026, 12, 16, 12, 0, tzinfo=UTC)
EXAMPLE = "`/okr away 2026-12-21..2026-12-25`"  # next Monday to Friday, seen on WEDNESDAY


def set_now(at: datetime) -> None:
    clock.set_offset(at - datetime.now(UTC))


@pytest.fixture(autouse=True)
def wednesday() -> Iterator[None]:
    before = clock.offset()
    set_now(WEDNESDAY)
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def people(stack: SandboxStack) -> dict[str, User]:
    assert stack.ws is not None
    return {
        "pat": stack.slack.add_user(stack.ws, "pat", admin=True),
        "sam": stack.slack.add_user(stack.ws, "sam"),
        "kim": stack.slack.add_user(stack.ws, "kim"),
    }


async def away_rows(stack: SandboxStack) -> list[tuple[str, date, date]]:
    """(Slack user name, first day, last day) of every away period, by name and first day."""
    assert stack.app is not None
    names = {user.id: user.name for user in stack.slack.state.users.values()}
    async with stack.app.sessions() as session:
        rows = await session.execute(
            select(Person.slack_user_id, AwayPeriod.starts_on, AwayPeriod.ends_on).join(
                Person, Person.id == AwayPeriod.person_id
            )
        )
        return sorted((names[r.slack_user_id], r.starts_on, r.ends_on) for r in rows)


async def audit_actions(stack: SandboxStack) -> list[str]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        return list((await session.execute(select(Audit.action).order_by(Audit.id))).scalars())


async def test_away_marks_merges_lists_and_cancels(stack: SandboxStack) -> None:
    assert stack.driver is not None
    who = people(stack)
    sam, kim, pat = who["sam"], who["kim"], who["pat"]
    talk = Conversation(stack.driver)

    async def says(user: User, text: str) -> str:
        return (await talk.command(user, text)).text

    assert "You are away Mon 21 Dec 2026 – Sun 3 Jan 2027: no check-in prompts" in (
        await says(sam, "away 2026-12-21..2027-01-03")
    )
    assert await away_rows(stack) == [("sam", date(2026, 12, 21), date(2027, 1, 3))]
    # A touching day merges; days inside a period change nothing.
    assert "You are away Mon 21 Dec 2026 – Mon 4 Jan 2027:" in await says(sam, "away 2027-01-04")
    assert "You are away Mon 21 Dec 2026 – Mon 4 Jan 2027 already" in (
        await says(sam, "away 2026-12-24 to 2026-12-26")
    )
    assert "Mon 1 Feb 2027 – Fri 5 Feb 2027" in await says(sam, "away 2027-02-01 2027-02-05")
    assert "Fri 18 Dec 2026 – Mon 4 Jan 2027" in await says(sam, "away 2026-12-18 .. 2026-12-20")
    assert await away_rows(stack) == [
        ("sam", date(2026, 12, 18), date(2027, 1, 4)),
        ("sam", date(2027, 2, 1), date(2027, 2, 5)),
    ]
    listed = await says(sam, "away")
    assert (
        "You are away:\n• Fri 18 Dec 2026 – Mon 4 Jan 2027\n• Mon 1 Feb 2027 – Fri 5 Feb 2027"
        in (listed)
    )
    assert f"You have no away days coming up. Mark some with {EXAMPLE}" in await says(kim, "away")

    # Anyone may read someone's away days; only facilitators and admins change them.
    assert "@sam is away:\n• Fri 18 Dec 2026" in await says(kim, f"away <@{sam.id}|sam>")
    assert "@pat has no away days coming up" in await says(kim, f"away <@{pat.id}|pat>")
    assert "@kim is away Mon 1 Mar 2027 – Tue 2 Mar 2027:" in (
        await says(pat, f"away <@{kim.id}|kim> 2027-03-01..2027-03-02")
    )
    # A period that bridges two merges all three into one row.
    assert "You are away Fri 18 Dec 2026 – Fri 5 Feb 2027:" in (
        await says(sam, "away 2027-01-05..2027-01-31")
    )
    assert "You are away Wed 10 Mar 2027:" in await says(sam, "away 2027-03-10")
    assert await away_rows(stack) == [
        ("kim", date(2027, 3, 1), date(2027, 3, 2)),
        ("sam", date(2026, 12, 18), date(2027, 2, 5)),
        ("sam", date(2027, 3, 10), date(2027, 3, 10)),
    ]

    # A week later the first period is under way: cancelling keeps the days already past.
    set_now(datetime(2026, 12, 23, 12, 0, tzinfo=UTC))
    cancelled = await says(sam, "away clear")
    assert (
        "Cancelled: Fri 18 Dec 2026 – Fri 5 Feb 2027, Wed 10 Mar 2027. You are expected at "
        "check-ins again." in cancelled
    )
    assert await away_rows(stack) == [
        ("kim", date(2027, 3, 1), date(2027, 3, 2)),
        ("sam", date(2026, 12, 18), date(2026, 12, 22)),
    ]
    assert "You have no away days coming up" in await says(sam, "away")
    assert "You have no away days to cancel." in await says(sam, "away cancel")
    assert "@kim is expected at check-ins again" in await says(pat, f"away cancel <@{kim.id}|k>")
    assert await away_rows(stack) == [("sam", date(2026, 12, 18), date(2026, 12, 22))]
    assert await audit_actions(stack) == [
        *["away.mark"] * 7,
        "away.shorten",
        "away.cancel",
        "away.cancel",
    ]


async def test_away_refuses_bad_input_and_changes_nothing(stack: SandboxStack) -> None:
    assert stack.driver is not None
    who = people(stack)
    talk = Conversation(stack.driver)
    sam = who["sam"]
    assert "You are away" in (await talk.command(who["kim"], "away 2027-01-04")).text
    before = (await away_rows(stack), await audit_actions(stack))
    mention = f"<@{sam.id}|sam>"
    table: list[tuple[str, str, str]] = [
        ("sam", "away 2026-12-21..2026-12-20", "2026-12-20 is before 2026-12-21"),
        ("sam", "away 2026-12-01..2026-12-15", "is over already (today is 2026-12-16)"),
        ("sam", "away 2026-12-15", "is over already"),
        ("sam", "away 2026-12-21..2027-12-31", "That is 376 days; mark at most 366"),
        ("sam", "away 2026-13-01", "`2026-13-01` is not a date: write dates as YYYY-MM-DD"),
        ("sam", "away 21/12/2026..03/01/2027", "`21/12/2026` is not a date"),
        ("sam", "away next week", "`next` is not a date"),
        ("sam", "away 2026-12-21 2026-12-22 2026-12-23", "Give the first and last day away"),
        ("sam", "away cancel 2027-01-04", "it takes no dates"),
        ("kim", f"away {mention} 2026-12-21", "Only facilitators and admins mark away days"),
        ("kim", f"away cancel {mention}", "Only facilitators and admins mark away days"),
        ("pat", f"away {mention} <@{who['kim'].id}|kim> 2026-12-21", "Name one person at a time"),
    ]
    without_dates = ("cancel", "<@")  # answers about who or what, not about the dates
    for person, text, expected in table:
        answer = (await talk.command(who[person], text)).text
        assert expected in answer, (text, answer)
        if not any(word in text for word in without_dates):
            assert EXAMPLE in answer, (text, answer)  # the message shows a form that works
        assert (await away_rows(stack), await audit_actions(stack)) == before, text


@pytest.mark.parametrize(
    ("person_tz", "workspace_tz", "accepted"),
    [
        (None, "UTC", True),  # noon on the 16th: the 16th is today
        ("Pacific/Kiritimati", "UTC", False),  # 02:00 on the 17th for the person
        (None, "Pacific/Kiritimati", False),  # the workspace's zone stands in
        ("Europe/Berlin", "Pacific/Kiritimati", True),  # the person's own zone wins
    ],
)
async def test_away_judges_the_past_in_the_persons_time_zone(
    stack: SandboxStack, person_tz: str | None, workspace_tz: str, accepted: bool
) -> None:
    assert stack.driver is not None and stack.app is not None and stack.ws is not None
    sam = people(stack)["sam"]
    async with stack.app.sessions.begin() as session:
        await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=sam.id)
        await session.execute(update(Person).values(timezone=person_tz))
        await session.execute(update(Workspace).values(timezone=workspace_tz))
    answer = (await Conversation(stack.driver).command(sam, "away 2026-12-16")).text
    if accepted:
        assert "You are away Wed 16 Dec 2026:" in answer
        assert await away_rows(stack) == [("sam", date(2026, 12, 16), date(2026, 12, 16))]
    else:
        assert "is over already (today is 2026-12-17)" in answer
        assert await away_rows(stack) == []


async def seed_teams(stack: SandboxStack, who: dict[str, User]) -> Any:
    """Growth (lead lee, Berlin) in #growth and Ops (lead pat, UTC) with no channel."""
    assert stack.app is not None and stack.ws is not None
    growth = stack.slack.add_channel(stack.ws, "growth", members=list(who.values()))
    async with stack.app.sessions.begin() as session:
        pat = await actor_for(
            session, slack_team_id=stack.ws.id, slack_user_id=who["pat"].id, slack_admin=True
        )
        for name, channel, lead, tz in [
            ("Growth", growth.id, who["lee"].id, "Europe/Berlin"),
            ("Ops", None, who["pat"].id, "UTC"),
        ]:
            setup = teams.TeamSetup(
                name=name,
                channel_id=channel,
                lead_slack_id=lead,
                member_slack_ids=[who["sam"].id],
                parent_team_id=None,
                weekday=0,
                local_time=time(10, 0),
                timezone=tz,
                digest_delay_hours=48,
                reminder_delay_hours=24,
                anonymous_retros=False,
            )
            await teams.setup_team(session, actor=pat, setup=setup)
    return growth


async def skipped(stack: SandboxStack) -> list[str]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        rows = await session.execute(
            select(TeamSkippedPeriod.period).order_by(
                TeamSkippedPeriod.team_id, TeamSkippedPeriod.period
            )
        )
        return list(rows.scalars())


async def test_team_skips_and_unskips_weeks(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    who = people(stack) | {"lee": stack.slack.add_user(stack.ws, "lee")}
    growth = await seed_teams(stack, who)
    talk = Conversation(stack.driver)

    async def says(person: str, text: str, here: bool = True) -> str:
        return (await talk.command(who[person], text, channel=growth if here else None)).text

    assert "Growth skips no coming weeks. Skip one with `/okr team skip 2026-W52`." in (
        await says("sam", "team skip")
    )
    assert "Growth skips 2026-W52 (Mon 21 Dec – Sun 27 Dec): no check-in that week." in await says(
        "lee", "team skip 2026-W52"
    )
    assert "Growth skips 2026-W52 (Mon 21 Dec – Sun 27 Dec) already" in (
        await says("lee", "team skip 2026-w52 growth", here=False)
    )
    assert "Growth skips 2026-W53 (Mon 28 Dec – Sun 3 Jan): no check-in" in (
        await says("pat", f"team skip 2026-W53 <#{growth.id}|growth>", here=False)
    )
    assert "Growth skips 2026-W51 (Mon 14 Dec – Sun 20 Dec)" in await says(
        "lee", "team skip 2026-W51"
    )
    assert "Ops skips 2027-W02 (Mon 11 Jan – Sun 17 Jan)" in await says(
        "pat", "team skip 2027-W02 Ops"
    )
    listed = await says("sam", "team skip Growth", here=False)
    assert (
        "Growth skips:\n• 2026-W51 (Mon 14 Dec – Sun 20 Dec)\n• 2026-W52 (Mon 21 Dec – Sun 27 Dec)"
        "\n• 2026-W53 (Mon 28 Dec – Sun 3 Jan)" in listed
    )
    assert "Growth checks in as usual in 2026-W53 (Mon 28 Dec – Sun 3 Jan)." in (
        await says("lee", "team unskip 2026-W53")
    )
    assert "Growth does not skip 2026-W53 (Mon 28 Dec – Sun 3 Jan): its check-in runs as usual" in (
        await says("lee", "team unskip 2026-W53")
    )
    assert await skipped(stack) == ["2026-W51", "2026-W52", "2027-W02"]

    # Late on Sunday in UTC it is Monday in Berlin: Growth's 2026-W51 is over, Ops's is not.
    set_now(datetime(2026, 12, 20, 23, 30, tzinfo=UTC))
    assert "2026-W51 is over (it ended 2026-12-20)" in await says("lee", "team unskip 2026-W51")
    assert "Ops skips 2026-W51 (Mon 14 Dec – Sun 20 Dec): no check-in" in (
        await says("pat", "team skip 2026-W51 ops")
    )
    assert "Growth skips:\n• 2026-W52 (Mon 21 Dec – Sun 27 Dec)" in await says("sam", "team skip")
    assert await audit_actions(stack) == [
        "team.create",
        "team.create",
        *["team.skip"] * 4,
        "team.unskip",
        "team.skip",
    ]


async def test_team_skip_refuses_bad_input_and_changes_nothing(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None
    who = people(stack) | {"lee": stack.slack.add_user(stack.ws, "lee")}
    growth = await seed_teams(stack, who)
    talk = Conversation(stack.driver)
    before = (await skipped(stack), await audit_actions(stack))
    table: list[tuple[str, str, bool, str]] = [
        (
            "lee",
            "team skip 2026-52",
            True,
            "`2026-52` is not a week: write its ISO week label, like `2026-W52`.",
        ),
        ("lee", "team skip W52", True, "`W52` is not a week"),
        ("lee", "team skip 2026-W54", True, "`2026-W54` is not a week"),
        (
            "lee",
            "team unskip 2026-W50",
            True,
            "2026-W50 is over (it ended 2026-12-13). Name this week or a later one, like "
            "`2026-W51`.",
        ),
        ("lee", "team unskip", True, "Name the week to take back, like `/okr team unskip"),
        ("sam", "team skip 2026-W52", True, "Only the lead of Growth, facilitators and admins"),
        ("sam", "team unskip 2026-W52", True, "Only the lead of Growth"),
        ("lee", "team skip 2026-W52 Ops", True, "Only the lead of Ops"),
        ("lee", "team skip 2026-W52 nowhere", True, "No team for nowhere"),
        ("lee", "team skip 2026-W52", False, "No team for this channel"),
    ]
    for person, text, here, expected in table:
        reply = await talk.command(who[person], text, channel=growth if here else None)
        assert expected in reply.text, (text, reply.text)
        assert (await skipped(stack), await audit_actions(stack)) == before, text


async def test_help_lists_away_and_skip(stack: SandboxStack) -> None:
    assert stack.driver is not None
    shown = (await Conversation(stack.driver).command(people(stack)["sam"], "help")).text
    for usage in (
        "/okr away 2026-12-21..2027-01-03 [@person]",
        "/okr away cancel [@person]",
        "/okr team skip|unskip 2026-W52 [#channel|name]",
        "/okr team skip [#channel|name]",
    ):
        assert usage in shown
