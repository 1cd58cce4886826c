"""Test data: rows built with sensible defaults, every one scoped to a workspace."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.models import Checkin, Cycle, KeyResult, Objective, Person, Team, Workspace
from bot.repository.refs import next_ref_number

_n = count(1)


async def workspace(session: AsyncSession, **fields: Any) -> Workspace:
    row = Workspace(slack_team_id=fields.pop("slack_team_id", f"T{next(_n):06d}"), **fields)
    session.add(row)
    await session.flush()
    return row


async def person(session: AsyncSession, ws: Workspace, **fields: Any) -> Person:
    row = Person(
        workspace_id=ws.id, slack_user_id=fields.pop("slack_user_id", f"U{next(_n):06d}"), **fields
    )
    session.add(row)
    await session.flush()
    return row


async def team(session: AsyncSession, ws: Workspace, **fields: Any) -> Team:
    row = Team(workspace_id=ws.id, name=fields.pop("name", f"team-{next(_n)}"), **fields)
    session.add(row)
    await session.flush()
    return row


async def cycle(session: AsyncSession, ws: Workspace, **fields: Any) -> Cycle:
    row = Cycle(
        workspace_id=ws.id,
        name=fields.pop("name", f"2027-Q{next(_n)}"),
        starts_on=fields.pop("starts_on", date(2027, 1, 1)),
        ends_on=fields.pop("ends_on", date(2027, 3, 31)),
        **fields,
    )
    session.add(row)
    await session.flush()
    return row


async def objective(session: AsyncSession, ws: Workspace, cyc: Cycle, **fields: Any) -> Objective:
    row = Objective(
        workspace_id=ws.id,
        ref_number=await next_ref_number(session, workspace_id=ws.id, kind="O"),
        cycle_id=cyc.id,
        level=fields.pop("level", "company"),
        title=fields.pop("title", "Delight our customers"),
        **fields,
    )
    session.add(row)
    await session.flush()
    return row


async def key_result(session: AsyncSession, obj: Objective, **fields: Any) -> KeyResult:
    row = KeyResult(
        workspace_id=obj.workspace_id,
        ref_number=await next_ref_number(session, workspace_id=obj.workspace_id, kind="KR"),
        objective_id=obj.id,
        title=fields.pop("title", "NPS from 30 to 50"),
        start_value=fields.pop("start_value", 30.0),
        target_value=fields.pop("target_value", 50.0),
        **fields,
    )
    session.add(row)
    await session.flush()
    return row


async def checkin(session: AsyncSession, kr: KeyResult, **fields: Any) -> Checkin:
    row = Checkin(
        workspace_id=kr.workspace_id,
        key_result_id=kr.id,
        period=fields.pop("period", "2027-W02"),
        value=fields.pop("value", 35.0),
        recorded_at=fields.pop("recorded_at", clock.now()),
        source=fields.pop("source", "modal"),
        source_ref=fields.pop("source_ref", f"V{next(_n)}"),
        **fields,
    )
    session.add(row)
    await session.flush()
    return row
