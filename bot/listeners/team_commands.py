"""`/okr team setup|pause|resume|skip|unskip` and `/okr team [#channel|name]`, and the setup
modal."""

from __future__ import annotations

import logging
import re
from datetime import time, timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.lists import build_listing
from bot.blocks.team_modal import TEAM_CALLBACK, WEEKDAYS, build_team_modal
from bot.blocks.text import escape, plain, section
from bot.listeners.away_commands import day_label
from bot.listeners.command_call import CommandCall, actor_of
from bot.listeners.registry import ListenerRegistry
from bot.listeners.view_values import entered, entered_many, entered_number, field_errors
from bot.models import Person, Team, TeamMember
from bot.models.people import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY
from bot.okr.period import label as period_label
from bot.services import lists, team_weeks, teams
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
    CommandHelp("/okr team [#channel|name]", "a team's objectives and progress"),
)


async def run_team(call: CommandCall) -> None:
    verb = call.args[0].lower() if call.args else ""
    actor = await call.actor()
    channel_id = str(call.body.get("channel_id") or "") or None
    if verb == "setup":
        await call.open_modal(
            await _setup_view(call, actor.workspace_id, actor.timezone, channel_id)
        )
        return
    if verb in ("pause", "resume"):
        async with call.sessions.begin() as session:
            team = await teams.find_team(
                session,
                actor=actor,
                name_or_channel=" ".join(call.args[1:]) or None,
                channel_id=channel_id,
            )
            saved = await teams.set_paused(session, actor=actor, team=team, paused=verb == "pause")
        state = (
            "paused: no check-ins until `/okr team resume`" if saved.paused else "checking in again"
        )
        await call.reply(f"{escape(saved.name)} is {state}.")
        return
    if verb in ("skip", "unskip"):
        await _skip(call, verb, channel_id)
        return
    async with call.readers() as session:
        team = await teams.find_team(
            session, actor=actor, name_or_channel=" ".join(call.args) or None, channel_id=channel_id
        )
        listing = await lists.team_okrs(session, actor=actor, team_id=team.id)
    title = f"{team.name}{' (paused)' if team.paused else ''}"
    empty = "No objectives for this team in the cycle yet. `/okr new` writes one."
    await call.reply(title, build_listing(title, listing, empty=empty))


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
        async with call.readers() as session:
            team = await teams.find_team(
                session, actor=actor, name_or_channel=named, channel_id=channel_id
            )
            listed = await team_weeks.skipped_weeks(session, actor=actor, team=team)
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
    async with call.sessions.begin() as session:
        team = await teams.find_team(
            session, actor=actor, name_or_channel=named, channel_id=channel_id
        )
        done = await team_weeks.set_skipped(
            session, actor=actor, team=team, period=period, skipped=verb == "skip"
        )
    name, week = escape(done.team_name), _week_label(done.week)
    if done.skipped:
        again = " already" if not done.changed else ""
        await call.reply(f"{name} skips {week}{again}: no check-in that week.")
    elif done.changed:
        await call.reply(f"{name} checks in as usual in {week}.")
    else:
        await call.reply(f"{name} does not skip {week}: its check-in runs as usual.")


