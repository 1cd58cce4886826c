"""Loading what `due` needs in a handful of queries (the same count for 10 or 2,000 teams)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.due_data import (
    FacilitatorDue,
    KeyResultDue,
    PersonDue,
    Round,
    Schedule,
    Snapshot,
    WorkspaceDue,
    weeks_around,
)
from bot.jobs.snapshot_cycle_end import cycle_end_rows
from bot.jobs.snapshot_pulls import pull_rows
from bot.models import (
    AwayPeriod,
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamMember,
    TeamSkippedPeriod,
    Workspace,
)
from bot.models.outbox_keys import CEREMONY_KINDS, Kind, digest_key
from bot.okr.period import zone
from bot.okr.schedule import (
    DEFAULT_CHECKIN_TIME,
    DEFAULT_CHECKIN_WEEKDAY,
    company_time,
    company_weekday,
)
from bot.repository.checkins import periods_with_values


def default_round(workspace: Workspace) -> Round:
    settings = workspace.settings or {}
    at = settings.get("checkin_time", DEFAULT_CHECKIN_TIME)
    return Round(
        team_id=None,
        schedule=Schedule(
            int(settings.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY)),
            at if isinstance(at, time) else time.fromisoformat(str(at)),
            zone(workspace.timezone, ZoneInfo("UTC")),
        ),
    )


def team_round(team: Team, skipped: Iterable[str] = ()) -> Round:
    return Round(
        team_id=team.id,
        schedule=Schedule(team.checkin_weekday, team.checkin_time, zone(team.timezone, _UTC)),
        digest_delay=timedelta(minutes=team.digest_delay_minutes),
        reminder_delay=timedelta(minutes=team.reminder_delay_minutes),
        channel_id=team.channel_id,
        paused=team.paused,
        skipped=frozenset(skipped),
    )


_UTC = ZoneInfo("UTC")


def _periods_near(now: datetime) -> list[str]:
    """Every week label any zone can see within a day of `now` (Kiritimati to Baker Island)."""
    return sorted(
        {w for offset in (-1, 0, 1) for w in weeks_around(now + timedelta(days=offset), _UTC)}
    )


async def load_snapshot(
    session: AsyncSession,
    *,
    now: datetime,
    workspace_ids: Iterable[int] | None = None,
    started: dict[int, datetime] | None = None,
) -> Snapshot:
    scope = list(workspace_ids) if workspace_ids is not None else None

    workspaces: dict[int, WorkspaceDue] = {}
    for ws in (
        await session.execute(
            select(Workspace).where(
                Workspace.state != "uninstalled",
                Workspace.id.in_(scope) if scope is not None else true(),
            )
        )
    ).scalars():
        acting = ws.state == "active" and (ws.paused_until is None or ws.paused_until <= now)
        saved = ws.settings or {}
        channel = saved.get("company_channel")
        workspaces[ws.id] = WorkspaceDue(
            ws.id, default_round(ws), acting, str(channel) if channel else None, False,
            company_weekday(saved), company_time(saved),
        )  # fmt: skip
    ids = list(workspaces)
    for ws_id in set(
        (
            await session.execute(
                select(Cycle.workspace_id).where(
                    Cycle.workspace_id.in_(ids), Cycle.state == "active"
                )
            )
        ).scalars()
    ):
        workspaces[ws_id] = replace(workspaces[ws_id], open_cycle=True)
    periods = _periods_near(now)
    skipped: dict[int, set[str]] = {}
    for row in (
        await session.execute(
            select(TeamSkippedPeriod).where(
                TeamSkippedPeriod.workspace_id.in_(ids), TeamSkippedPeriod.period.in_(periods)
            )
        )
    ).scalars():
        skipped.setdefault(row.team_id, set()).add(row.period)
    teams = {
        team.id: team_round(team, skipped.get(team.id, ()))
        for team in (
            await session.execute(select(Team).where(Team.workspace_id.in_(ids)))
        ).scalars()
    }
    first_team: dict[int, int] = {}
    for person_id, team_id in await session.execute(
        select(TeamMember.person_id, TeamMember.team_id)
        .where(TeamMember.workspace_id.in_(ids))
        .order_by(TeamMember.joined_at.desc(), TeamMember.team_id.desc())
    ):
        first_team[person_id] = team_id  # the last written is the earliest joined
    key_results = tuple(
        KeyResultDue(
            kr_id,
            ws_id,
            owner,
            team_id if team_id is not None else first_team.get(owner or 0),
            starts_on,
            ends_on,
        )  # fmt: skip
        for kr_id, ws_id, owner, team_id, starts_on, ends_on in await session.execute(
            select(
                KeyResult.id,
                KeyResult.workspace_id,
                KeyResult.owner_person_id,
                Objective.team_id,
                Cycle.starts_on,
                Cycle.ends_on,
            )
            .join(Objective, Objective.id == KeyResult.objective_id)
            .join(Cycle, Cycle.id == Objective.cycle_id)
            .where(
                KeyResult.workspace_id.in_(ids),
                KeyResult.state == "active",
                Objective.state == "active",
                Cycle.state == "active",
            )
        )
    )
    owners = {kr.owner_id for kr in key_results if kr.owner_id is not None}
    today = now.date()
    away: dict[int, list[tuple[date, date]]] = {}
    for away_row in (
        await session.execute(
            select(AwayPeriod).where(
                AwayPeriod.workspace_id.in_(ids),
                AwayPeriod.ends_on >= today - timedelta(days=8),
                AwayPeriod.starts_on <= today + timedelta(days=8),
            )
        )
    ).scalars():
        away.setdefault(away_row.person_id, []).append((away_row.starts_on, away_row.ends_on))
    people: dict[int, PersonDue] = {}
    for person in (
        await session.execute(
            select(Person).where(Person.workspace_id.in_(ids), Person.id.in_(owners))
        )
    ).scalars():
        fallback = workspaces[person.workspace_id].default.schedule.tz
        people[person.id] = PersonDue(
            person.id,
            person.workspace_id,
            zone(person.timezone, fallback),
            tuple(away.get(person.id, ())),
            not person.is_deactivated,
        )
    return Snapshot(
        workspaces=workspaces,
        teams=teams,
        people=people,
        key_results=key_results,
        checked_in=await _checked_in(session, ids, periods),
        queued=await _queued(session, ids, periods),
        started=started or {},
        **await _digest_rows(session, ids, periods),
        **await _report_rows(session, ids, periods),
        **await cycle_end_rows(session, ids, now),
        **await pull_rows(session, ids, periods),
    )


async def _checked_in(
    session: AsyncSession, workspace_ids: list[int], periods: list[str]
) -> frozenset[tuple[int, str]]:
    rows = await session.execute(
        select(Checkin).where(Checkin.workspace_id.in_(workspace_ids), Checkin.period.in_(periods))
    )
    return frozenset(periods_with_values(rows.scalars()))


async def _queued(
    session: AsyncSession, workspace_ids: list[int], periods: list[str]
) -> frozenset[str]:
    return frozenset(
        (
            await session.execute(
                select(OutboxItem.idempotency_key).where(
                    OutboxItem.workspace_id.in_(workspace_ids),
                    OutboxItem.kind.in_(CEREMONY_KINDS),
                    OutboxItem.period.in_(periods),
                    OutboxItem.state != "cancelled",  # owed again (an unskipped week) revives
                )
            )
        ).scalars()
    )


async def _digest_rows(
    session: AsyncSession, workspace_ids: list[int], periods: list[str]
) -> dict[str, Any]:
    """Digest keys (all states) and those sent; the lines of sent DMs not swept yet; where
    each sent scheduled digest's part 1 is (its chart's thread) and the chart keys."""
    digests: set[str] = set()
    sent: set[str] = set()
    unswept: set[tuple[int, str]] = set()
    threads: dict[tuple[int, int, str], tuple[str, str]] = {}
    charts: set[str] = set()
    rows = await session.execute(
        select(
            OutboxItem.workspace_id,
            OutboxItem.kind,
            OutboxItem.idempotency_key,
            OutboxItem.state,
            OutboxItem.period,
            OutboxItem.payload,
            OutboxItem.slack_channel,
            OutboxItem.slack_ts,
        ).where(
            OutboxItem.workspace_id.in_(workspace_ids),
            OutboxItem.kind.in_((Kind.DIGEST, Kind.DM, Kind.CHART)),
            OutboxItem.period.in_(periods),
        )
    )
    for ws, kind, key, state, period, payload, channel, ts in rows:
        if kind == Kind.DIGEST:
            digests.add(key)
            if state == "sent":
                sent.add(key)
                team_id = int((payload or {}).get("team_id") or 0)
                if key == digest_key(ws, team_id, period, 1) and channel and ts:  # not by hand
                    threads[(ws, team_id, period)] = (channel, ts)
        elif kind == Kind.CHART:
            charts.add(key)
        elif state == "sent" and not (payload or {}).get("swept_at"):
            unswept |= {(int(kr), str(period)) for kr, period in payload.get("lines") or []}
    return {
        "digests": frozenset(digests),
        "digests_sent": frozenset(sent),
        "unswept": frozenset(unswept),
        "digest_threads": threads,
        "charts": frozenset(charts),
    }


async def _report_rows(
    session: AsyncSession, workspace_ids: list[int], periods: list[str]
) -> dict[str, Any]:
    """The weekly report DM's and the company digest's part of the snapshot: facilitators and
    admins (deactivated ones too, marked), and the report and company digest keys near now in
    any state (a cancelled one stays so)."""
    facilitators = tuple(
        FacilitatorDue(person_id, workspace_id, role, not deactivated)
        for person_id, workspace_id, role, deactivated in await session.execute(
            select(Person.id, Person.workspace_id, Person.role, Person.is_deactivated).where(
                Person.workspace_id.in_(workspace_ids), Person.role.in_(("facilitator", "admin"))
            )
        )
    )
    reports: set[str] = set()
    company: set[str] = set()
    for kind, key in await session.execute(
        select(OutboxItem.kind, OutboxItem.idempotency_key).where(
            OutboxItem.workspace_id.in_(workspace_ids),
            OutboxItem.kind.in_((Kind.REPORT, Kind.COMPANY_DIGEST)),
            OutboxItem.period.in_(periods),
        )
    ):
        (reports if kind == Kind.REPORT else company).add(key)
    return {
        "facilitators": facilitators,
        "reports": frozenset(reports),
        "company_digests": frozenset(company),
    }
