"""The check-in commands: `/okr checkin` (the form), `/okr checkin now` (a round started by
hand) and `/okr update KR12 45 …` (one line, read exactly like a reply line)."""

from __future__ import annotations

from bot import clock
from bot.blocks.checkin import update_answer
from bot.blocks.checkin_form import build_checkin_form
from bot.blocks.help import CommandHelp
from bot.blocks.text import escape
from bot.listeners.command_call import CommandCall
from bot.listeners.home_refresh import refresh_home_soon
from bot.services import checkin_form, intake, rounds
from bot.services.errors import Invalid
from bot.services.intake import CheckinInput, Source

CHECKIN_HELP = (
    CommandHelp("/okr checkin", "check in on all your key results in one form"),
    CommandHelp("/okr checkin now [#channel|name]", "start this week's check-in round now (lead)"),
)
UPDATE_HELP = (
    CommandHelp("/okr update KR12 45 [conf 7] [on track] [— note]", "check in one key result"),
)


async def run_checkin(call: CommandCall) -> None:
    if call.args and call.args[0].lower() == "now":
        await run_checkin_now(call)
        return
    actor = await call.actor()
    form = await checkin_form.my_form(call.sessions, actor=actor)
    if form is None:
        raise Invalid("You own no key results in an active cycle. `/okr mine` shows yours.")
    await call.open_modal(build_checkin_form(form))


async def run_checkin_now(call: CommandCall) -> None:
    actor = await call.actor()
    started = await rounds.start_round_now(
        call.sessions,
        actor=actor,
        name_or_channel=" ".join(call.args[1:]) or None,
        channel_id=str(call.body.get("channel_id") or "") or None,
        now=clock.now(),
    )
    if started.already:
        await call.reply(
            f"{escape(started.team_name)}'s {started.period} check-in has already gone to "
            f"<#{started.channel_id}>: nothing was sent twice."
        )
        return
    await call.reply(
        f"Started {escape(started.team_name)}'s {started.period} check-in: the prompt goes to "
        f"<#{started.channel_id}> and each owner gets a DM within a minute."
    )


async def run_update(call: CommandCall) -> None:
    if not call.args:
        raise Invalid(f"Name the key result and the value: `{UPDATE_HELP[0].usage}`.")
    actor = await call.actor()
    outcome = await intake.check_in(
        call.sessions,
        checkin=CheckinInput(
            actor=actor,
            text=" ".join(call.args),
            source=Source.COMMAND,
            source_ref=str(call.body.get("trigger_id") or call.body.get("command_ts") or ""),
            at=clock.now(),
        ),
    )
    if outcome.recorded:
        refresh_home_soon(call.sessions, call.client, actor)
    text, blocks = update_answer(outcome.recorded, outcome.refused, outcome.explanation,
                                 period=outcome.period)  # fmt: skip
    await call.reply(text, blocks)