async def _setup_view(
    call: CommandCall, workspace_id: int, timezone: str, channel_id: str | None
) -> dict[str, Any]:
    async with call.readers() as session:
        team = None
        if channel_id:
            team = (
                await session.execute(
                    select(Team).where(
                        Team.workspace_id == workspace_id, Team.channel_id == channel_id
                    )
                )
            ).scalar_one_or_none()
        all_teams = (
            await session.execute(
                select(Team.id, Team.name)
                .where(Team.workspace_id == workspace_id)
                .order_by(Team.name)
            )
        ).all()
        members: list[str] = []
        lead = call.slack_user_id
        if team is not None:
            members = list(
                (
                    await session.execute(
                        select(Person.slack_user_id)
                        .join(TeamMember, TeamMember.person_id == Person.id)
                        .where(TeamMember.team_id == team.id)
                    )
                ).scalars()
            )
            if team.lead_person_id:
                lead = (
                    await session.scalar(
                        select(Person.slack_user_id).where(Person.id == team.lead_person_id)
                    )
                    or lead
                )
    channel_name = str(call.body.get("channel_name") or "")
    default_name = channel_name if channel_name not in ("", "directmessage", "privategroup") else ""
    return build_team_modal(
        channel_id=channel_id if channel_name != "directmessage" else None,
        name=team.name if team else default_name,
        lead_slack_id=lead,
        member_slack_ids=members,
        teams=[(t.id, t.name) for t in all_teams if team is None or t.id != team.id],
        parent_team_id=team.parent_team_id if team else None,
        weekday=team.checkin_weekday if team else DEFAULT_CHECKIN_WEEKDAY,
        local_time=team.checkin_time if team else DEFAULT_CHECKIN_TIME,
        timezone=team.timezone if team else timezone,
        digest_delay_hours=(team.digest_delay_minutes / 60) if team else 48,
        reminder_delay_hours=(team.reminder_delay_minutes / 60) if team else 24,
        anonymous_retros=team.anonymous_retros if team else False,
        editing=team is not None,
    )


async def join_team_channel(client: AsyncWebClient, channel_id: str) -> None:
    """The bot must be in the team channel to hear check-in replies: join a public one; a
    private one must invite it."""
    try:
        info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            raise Invalid(
                "I can't see that channel. If it is private, invite me first "
                "(type `/invite @okr` there), then save again.",
                field="channel",
            ) from None
        raise
    if info.get("is_archived"):
        raise Invalid("That channel is archived; pick another.", field="channel")
    if info.get("is_private") or info.get("is_im"):
        if info.get("is_im"):
            raise Invalid("A team needs a channel, not a direct message.", field="channel")
        return  # we can see it, so we are in it
    await client.conversations_join(channel=channel_id)


def make_setup_handler(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def on_setup(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        try:
            actor = await actor_of(sessions, client, body)
            clock_text = entered(values, "time") or "10:00"
            try:
                at = time.fromisoformat(clock_text)
            except ValueError:
                raise Invalid("Pick a time like 10:00.", field="time") from None
            parent = entered(values, "parent")
            setup = teams.TeamSetup(
                name=entered(values, "name") or "",
                channel_id=entered(values, "channel"),
                lead_slack_id=entered(values, "lead"),
                member_slack_ids=entered_many(values, "members"),
                parent_team_id=int(parent) if parent else None,
                weekday=int(entered(values, "weekday") or DEFAULT_CHECKIN_WEEKDAY),
                local_time=at,
                timezone=(entered(values, "timezone") or "").strip(),
                digest_delay_hours=entered_number(
                    values, "digest", label="digest delay", default=48
                )
                or 0,
                reminder_delay_hours=entered_number(
                    values, "reminder", label="reminder delay", default=24
                )
                or 0,
                anonymous_retros=bool(entered_many(values, "anonymous")),
            )
            teams.check_setup(setup)
            if setup.channel_id is None:
                raise Invalid("Pick the team's channel.", field="channel")
            await join_team_channel(client, setup.channel_id)
            async with sessions.begin() as session:
                saved = await teams.setup_team(session, actor=actor, setup=setup)
        except DomainError as exc:
            await ack(**field_errors(exc, body["view"], "name"))
            return
        when = f"{WEEKDAYS[setup.weekday]}s at {setup.local_time:%H:%M} ({escape(setup.timezone)})"
        verb = "is set up" if saved.created else "is updated"
        done = {
            "type": "modal",
            "title": plain("Team saved"),
            "close": plain("Done"),
            "blocks": [
                section(
                    f"*{escape(saved.name)}* {verb}: check-ins {when} in <#{setup.channel_id}>."
                )
            ],
        }
        await ack(response_action="update", view=done)

    return on_setup


def register(registry: ListenerRegistry, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    registry.view(TEAM_CALLBACK, make_setup_handler(sessions))
