"""One intake, many doors: every way of checking in reads a value the same way, and lets the
same people in. Each table row goes through the thread reply, the DM reply, `/okr update` and
the check-in form over the emulator (signed request in, Web API calls out), and must store
the same number, or give the same refusal, whichever door it came through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.jobs.clock import Ceremony
from bot.models import Checkin, KeyResult, Objective
from bot.repository.checkins import current_values
from bot.sandbox.emulator.state import Message, User
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import WorldTeam, build_world

BASE = 10.0  # every key result's value before the first row


pytestmark = pytest.mark.usefixtures("monday_ten")


@dataclass(frozen=True)
class Refused:
    reason: str  # the refusal's words, `{ref}` standing for the key result


@dataclass(frozen=True)
class Change:
    by: float  # stored: the value before plus this


Expected = float | Refused | Change
KINDS = ("number", "percent", "currency", "milestone")
SCALES = {  # kind: (unit, start, target)
    "number": ("users", 0.0, 100.0),
    "percent": ("%", 10.0, 50.0),
    "currency": ("$", 0.0, 20000.0),
    "milestone": ("", 0.0, 1.0),
}
MILESTONE = Refused("{ref} is a milestone: reply `{ref} done` when it is done (or `{ref} 0`")
UNREADABLE = "I could not read “{typed}” after {ref}: start with a value (45, 45%, 1.2k, done)"


def unreadable(typed: str) -> Refused:
    return Refused(UNREADABLE.replace("{typed}", typed))


# (typed value, what each kind of key result stores or says)
VALUES: list[tuple[str, dict[str, Expected]]] = [
    ("45", {k: 45.0 if k != "milestone" else MILESTONE for k in KINDS}),
    ("45.5", {k: 45.5 if k != "milestone" else MILESTONE for k in KINDS}),
    ("12,5", {k: 12.5 if k != "milestone" else MILESTONE for k in KINDS}),
    ("12,000", {k: 12000.0 if k != "milestone" else MILESTONE for k in KINDS}),
    ("1.2k", {k: 1200.0 if k != "milestone" else MILESTONE for k in KINDS}),
    (
        "$12,000",
        {
            "number": Refused("{ref} is counted in users, not in money."),
            "percent": Refused("{ref} is counted in %, not in money."),
            "currency": 12000.0,
            "milestone": MILESTONE,
        },
    ),
    (
        "45%",
        {
            "number": Refused("{ref} is counted in users, not in %."),
            "percent": 45.0,
            "currency": Refused("{ref} is counted in $, not in %."),
            "milestone": MILESTONE,
        },
    ),
    ("+3", {k: Change(3) if k != "milestone" else MILESTONE for k in KINDS}),
    ("-2", {k: Change(-2) if k != "milestone" else MILESTONE for k in KINDS}),
    (
        "done",
        {k: Refused("`done` is for milestones; {ref} needs a number.") for k in KINDS}
        | {"milestone": 1.0},
    ),
    ("forty", {k: unreadable("forty") for k in KINDS}),
    ("1e400", {k: unreadable("1e400") for k in KINDS}),
    ("nan", {k: unreadable("nan") for k in KINDS}),
    ("", {k: Refused("I could not find a value after {ref}.") for k in KINDS}),
]


@dataclass
class Setup:
    team: WorldTeam
    owner: User
    refs: dict[str, str]  # kind -> ref
    ids: dict[str, int]  # kind -> key result id
    prompt: Message
    workspace_id: int


async def setup(stack: SandboxStack) -> Setup:
    """One team, one owner with a key result of each kind, its round sent (prompt and DM)."""
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    team = world.teams[0]
    refs, ids = {}, {}
    async with stack.app.sessions.begin() as session:
        first = await session.get(KeyResult, team.key_result_ids[0])
        assert first is not None
        objective = await session.get(Objective, first.objective_id)
        assert objective is not None
        for number, kind in enumerate(KINDS):
            unit, start, target = SCALES[kind]
            kr = first
            if number:
                kr = KeyResult(
                    workspace_id=first.workspace_id,
                    ref_number=first.ref_number + number,
                    objective_id=objective.id,
                    owner_person_id=first.owner_person_id,
                    title=f"A {kind} key result",
                )
                session.add(kr)
            kr.kind, kr.unit, kr.start_value, kr.target_value = kind, unit, start, target
            await session.flush()
            refs[kind], ids[kind] = f"KR{kr.ref_number}", kr.id
    ceremony = Ceremony(stack.app)
    await ceremony.tick()
    await ceremony.sender.drain()
    [prompt] = [
        m
        for m in stack.slack.channel_messages(team.channel.id)
        if m.bot_id == stack.ws.bot_id and not m.thread_ts
    ]
    return Setup(team, team.owners[0], refs, ids, prompt, world.workspace_id)


async def values_now(stack: SandboxStack, s: Setup) -> dict[str, float | None]:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = await current_values(
            session, workspace_id=s.workspace_id, key_result_ids=s.ids.values()
        )
    return {kind: (found[i].value if i in found else None) for kind, i in s.ids.items()}


async def rows(stack: SandboxStack) -> int:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Checkin)) or 0)


async def set_base(stack: SandboxStack, s: Setup) -> None:
    """Every key result at BASE (milestones at 0), recorded by the owner's command."""
    assert stack.driver is not None
    for kind, ref in s.refs.items():
        answer = await stack.driver.command(
            s.owner, f"update {ref} {0 if kind == 'milestone' else BASE:g}"
        )
        assert "Recorded" in str(answer.json), answer.json


