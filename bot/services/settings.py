"""Workspace settings: time zone, company channel, the default check-in schedule."""

from __future__ import annotations

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.settings_modal import WorkspaceSettings
from bot.blocks.text import escape
from bot.db import readers_for
from bot.models import Workspace
from bot.okr.cycle_end import GRADING_DAYS, GRADING_DAYS_MAX
from bot.okr.period import known_zone
from bot.okr.schedule import (
    DEFAULT_CHECKIN_TIME,
    DEFAULT_CHECKIN_WEEKDAY,
    company_time,
    company_weekday,
)
from bot.repository import audit
from bot.services.actors import Actor
from bot.services.errors import Forbidden, Invalid

WHO = "Workspace settings are for facilitators and admins (`/okr facilitator list`)."


def require_settings_access(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise Forbidden(WHO)


async def current(session: AsyncSession, *, actor: Actor) -> WorkspaceSettings:
    workspace = await session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    saved = workspace.settings or {}
    return WorkspaceSettings(
        workspace.timezone,
        saved.get("company_channel"),
        int(saved.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY)),
        time.fromisoformat(str(saved.get("checkin_time", DEFAULT_CHECKIN_TIME.isoformat()))),
        int(saved.get("grading_days") or GRADING_DAYS),
        int(saved["retro_days"]) if saved.get("retro_days") else None,
        company_weekday(saved),
        company_time(saved),
    )


async def for_editing(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor
) -> WorkspaceSettings:
    """The settings as they are, for a facilitator or admin to change."""
    require_settings_access(actor)
    async with readers_for(sessions)() as session:
        return await current(session, actor=actor)


async def save(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, wanted: WorkspaceSettings
) -> WorkspaceSettings:
    async with sessions.begin() as session:
        return await _save(session, actor=actor, wanted=wanted)


async def _save(
    session: AsyncSession, *, actor: Actor, wanted: WorkspaceSettings
) -> WorkspaceSettings:
    require_settings_access(actor)
    if known_zone(wanted.timezone) is None:
        raise Invalid(
            f"`{escape(wanted.timezone)}` is not a time zone: write one like Europe/Berlin.",
            field="timezone",
        ) from None
    if not 0 <= wanted.checkin_weekday <= 6:
        raise Invalid("Pick a weekday.", field="weekday")
    workspace = await session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    before = await current(session, actor=actor)
    workspace.timezone = wanted.timezone
    workspace.settings["company_channel"] = wanted.company_channel
    workspace.settings["checkin_weekday"] = wanted.checkin_weekday
    workspace.settings["checkin_time"] = wanted.checkin_time.strftime("%H:%M")
    if not 1 <= wanted.grading_days <= GRADING_DAYS_MAX:
        raise Invalid(f"A number of days from 1 to {GRADING_DAYS_MAX}.", field="grading_days")
    if wanted.retro_days is not None and not 1 <= wanted.retro_days <= GRADING_DAYS_MAX:
        raise Invalid(f"A number of days from 1 to {GRADING_DAYS_MAX}.", field="retro_days")
    workspace.settings["grading_days"] = wanted.grading_days
    workspace.settings["retro_days"] = wanted.retro_days
    if wanted.company_weekday is not None and not 0 <= wanted.company_weekday <= 6:
        raise Invalid("Pick a weekday, or leave it empty.", field="company_day")
    workspace.settings["company_weekday"] = wanted.company_weekday
    workspace.settings["company_time"] = (
        wanted.company_time.strftime("%H:%M") if wanted.company_time else None
    )
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        action="workspace.settings",
        entity="workspace",
        entity_id=actor.workspace_id,
        source="modal",
        actor_person_id=actor.person_id,
        changes={
            "timezone": [before.timezone, wanted.timezone],
            "company_channel": [before.company_channel, wanted.company_channel],
        },
    )
    return wanted
