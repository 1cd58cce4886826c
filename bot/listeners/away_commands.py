"""`/okr away [START..END|cancel] [@person]`: days a person is away from the weekly check-in.

Each answer is given after the transaction commits, so nobody is told of a change that did
not happen."""

from __future__ import annotations

import re
from datetime import date

from bot import clock
from bot.blocks.help import CommandHelp
from bot.listeners.command_call import CommandCall, parse_date, parse_user
from bot.services import away
from bot.services.errors import Invalid

AWAY_HELP = (
    CommandHelp(
        "/okr away 2026-12-21..2027-01-03 [@person]",
        "days you are away: no check-in prompt, no reminder, not counted as missing",
    ),
    CommandHelp("/okr away [@person]", "your current and coming away days"),
    CommandHelp("/okr away cancel [@person]", "drop your current and coming away days"),
)
CANCEL_WORDS = ("cancel", "clear")
_BETWEEN = re.compile(r"\s*\.\.\s*|\s*[–—]\s*|\s+to\s+|\s+", re.IGNORECASE)


def day_label(day: date, *, year: bool = True) -> str:
    """`Mon 21 Dec 2026` (or `Mon 21 Dec`)."""
    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if year else "")


def days_label(first: date, last: date) -> str:
    if first == last:
        return day_label(first)
    return f"{day_label(first)} – {day_label(last)}"


def parse_days(words: list[str]) -> tuple[date, date]:
    """`START..END`, `START END`, `START to END`, or one date (one day); ISO dates."""
    parts = [p for p in _BETWEEN.split(" ".join(words).strip()) if p]
    example = away.example(clock.now().date())
    if not 1 <= len(parts) <= 2:
        raise Invalid(f"Give the first and last day away, like {example}.")
    try:
        first, last = parse_date(parts[0]), parse_date(parts[-1])
    except Invalid as exc:
        raise Invalid(f"{exc} Mark days away like {example}.") from None
    return first, last


def _split(args: list[str]) -> tuple[str | None, list[str]]:
    """The person named (a Slack id), if any, and the other words."""
    named = [parse_user(a) for a in args if a.startswith("<@")]
    if len(named) > 1:
        raise Invalid("Name one person at a time, like `/okr away cancel @pat`.")
    return (named[0] if named else None), [a for a in args if not a.startswith("<@")]


def _who(slack_user_id: str, actor_slack_id: str) -> tuple[str, str]:
    """Subject and verb-ready name: ("You are", "You have") or ("<@U1> is", "<@U1> has")."""
    if slack_user_id == actor_slack_id:
        return "You are", "You have"
    return f"<@{slack_user_id}> is", f"<@{slack_user_id}> has"


async def run_away(call: CommandCall) -> None:
    named, words = _split(call.args)
    actor = await call.actor()
    who = named or actor.slack_user_id
    is_, has = _who(who, actor.slack_user_id)
    if not words:
        listed = await away.away_days(call.sessions, actor=actor, slack_user_id=named)
        if not listed.periods:
            await call.reply(
                f"{has} no away days coming up. Mark some with {away.example(listed.today)} "
                "(or one day: `/okr away YYYY-MM-DD`)."
            )
            return
        lines = "\n".join(f"• {days_label(p.starts_on, p.ends_on)}" for p in listed.periods)
        await call.reply(f"{is_} away:\n{lines}\n`/okr away cancel` drops them.")
        return
    if words[0].lower() in CANCEL_WORDS:
        if len(words) > 1:
            raise Invalid("`/okr away cancel` drops all coming away days; it takes no dates.")
        cancelled = await away.cancel_away(call.sessions, actor=actor, slack_user_id=named)
        if not cancelled.removed:
            await call.reply(f"{has} no away days to cancel.")
            return
        dropped = ", ".join(days_label(p.starts_on, p.ends_on) for p in cancelled.removed)
        await call.reply(f"Cancelled: {dropped}. {is_} expected at check-ins again.")
        return
    first, last = parse_days(words)
    marked = await away.mark_away(
        call.sessions, actor=actor, starts_on=first, ends_on=last, slack_user_id=named
    )
    days = days_label(marked.period.starts_on, marked.period.ends_on)
    if not marked.changed:
        await call.reply(f"{is_} away {days} already.")
        return
    await call.reply(f"{is_} away {days}: no check-in prompts or reminders then.")
