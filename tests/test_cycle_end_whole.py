"""A whole cycle over the emulator: a committed objective written in the form beside the
teams' aspirational ones, four check-in rounds answered in the DMs, the clock's end, grading
(one grade out of band with its reason, one committed objective explained, some left to the
deadline), an attributed and an anonymous retrospective, and the summaries, every figure of
which is worked out here from the plan, not by the bot's code."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.models import Team
from bot.sandbox.emulator import User
from bot.sandbox.emulator.blockkit import validate_message
from bot.sandbox.emulator.state import Message
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from tests.ceremony_fixtures import clocked_stack
from tests.cycle_end_fixtures import (
    answer_retro,
    blocks_text,
    button_value,
    poll_in,
    run_ticks,
    set_now,
    summary_in,
    vote,
)
from tests.databases import Database

CYCLE = (date(2026, 10, 1), date(2026, 12, 31))
MONDAYS = [datetime(2026, 12, d, 10, 0, tzinfo=UTC) for d in (7, 14, 21, 28)]  # W50-W53
END = datetime(2027, 1, 1, tzinfo=UTC)
DEADLINE = END + timedelta(days=5)

# The plan. Key results: ref -> (owner, start, target, objective); owners are team members
# "t<team>-<n>" (owners 0-2) or the lead "lead<team>".
KEY_RESULTS = {
    "KR1": ("t0-0", 0, 100, "O1"), "KR2": ("t0-1", 30, 50, "O1"), "KR3": ("t0-2", 0, 100, "O1"),
    "KR4": ("t1-0", 0, 100, "O2"), "KR5": ("t1-1", 30, 50, "O2"), "KR6": ("t1-2", 0, 100, "O2"),
    "KR7": ("lead0", 0, 10, "O3"), "KR8": ("t0-0", 0, 20, "O3"),
}  # fmt: skip
VALUES = {  # four rounds of check-ins
    "KR1": (20, 40, 55, 65), "KR2": (35, 38, 42, 48), "KR3": (10, 20, 25, 30),
    "KR4": (30, 50, 60, 62), "KR5": (33, 36, 40, 43), "KR6": (50, 70, 80, 95),
    "KR7": (2, 4, 6, 9), "KR8": (5, 10, 15, 20),
}  # fmt: skip
GRADED = {"KR1": "0.7", "KR2": "0.5", "KR4": "0.6", "KR5": "0.65", "KR7": "0.9", "KR8": "1.0"}
REASON = "the last deal fell through"  # KR2: 0.5 is 0.4 from its measured 0.9
EXPLANATION = "one audit item slipped to January"
COMMITTED = {"O3"}
OBJECTIVES = {"O1": "Team 0 delights its customers", "O2": "Team 1 delights its customers",
              "O3": "Ship the security audit"}  # fmt: skip
VOTES = {0: {"t0-0": 4, "t0-1": 5, "t0-2": 2}, 1: {"t1-0": 5, "t1-1": 4, "t1-2": 4}}
ANSWERS = {
    0: {"t0-0": {"went_well": "Pairing on the hard ones", "to_change": "Smaller key results"},
        "t0-1": {"went_badly": "Late data from finance"}},
    1: {"t1-0": {"went_well": "Weekly demos"}, "t1-1": {"went_badly": "Too many meetings"},
        "t1-2": {"to_change": "Fewer objectives"}},
}  # fmt: skip


def two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected() -> dict[str, Any]:
    """Every figure of the summaries, from the plan."""
    measured = {}
    for ref, (_owner, start, target, _o) in KEY_RESULTS.items():
        progress = (Decimal(VALUES[ref][-1]) - start) / (Decimal(target) - start)
        measured[ref] = two(min(Decimal(1), max(Decimal(0), progress)))
    final = {ref: (Decimal(GRADED[ref]), False) if ref in GRADED else (measured[ref], True)
             for ref in KEY_RESULTS}  # fmt: skip
    objective = {
        o: two(sum((final[r][0] for r, v in KEY_RESULTS.items() if v[3] == o), Decimal(0))
               / sum(1 for v in KEY_RESULTS.values() if v[3] == o))
        for o in OBJECTIVES
    }  # fmt: skip
    sweet = {}
    for team, objectives in ((0, {"O1"}), (1, {"O2"})):
        grades = [final[r][0] for r, v in KEY_RESULTS.items() if v[3] in objectives - COMMITTED]
        inside = sum(1 for g in grades if Decimal("0.6") <= g <= Decimal("0.7"))
        above = sum(1 for g in grades if g > Decimal("0.7"))
        sweet[team] = (len(grades), inside, above, len(grades) - inside - above)
    ratings = {t: [list(v.values()).count(r) for r in range(1, 6)] for t, v in VOTES.items()}
    means = {t: (Decimal(sum(v.values())) / len(v)).quantize(Decimal("0.1"),
                                                            rounding=ROUND_HALF_UP)
             for t, v in VOTES.items()}  # fmt: skip
    return {"measured": measured, "final": final, "objective": objective, "sweet": sweet,
            "ratings": ratings, "means": means}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_offset() -> Iterator[None]:
    before = clock.offset()
    set_now(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    yield
    clock.set_offset(before)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    async with clocked_stack(database, update_every_seconds=0) as running:
        yield running


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def pick(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


async def write_committed_objective(stack: SandboxStack, world: World, lead: User) -> None:
    """O3, committed, in the objective form; KR7 (the lead's) and KR8 (t0-0's) after it."""
    assert stack.driver is not None
    d = stack.driver
    team = world.teams[0]
    await d.command(lead, "new", channel=team.channel)
    modal = await d.modal(lead)
    saved = await d.submit(lead, modal, {
        "title": {"title": text_input(OBJECTIVES["O3"])},
        "level": {"level": pick("team")},
        "team": {"team": pick(str(team.id))},
        "owner": {"owner": {"type": "users_select", "selected_user": lead.id}},
        "commitment": {"commitment": pick("committed")},
    })  # fmt: skip
    assert saved.json is not None and saved.json["response_action"] == "update", saved.json
    for title, target, owner in (
        ("Audit items closed from 0 to 10", "10", lead),
        ("Controls documented from 0 to 20", "20", team.owners[0]),
    ):
        await d.submit(lead, modal, {
            "title": {"title": text_input(title)}, "kind": {"kind": pick("number")},
            "start": {"start": text_input("0")}, "target": {"target": text_input(target)},
            "direction": {"direction": pick("auto")},
            "owner": {"owner": {"type": "users_select", "selected_user": owner.id}},
        })  # fmt: skip
    await d.close(lead, modal)


def who(world: World, name: str) -> User:
    team = world.teams[int(name[-1]) if name.startswith("lead") else int(name[1])]
    return team.lead if name.startswith("lead") else team.owners[int(name.split("-")[1])]


async def check_in_four_rounds(stack: SandboxStack, world: World) -> None:
    """Each owner answers each week's DM, a line a key result (their DM's numbering)."""
    assert stack.driver is not None
    owners: dict[str, list[str]] = {}
    for ref, (owner, *_rest) in KEY_RESULTS.items():
        owners.setdefault(owner, []).append(ref)
    for week, monday in enumerate(MONDAYS):
        await run_ticks(stack, monday)
        for owner, refs in owners.items():
            lines = "\n".join(
                f"#{n} {VALUES[ref][week]}"
                for n, ref in enumerate(sorted(refs, key=lambda r: int(r[2:])), 1)
            )
            await stack.driver.say(who(world, owner), lines)
        await run_ticks(stack, monday + timedelta(hours=1))


async def grade_everything(stack: SandboxStack, world: World) -> None:
    assert stack.driver is not None
    d = stack.driver
    by_owner: dict[str, list[str]] = {}
    for ref in GRADED:
        by_owner.setdefault(KEY_RESULTS[ref][0], []).append(ref)
    for owner, refs in by_owner.items():
        user = who(world, owner)
        [dm] = [m for m in stack.slack.dms(user.id) if "Grade my key results" in str(m.blocks)]
        before = stack.slack.open_modal(user.id)
        await d.click(user, action_id="grading.open", message=dm,
                      value=button_value(dm, "grading.open"))  # fmt: skip
        modal = await d.modal(user, other_than=before)
        values = {f"grade:{r}": {"grade": text_input(GRADED[r])} for r in refs}
        if "KR2" in refs:
            refused = await d.submit(user, modal, values)
            assert "reason:KR2" in refused.json["errors"]  # type: ignore[index]
            values["reason:KR2"] = {"reason": text_input(REASON)}
        if owner == "lead0":
            refused = await d.submit(user, modal, values)
            assert "explain:O3" in refused.json["errors"]  # type: ignore[index]
            values["explain:O3"] = {"explain": text_input(EXPLANATION)}
        saved = await d.submit(user, modal, values)
        assert saved.json is not None and saved.json["response_action"] == "update"


async def run_retros(stack: SandboxStack, world: World) -> None:
    for team_no, team in enumerate(world.teams):
        [poll] = poll_in(stack, team.channel.id)
        for name, rating in VOTES[team_no].items():
            first = rating if team_no == 1 or name != "t0-1" else 3  # t0-1 changes 3 -> 5
            assert "Thank you" in await vote(stack, who(world, name), poll, first)
        said = await vote(stack, who(world, "t0-0" if team_no == 0 else "t1-0"), poll, 4)
        assert ("already; nothing changed" if team_no == 0 else "final") in said
        if team_no == 0:
            assert "from 3 to 5" in await vote(stack, who(world, "t0-1"), poll, 5)
        for name, parts in ANSWERS[team_no].items():
            sent = await answer_retro(stack, who(world, name), poll, parts)
            assert ("final once sent" in str(sent["modal"])) == (team_no == 1)
    # The poll's count is live: each channel's poll says who has responded.
    await run_ticks(stack, END + timedelta(hours=2))
    for team in world.teams:
        [poll] = poll_in(stack, team.channel.id)
        assert "3 people have responded so far" in blocks_text(poll)


async def test_a_whole_cycle(stack: SandboxStack) -> None:
    assert stack.app is not None and stack.ws is not None
    world = await build_world(
        stack.app.sessions, stack.slack, stack.ws, teams=2, owners_per_team=3, cycle=CYCLE
    )
    async with stack.app.sessions.begin() as session:
        await session.execute(
            update(Team).where(Team.id == world.teams[1].id).values(anonymous_retros=True)
        )
    # build_world's third owner of each team has "Signups from 0 to 100": KR3 and KR6 fit.
    await write_committed_objective(stack, world, world.teams[0].lead)
    await check_in_four_rounds(stack, world)
    await run_ticks(stack, END)
    await grade_everything(stack, world)
    await run_retros(stack, world)
    late_voter = world.teams[0].lead
    fac = stack.slack.add_user(stack.ws, "fac", admin=True)
    assert stack.driver is not None
    await stack.driver.command(fac, "cycle list")  # known to the bot: asked about the next cycle
    # As the poll looked before the deadline: a click after it, before its last update shows.
    as_seen = copy.deepcopy(poll_in(stack, world.teams[0].channel.id)[0])
    await run_ticks(stack, DEADLINE)
    assert "closed on 2027-01-06" in await vote(stack, late_voter, as_seen, 3)
    [poll0] = poll_in(stack, world.teams[0].channel.id)
    assert "The retrospective is closed" in blocks_text(poll0)
    assert "retro.vote" not in str(poll0.blocks)
    figures = expected()
    for team_no, team in enumerate(world.teams):
        [summary] = summary_in(stack, team.channel.id)
        validate_message({"text": summary.text, "blocks": summary.blocks})
        text = blocks_text(summary)
        check_team_summary(text, team_no, figures)
    await check_grades_on_show(stack, world, figures)
    await carry_over(stack, world, fac, figures)


def check_team_summary(text: str, team_no: int, figures: dict[str, Any]) -> None:
    objectives = ({"O1", "O3"}, {"O2"})[team_no]
    for o in objectives:
        grade = figures["objective"][o]
        band = "🟢" if grade >= Decimal("0.7") else "🟡" if grade >= Decimal("0.4") else "🔴"
        kind = "committed" if o in COMMITTED else "aspirational"
        assert f"*{o}* {OBJECTIVES[o]} ({kind}) {band} {grade:.2f}" in text, (o, text)
    for ref, (_owner, _s, _t, o) in KEY_RESULTS.items():
        if o not in objectives:
            assert f"*{ref}*" not in text
            continue
        grade, measured = figures["final"][ref]
        assert f"({o}) " in text and f"{grade:.2f}" + (" _(measured)_" if measured else "") in text
    assert REASON in text if team_no == 0 else REASON not in text
    total, inside, above, below = figures["sweet"][team_no]
    share = f"{Decimal(inside) / Decimal(total):.0%}"
    assert f"{inside} of {total} ({share}); {above} above, {below} below." in text
    reading = (
        "Mostly below" if below * 2 > total else "Mostly above" if above * 2 > total else "Around"
    )
    assert reading in text
    if team_no == 0:
        assert (
            f"*O3* {OBJECTIVES['O3']}: missed ({figures['objective']['O3']:.2f}) — _{EXPLANATION}_"
            in text
        )
    spread = " · ".join(f"{n}: {c}" for n, c in enumerate(figures["ratings"][team_no], 1))
    votes = len(VOTES[team_no])
    assert f"({votes} votes, mean {figures['means'][team_no]})\n{spread}" in text
    for parts in ANSWERS[team_no].values():
        for said in parts.values():
            assert said in text
            line = next(line for line in text.splitlines() if said in line)
            assert ("<@" in line) == (team_no == 0)  # attributed unless anonymous
    people = 4  # three owners and the lead
    assert (
        f"Participation: 3 of {people} responded (3 voted, {len(ANSWERS[team_no])} answered)"
        in text
    )


async def check_grades_on_show(stack: SandboxStack, world: World, figures: dict[str, Any]) -> None:
    """History: `/okr show` of a closed cycle's objective shows its final grades."""
    assert stack.driver is not None
    shown = str((await stack.driver.command(world.teams[0].lead, "show O3")).json)
    assert f"*Final grade* 🟢 {figures['objective']['O3']:.2f}" in shown
    assert EXPLANATION in shown
    shown = str((await stack.driver.command(world.teams[0].lead, "show O1")).json)
    assert f"Final grade 🔴 {figures['final']['KR3'][0]:.2f} _(measured)_" in shown
    history = str((await stack.driver.command(world.teams[0].lead, "cycle show 2026-Q4")).json)
    assert "2026-Q4 summary · Team 0" in history and "2026-Q4 summary · Team 1" in history
    assert "Around the sweet spot" in history and "Mostly below the sweet spot" in history
    nothing = str((await stack.driver.command(world.teams[0].lead, "cycle show 2027-Q9")).json)
    assert "no cycle called `2027-Q9`" in nothing
    await stack.driver.open_home(world.teams[0].lead)
    home = ""
    for _ in range(200):
        view = stack.slack.home(world.teams[0].lead.id)
        home = str(view.view) if view is not None else ""
        if "Past cycles" in home:
            break
        await asyncio.sleep(0.01)
    for ref in ("O1", "O3"):
        assert f"*{ref}* {OBJECTIVES[ref]}  " in home and f"{figures['objective'][ref]:.2f}" in home
    assert "`/okr cycle show 2026-Q4`" in home


