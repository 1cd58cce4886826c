"""The check-in commands: `/okr checkin` (the form), `/okr checkin now` (a round started by
hand) and `/okr update KR12 45 …` (one line, read like a reply line)."""

from __future__ import annotations

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.okrs import number, progress_bar
from bot.blocks.text import escape, section
from bot.listeners.checkin_modal import build_page, my_key_results
from bot.listeners.command_call import CommandCall
from bot.listeners.home_refresh import refresh_home_soon
from bot.services import checkins, rounds, teams
from bot.services.errors import Invalid

CHECKIN_HELP = (
    CommandHelp("/okr checkin", "check in on all your key results in one form"),
    CommandHelp("/okr checkin now [#channel|name]", "start this week's check-in round now (lead)"),
)
UPDATE_HELP = (CommandHelp("/okr update KR12 45 [note]", "check in a new value"),)


async def run_checkin(call: CommandCall) -> None:
    if call.args and call.args[0].lower() == "now":
        await run_checkin_now(call)
        return
    actor = await call.actor()
    async with call.readers() as session:
        refs = [kr.ref for kr in await my_key_results(session, actor)]
        if not refs:
            raise Invalid("You own no key results in an active cycle. `/okr mine` shows yours.")
        view = await build_page(session, actor, refs, 0, 0)
    await call.open_modal(view)


async def run_checkin_now(call: CommandCall) -> None:
    actor = await call.actor()
    async with call.sessions.begin() as session:
        team = await teams.find_team(
            session,
            actor=actor,
            name_or_channel=" ".join(call.args[1:]) or None,
            channel_id=str(call.body.get("channel_id") or "") or None,
        )
        started = await rounds.start_round(session, actor=actor, team=team, now=clock.now())
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
    if len(call.args) < 2:
        raise Invalid(f"Name the key result and the value: `{UPDATE_HELP[0].usage}`.")
    actor = await call.actor()
    async with call.sessions.begin() as session:
        done = await checkins.record_update(
            session,
            actor=actor,
            key_result_ref=call.args[0],
            value_text=call.args[1],
            note=" ".join(call.args[2:]),
            source_ref=str(call.body.get("trigger_id") or call.body.get("command_ts") or ""),
            now=clock.now(),
        )
    refresh_home_soon(call.sessions, call.client, actor)
    text = (
        f"Recorded *{done.ref}* {escape(done.title)}: {number(done.value, done.unit)} "
        f"of {number(done.target, done.unit)} for {done.period}."
    )
    await call.reply(text, [section(f"{text}\n{progress_bar(done.progress)}")])