def expect(
    stored: float | None, said: str, kind: str, ref: str, want: Expected, before: float | None
) -> None:
    where = f"{kind} {ref}: stored {stored!r}, said {said!r}"
    if isinstance(want, Refused):
        assert want.reason.replace("{ref}", ref) in said, where
        assert stored == before, where
    elif isinstance(want, Change):
        assert before is not None and stored == pytest.approx(before + want.by), where
    else:
        assert stored == want, where


def bot_answers(stack: SandboxStack, s: Setup, *, dm: bool) -> list[Message]:
    if dm:
        return [m for m in stack.slack.dms(s.owner.id) if m.bot_id]
    return [m for m in stack.slack.thread(s.team.channel.id, s.prompt.ts) if m.bot_id]


async def through_replies(stack: SandboxStack, s: Setup, *, dm: bool) -> None:
    """One reply per row, a line per key result, in the prompt's thread or the DM."""
    assert stack.driver is not None
    channel = None if dm else s.team.channel
    for typed, wanted in VALUES:
        before = await values_now(stack, s)
        text = "\n".join(f"{s.refs[kind]} {typed}" for kind in KINDS)
        answers = len(bot_answers(stack, s, dm=dm))
        reply = await stack.driver.say(
            s.owner, text, channel=channel, thread_ts=None if dm else s.prompt.ts
        )
        new = bot_answers(stack, s, dm=dm)
        assert reply.ts and len(new) == answers + 1, f"{typed!r}: no answer"  # not a stale one
        said = new[-1].text
        after = await values_now(stack, s)
        for kind in KINDS:
            line = f"`{s.refs[kind]} {typed}`" if typed else f"`{s.refs[kind]}`"
            mine = next((part for part in said.split("\n") if line in part), said)
            expect(after[kind], mine, kind, s.refs[kind], wanted[kind], before[kind])


async def through_command(stack: SandboxStack, s: Setup) -> None:
    assert stack.driver is not None
    for typed, wanted in VALUES:
        for kind in KINDS:
            before = (await values_now(stack, s))[kind]
            answer = await stack.driver.command(s.owner, f"update {s.refs[kind]} {typed}")
            said = str((answer.json or {}).get("text"))
            after = (await values_now(stack, s))[kind]
            expect(after, said, kind, s.refs[kind], wanted[kind], before)


async def through_form(stack: SandboxStack, s: Setup) -> None:
    """`/okr checkin` opens the form; one row is filled in and sent per try."""
    assert stack.driver is not None
    for typed, wanted in VALUES:
        for kind in KINDS:
            before = (await values_now(stack, s))[kind]
            count = await rows(stack)
            while (open_view := stack.slack.open_modal(s.owner.id)) is not None:
                await stack.driver.close(s.owner, open_view)
            await stack.driver.command(s.owner, "checkin")
            modal = await stack.driver.modal(s.owner)
            block = f"value:{s.refs[kind]}"
            answer = await stack.driver.submit(
                s.owner, modal, {block: {"value": {"type": "plain_text_input", "value": typed}}}
            )
            body = answer.json or {}
            said = str((body.get("errors") or {}).get(block, ""))
            after = (await values_now(stack, s))[kind]
            if typed == "":  # an empty row of the form is a key result left out this week
                assert said == "" and after == before and await rows(stack) == count
                continue
            if isinstance(wanted[kind], Refused):
                assert body.get("response_action") == "errors", body
                assert await rows(stack) == count  # nothing of the page was saved
            expect(after, said, kind, s.refs[kind], wanted[kind], before)


@pytest.mark.parametrize("door", ["thread", "dm", "command", "form"])
async def test_every_door_reads_a_value_the_same_way(
    ceremony_stack: SandboxStack, door: str
) -> None:
    stack = ceremony_stack
    s = await setup(stack)
    await set_base(stack, s)
    if door in ("thread", "dm"):
        await through_replies(stack, s, dm=door == "dm")
    elif door == "command":
        await through_command(stack, s)
    else:
        await through_form(stack, s)