async def click_offer(
    stack: SandboxStack, user: User, ref: str, action: str, *, seen: Message | None = None
) -> str:
    """Click `action` on the offer of `ref` in the person's carry-over DM (as it is now, or as
    `seen` earlier: a window not refreshed yet)."""
    assert stack.driver is not None
    [dm] = [m for m in stack.slack.dms(user.id) if "did not reach 1.0" in m.text + str(m.blocks)]
    dm = seen or dm
    blocks = dm.blocks
    index = next(i for i, b in enumerate(blocks) if f"*{ref}*" in str(b.get("text", "")))
    actions = blocks[index + 1]
    value = next(e["value"] for e in actions["elements"] if e["action_id"] == action)
    before = len(stack.slack.answers_to(user.id))
    await stack.driver.click(
        user, action_id=action, message=dm, value=value, block_id=actions["block_id"]
    )
    if action == "carry.adjust":
        return ""
    from tests.cycle_end_fixtures import answered

    return await answered(stack, user, before)


async def carry_over(stack: SandboxStack, world: World, fac: User, figures: dict[str, Any]) -> None:
    """No next cycle yet: the facilitator is asked, creates it in one click, and the offers go
    out; keep, adjust and drop each do what they say, and nothing else is carried."""
    assert stack.driver is not None and stack.app is not None
    d = stack.driver
    [ask] = [m for m in stack.slack.dms(fac.id) if "Create 2027-Q1" in str(m.blocks)]
    assert "unfinished key result" in blocks_text(ask)
    unfinished = [r for r in KEY_RESULTS if figures["final"][r][0] < 1]
    assert f"{len(unfinished)} unfinished" in blocks_text(ask)
    ana = who(world, "t0-0")
    assert not [m for m in stack.slack.dms(ana.id) if "did not reach 1.0" in str(m.blocks)]
    before = len(stack.slack.answers_to(fac.id))
    await d.click(fac, action_id="carry.create_cycle", message=ask,
                  value=button_value(ask, "carry.create_cycle"))  # fmt: skip
    from tests.cycle_end_fixtures import answered

    assert "Created 2027-Q1 (2027-01-01 → 2027-03-31)" in await answered(stack, fac, before)
    await run_ticks(stack, DEADLINE + timedelta(hours=1), DEADLINE + timedelta(hours=2))
    for owner in {KEY_RESULTS[r][0] for r in unfinished}:
        offers = [m for m in stack.slack.dms(who(world, owner).id)
                  if "did not reach 1.0" in str(m.blocks)]  # fmt: skip
        assert len(offers) == 1, owner
    assert "KR8" not in str([m.blocks for m in stack.slack.dms(ana.id)][-1])  # reached 1.0
    [offer] = [m for m in stack.slack.dms(ana.id) if "did not reach 1.0" in str(m.blocks)]
    seen = copy.deepcopy(offer)
    assert "Carried KR1 into 2027-Q1 as KR9, under O4 (a draft" in await click_offer(
        stack, ana, "KR1", "carry.keep"
    )
    [offer] = [m for m in stack.slack.dms(ana.id) if "did not reach 1.0" in str(m.blocks)]
    kr1 = next(i for i, b in enumerate(offer.blocks) if "*KR1*" in str(b.get("text", "")))
    assert offer.blocks[kr1 + 1]["type"] == "context"  # its buttons gave way to what was done
    assert "✓ Carried KR1 into 2027-Q1 as KR9" in str(offer.blocks[kr1 + 1])
    others = [b for b in offer.blocks if b["type"] == "actions"]
    assert len(others) == len([b for b in seen.blocks if b["type"] == "actions"]) - 1
    assert "You chose already: kept as KR9" in await click_offer(
        stack, ana, "KR1", "carry.keep", seen=seen
    )
    ben = who(world, "t0-1")
    open_before = stack.slack.open_modal(ben.id)
    await click_offer(stack, ben, "KR2", "carry.adjust")
    modal = await d.modal(ben, other_than=open_before)
    bad = await d.submit(ben, modal, {"target": {"target": text_input("20")}})
    assert "must be above the start" in str(bad.json)  # 30 -> 20 would not be an increase
    await d.submit(ben, modal, {"target": {"target": text_input("45")}})
    assert "Carried KR2 into 2027-Q1 as KR10, under O4" in str(modal.view)
    assert "Dropped KR3" in await click_offer(stack, who(world, "t0-2"), "KR3", "carry.drop")
    from bot.models import KeyResult, Objective

    async with stack.app.sessions() as session:
        carried = {
            k.ref: (k.carried_from_id, k.target_value, k.objective_id)
            for k in (await session.execute(select(KeyResult))).scalars()
            if k.carried_from_id
        }
        o4 = (
            await session.execute(select(Objective).where(Objective.ref_number == 4))
        ).scalar_one()
        refs = {k.id: k.ref for k in (await session.execute(select(KeyResult))).scalars()}
    assert {r: (refs[c], t) for r, (c, t, _o) in carried.items()} == {
        "KR9": ("KR1", 100.0), "KR10": ("KR2", 45.0)
    }  # fmt: skip
    assert (o4.state, o4.commitment, o4.title) == ("draft", "aspirational", OBJECTIVES["O1"])
    started = await d.command(fac, "cycle start 2027-Q1")
    assert started.status == 200
    async with stack.app.sessions() as session:
        assert (await session.get_one(Objective, o4.id)).state == "active"
    await lessons_shown(stack, world)


