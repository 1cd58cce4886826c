"""`/okr cycle new|list|start|close` and `/okr facilitator add|remove|list`.

Each answer is given after the service's transaction commits, so nobody is told of a change
that did not happen."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.cycles import build_cycle_list, cycle_line
from bot.blocks.help import CommandHelp
from bot.blocks.summary import build_cycle_history
from bot.blocks.text import section
from bot.listeners.command_call import CommandCall, parse_date, parse_user
from bot.okr.quarters import quarter_named
from bot.services import cycle_history, cycles, roles
from bot.services.actors import Actor
from bot.services.errors import Invalid

CYCLE_HELP = (
    CommandHelp(
        "/okr cycle new 2027-Q1 [2027-01-01 2027-03-31]", "a new cycle (a quarter needs no dates)"
    ),
    CommandHelp("/okr cycle list", "every cycle and its state"),
    CommandHelp("/okr cycle start|close 2027-Q1", "start a cycle, or close it for grading"),
    CommandHelp("/okr cycle show 2026-Q4", "a past cycle's grades, summaries and retros"),
)
FACILITATOR_HELP = (
    CommandHelp("/okr facilitator add|remove @person", "who runs the practice (admins decide)"),
    CommandHelp("/okr facilitator list", "who runs the practice"),
)

Answer = tuple[str, list[dict[str, Any]]]
Sessions = async_sessionmaker[AsyncSession]


def _usage(lines: tuple[CommandHelp, ...]) -> str:
    return "Try " + " or ".join(f"`{line.usage}`" for line in lines) + "."


def _said(text: str) -> Answer:
    return text, [section(text)]


async def run_cycle(call: CommandCall) -> None:
    actor = await call.actor()
    await call.reply(*await _cycle(call.sessions, actor, call.args))


async def _cycle(sessions: Sessions, actor: Actor, args: list[str]) -> Answer:
    verb = args[0].lower() if args else ""
    if verb == "list":
        return "Cycles", build_cycle_list(await cycles.list_cycles(sessions, actor=actor))
    if verb not in ("new", "start", "close", "show"):
        raise Invalid(_usage(CYCLE_HELP))
    if len(args) < 2:
        raise Invalid(f"Name the cycle. {_usage(CYCLE_HELP)}")
    name = args[1]
    if verb == "show":
        history = await cycle_history.show(sessions, actor=actor, name=name)
        return f"Cycle {history.cycle.name}", build_cycle_history(
            cycle_line(history.cycle), history.cycle.state, history.summaries
        )
    if verb == "start":
        started = await cycles.start_cycle(sessions, actor=actor, name=name)
        return _said(f"{cycle_line(started)} is under way. Weekly check-ins follow it.")
    if verb == "close":
        closed = await cycles.close_cycle(sessions, actor=actor, name=name)
        return _said(
            f"{cycle_line(closed)}: closed for grading. Each owner gets a DM to grade their "
            "key results (0.0–1.0) and each team channel gets the retrospective poll; what is "
            "not graded by the deadline takes its measured progress."
        )
    if len(args) >= 4:
        first, last = parse_date(args[2]), parse_date(args[3])
    elif (quarter := quarter_named(name)) is not None:
        first, last = quarter
    else:
        raise Invalid(
            "Give the first and last day: `/okr cycle new H1-2027 2027-01-01 2027-06-30`."
        )
    made = await cycles.create_cycle(
        sessions, actor=actor, name=name, starts_on=first, ends_on=last
    )
    return _said(f"Created {cycle_line(made)}. Start it with `/okr cycle start {made.name}`.")


async def run_facilitator(call: CommandCall) -> None:
    actor = await call.actor()
    await call.reply(*await _facilitator(call.sessions, actor, call.args))


async def _facilitator(sessions: Sessions, actor: Actor, args: list[str]) -> Answer:
    verb = args[0].lower() if args else ""
    if verb == "list":
        ids = await roles.facilitators(sessions, actor=actor)
        return _said(
            f"*Facilitators and admins:* {', '.join(f'<@{i}>' for i in ids) or 'nobody yet'}"
        )
    if verb not in ("add", "remove") or len(args) < 2:
        raise Invalid(_usage(FACILITATOR_HELP))
    target = parse_user(args[1])
    change = await roles.set_facilitator(
        sessions, actor=actor, slack_user_id=target, facilitator=verb == "add"
    )
    if change.role == "admin":
        return _said(f"<@{target}> is an admin and runs the practice already.")
    if not change.changed:
        state = "a facilitator" if verb == "add" else "not a facilitator"
        return _said(f"<@{target}> is {state} already.")
    done = "is now a facilitator" if verb == "add" else "is no longer a facilitator"
    return _said(f"<@{target}> {done}.")
