"""`/okr team setup|pause|resume|skip|unskip` and `/okr team [#channel|name]`, and the setup
modal."""

from __future__ import annotations

import logging
import re
from datetime import time, timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.ids import Callback, Field
from bot.blocks.lists import build_team_listing
from bot.blocks.team_modal import build_team_modal, build_team_saved
from bot.blocks.text import escape
from bot.listeners.away_commands import day_label
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.team_channel import join_team_channel
from bot.listeners.view_values import entered, entered_many, entered_number, field_errors
from bot.okr.period import label as period_label
from bot.okr.schedule import (
    DEFAULT_CHECKIN_TIME,
    DEFAULT_DIGEST_DELAY,
    DEFAULT_REMINDER_DELAY,
    hours,
)
from bot.services import lists, team_setup, team_weeks, teams
from bot.services.errors import DomainError, Invalid

log = logging.getLogger(__name__)

TEAM_HELP = (
    CommandHelp("/okr team setup", "set up (or change) the team of this channel"),
    CommandHelp("/okr team pause|resume [#channel|name]", "stop or restart weekly check-ins"),
    CommandHelp(
        "/okr team skip|unskip 2026-W52 [#channel|name]",
        "skip one week's check-in (holidays, offsites), or take the skip back",
    ),
    CommandHelp("/okr team skip [#channel|name]", "the weeks a team skips"),
    CommandHelp("/okr team leave [#channel|name]", "take yourself out of a team"),
    CommandHelp("/okr team [#channel|name]", "a team's objectives and progress"),
)


async def run_team(call: CommandCall) -> None:
    verb = call.args[0].lower() if call.args else ""
    actor = await call.actor()
    channel_id = str(call.body.get("channel_id") or "") or None
    if verb == "setup":
        form = await team_setup.setup_form(
            call.sessions,
            actor=actor,
            channel_id=channel_id,
            channel_name=str(call.body.get("channel_name") or ""),
        )
        await call.open_modal(build_team_modal(form))
        return
    if verb in ("pause", "resume"):
        saved = await teams.pause(
            call.sessions,
            actor=actor,
            name_or_channel=" ".join(call.args[1:]) or None,
            channel_id=channel_id,
            paused=verb == "pause",
        )
        state = (
            "paused: no check-ins until `/okr team resume`" if saved.paused else "checking in again"
        )
        await call.reply(f"{escape(saved.name)} is {state}.")
        return
    if verb in ("skip", "unskip"):
        await _skip(call, verb, channel_id)
        return
    if verb == "leave":
        name = await teams.leave(
            call.sessions,
            actor=actor,
            name_or_channel=" ".join(call.args[1:]) or None,
            channel_id=channel_id,
        )
        await call.reply(f"You left {escape(name)}: its check-ins no longer count on you.")
        return
    team = await lists.team(
        call.sessions,
        actor=actor,
        name_or_channel=" ".join(call.args) or None,
        channel_id=channel_id,
    )
    await call.reply(team.title, build_team_listing(team))


def _looks_like_week(word: str) -> bool:
    """`2026-W52` and near misses (`2026-52`, `W52`): a period, not a team name."""
    return bool(re.match(r"^(\d{4}|[wW]\d)", word))


def _week_label(week: team_weeks.Week) -> str:
    return (
        f"{week.period} ({day_label(week.monday, year=False)} – "
        f"{day_label(week.sunday, year=False)})"
    )


async def _skip(call: CommandCall, verb: str, channel_id: str | None) -> None:
    actor = await call.actor()
    words = call.args[1:]
    period = words[0] if words and _looks_like_week(words[0]) else None
    named = " ".join(words[1:] if period else words) or None
    if period is None:
        if verb == "unskip":
            coming = period_label(clock.now().date() + timedelta(days=7))
            raise Invalid(f"Name the week to take back, like `/okr team unskip {coming}`.")
        listed = await team_weeks.skipped_weeks(
            call.sessions, actor=actor, name_or_channel=named, channel_id=channel_id
        )
        name = escape(listed.team_name)
        if not listed.weeks:
            await call.reply(
                f"{name} skips no coming weeks. Skip one with "
                f"`/okr team skip {listed.next_week.period}`."
            )
            return
        lines = "\n".join(f"• {_week_label(w)}" for w in listed.weeks)
        await call.reply(f"{name} skips:\n{lines}")
        return
    done = await team_weeks.set_skipped(
        call.sessions,
        actor=actor,
        name_or_channel=named,
        channel_id=channel_id,
        period=period,
        skipped=verb == "skip",
    )
    name, week = escape(done.team_name), _week_label(done.week)
    if done.skipped:
        again = " already" if not done.changed else ""
        await call.reply(f"{name} skips {week}{again}: no check-in that week.")
    elif done.changed:
        await call.reply(f"{name} checks in as usual in {week}.")
    else:
        await call.reply(f"{name} does not skip {week}: its check-in runs as usual.")


def _setup(values: dict[str, Any]) -> teams.TeamSetup:
    try:
        at = time.fromisoformat(entered(values, Field.TIME) or DEFAULT_CHECKIN_TIME.isoformat())
    except ValueError:
        raise Invalid("Pick a time like 10:00.", field=Field.TIME) from None
    parent = entered(values, Field.PARENT)
    weekday = entered(values, Field.WEEKDAY)
    setup = teams.TeamSetup(
        name=entered(values, Field.NAME) or "",
        channel_id=entered(values, Field.CHANNEL),
        lead_slack_id=entered(values, Field.LEAD),
        member_slack_ids=entered_many(values, Field.MEMBERS),
        parent_team_id=int(parent) if parent else None,
        weekday=int(weekday) if weekday else teams.DEFAULT_WEEKDAY,
        local_time=at,
        timezone=(entered(values, Field.TIMEZONE) or "").strip(),
        digest_delay_hours=entered_number(
            values, Field.DIGEST, label="digest delay", default=hours(DEFAULT_DIGEST_DELAY)
        )
        or 0,
        reminder_delay_hours=entered_number(
            values, Field.REMINDER, label="reminder delay", default=hours(DEFAULT_REMINDER_DELAY)
        )
        or 0,
        anonymous_retros=bool(entered_many(values, Field.ANONYMOUS)),
    )
    teams.check_setup(setup)
    if setup.channel_id is None:
        raise Invalid("Pick the team's channel.", field=Field.CHANNEL)
    return setup


def make_setup_handler(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def on_setup(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            actor = await actor_of(sessions, client, body)
            setup = _setup(body["view"]["state"]["values"])
            assert setup.channel_id is not None
            await team_setup.may_set_up(sessions, actor=actor, setup=setup)  # before joining
            await join_team_channel(client, setup.channel_id)  # before the transaction
            saved = await team_setup.save_setup(sessions, actor=actor, setup=setup)
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], Field.NAME))
            return
        view = build_team_saved(
            name=saved.name,
            created=saved.created,
            channel_id=setup.channel_id,
            weekday=setup.weekday,
            local_time=setup.local_time,
            timezone=setup.timezone,
        )
        await ack(response_action="update", view=view)

    return on_setup


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    registry.view(Callback.TEAM_SETUP, make_setup_handler(sessions))