async def lessons_shown(stack: SandboxStack, world: World) -> None:
    """Iterate: "what we change" answers on the team's first `/okr new` of the next cycle and
    at the top of its first digest (the anonymous team's too: 3 answered)."""
    assert stack.driver is not None
    d = stack.driver
    for team_no, team in enumerate(world.teams):
        before = stack.slack.open_modal(team.lead.id)
        await d.command(team.lead, "new", channel=team.channel)
        modal = await d.modal(team.lead, other_than=before)
        shown = str(modal.view["blocks"])
        assert "Last cycle (2026-Q4) you said you would change" in shown
        for parts in ANSWERS[team_no].values():
            if "to_change" in parts:
                assert parts["to_change"] in shown
        assert "Weekly demos" not in shown  # only what we change
        await d.close(team.lead, modal)
    monday = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)  # 2027-W02: team 0 has key results
    await run_ticks(stack, monday, monday + timedelta(days=2), monday + timedelta(days=2, hours=1))
    channel = world.teams[0].channel.id
    digests = [
        m for m in stack.slack.channel_messages(channel) if m.bot_id and "2027-W02" in m.text
    ]
    assert digests and "you said you would change" in blocks_text(digests[-1])
    assert "Smaller key results" in blocks_text(digests[-1])
    later = monday + timedelta(days=7)
    await run_ticks(stack, later, later + timedelta(days=2), later + timedelta(days=2, hours=1))
    second = [m for m in stack.slack.channel_messages(channel) if m.bot_id and "2027-W03" in m.text]
    assert second and all("you said you would change" not in blocks_text(m) for m in second)
