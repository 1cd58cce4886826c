"""The facilitator's report: is the practice working? Read for `/okr report` (facilitators
and admins) and composed at send time for the weekly report DM (the `report` outbox kind).

The same fixed number of statements however many teams, key results and check-ins the
workspace has (a test holds it to that): each table is read once for the whole workspace.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.report import (
    MAX_WEEKS,
    Attention,
    Cell,
    Report,
    Stale,
    TeamRow,
    build_report,
    report_text,
)
from bot.db import readers_for
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
from bot.okr.period import period_of, zone
from bot.okr.schedule import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY, DEFAULT_DIGEST_DELAY
from bot.okr.series import CycleDates, cycle_periods
from bot.repository.checkins import CurrentValue, current_from, periods_with_values
from bot.services import participation
from bot.services.actors import Actor
from bot.services.errors import Forbidden
from bot.services.participation import OwnedKeyResult, Owner, RoundRules
from bot.services.prompts import Composed, deadline_of
from bot.services.report_parts import delivery_problems, findings
from bot.services.round_periods import outdated_key_results

WHO_READS_REPORTS = (
    "The report is for facilitators and admins. Ask one of them to share it, or an admin to "
    "make you a facilitator (`/okr facilitator add @you`)."
)
_UTC = ZoneInfo("UTC")


async def report(sessions: async_sessionmaker[AsyncSession], *, actor: Actor) -> Report:
    """`/okr report`, read in a session of its own; facilitators and admins only."""
    if not actor.is_facilitator:
        raise Forbidden(WHO_READS_REPORTS)
    async with readers_for(sessions)() as session:
        return await read_report(session, workspace_id=actor.workspace_id, now=clock.now())


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    """The weekly report DM, read as things are when it is sent; None (cancelled) when it is
    no longer owed: past its day, the person deactivated or no longer a facilitator or
    admin, the workspace paused, or no open cycle."""
    deadline = deadline_of(item)
    if deadline is not None and now >= deadline:
        return None
    person = await session.get(Person, int(item.payload["person_id"]))
    if person is None or person.is_deactivated or person.role not in ("facilitator", "admin"):
        return None
    found = await read_report(session, workspace_id=item.workspace_id, now=now)
    if found.paused_workspace is not None or found.cycle is None:
        return None
    return Composed(
        person.slack_user_id, report_text(found), build_report(found), (), person_id=person.id
    )


def _rules(
    weekday: int, at: object, tz: ZoneInfo, delay: timedelta, skipped: frozenset[str]
) -> RoundRules:
    local = at if isinstance(at, time) else time.fromisoformat(str(at))
    return RoundRules(weekday, local, tz, delay, skipped)


async def read_report(session: AsyncSession, *, workspace_id: int, now: datetime) -> Report:
    report, _ = await read_report_and_states(session, workspace_id=workspace_id, now=now)
    return report


async def read_report_and_states(
    session: AsyncSession, *, workspace_id: int, now: datetime
) -> tuple[Report, participation.States]:
    """The report, and each person's participation by week and team behind its table (the
    company digest counts everyone once over the weeks it shows)."""
    workspace = await session.get(Workspace, workspace_id)
    assert workspace is not None
    tz = zone(workspace.timezone, _UTC)
    paused = workspace.state == "paused" or (
        workspace.paused_until is not None and workspace.paused_until > now
    )
    paused_reason = (workspace.pause_reason or "no reason recorded") if paused else None
    teams = {
        t.id: t
        for t in (
            await session.execute(
                select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name)
            )
        ).scalars()
    }
    people = {
        p.id: p
        for p in (
            await session.execute(select(Person).where(Person.workspace_id == workspace_id))
        ).scalars()
    }
    slack_id = {p.id: p.slack_user_id for p in people.values()}
    delivery = await delivery_problems(
        session, workspace_id=workspace_id, now=now, tz=tz, who=slack_id
    )
    attention = tuple(
        Attention(t.name, t.needs_attention) for t in teams.values() if t.needs_attention
    )
    paused_teams = tuple(t.name for t in teams.values() if t.paused)
    as_of = now.astimezone(tz).strftime("%Y-%m-%d %H:%M ") + str(tz)
    cycle = (
        await session.execute(
            select(Cycle)
            .where(Cycle.workspace_id == workspace_id, Cycle.state == "active")
            .order_by(Cycle.starts_on.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if cycle is None:
        return Report(None, as_of, (), (), (), (), (), (), delivery[0], attention, delivery[1],
                      paused_teams, paused_reason), {}  # fmt: skip

    objectives = (
        (
            await session.execute(
                select(Objective)
                .where(
                    Objective.workspace_id == workspace_id,
                    Objective.cycle_id == cycle.id,
                    Objective.state == "active",
                )  # fmt: skip
                .order_by(Objective.ref_number)
            )
        )
        .scalars()
        .all()
    )
    key_results = (
        (
            await session.execute(
                select(KeyResult)
                .join(Objective, Objective.id == KeyResult.objective_id)
                .where(
                    KeyResult.workspace_id == workspace_id,
                    Objective.cycle_id == cycle.id,
                    Objective.state == "active",
                    KeyResult.state == "active",
                )  # fmt: skip
                .order_by(KeyResult.ref_number)
            )
        )
        .scalars()
        .all()
    )
    first_team: dict[int, int] = {}
    for person_id, team_id in await session.execute(
        select(TeamMember.person_id, TeamMember.team_id)
        .where(TeamMember.workspace_id == workspace_id)
        .order_by(TeamMember.joined_at.desc(), TeamMember.team_id.desc())
    ):
        first_team[person_id] = team_id  # the last written is the earliest joined
    skipped: dict[int, set[str]] = {}
    for team_id, period in await session.execute(
        select(TeamSkippedPeriod.team_id, TeamSkippedPeriod.period).where(
            TeamSkippedPeriod.workspace_id == workspace_id
        )
    ):
        skipped.setdefault(team_id, set()).add(period)
    away: dict[int, list[tuple[date, date]]] = {}
    for row in (
        await session.execute(
            select(AwayPeriod).where(
                AwayPeriod.workspace_id == workspace_id,
                AwayPeriod.ends_on >= cycle.starts_on - timedelta(days=7),
                AwayPeriod.starts_on <= cycle.ends_on,
            )
        )
    ).scalars():
        away.setdefault(row.person_id, []).append((row.starts_on, row.ends_on))
    checkin_rows = (
        (
            await session.execute(
                select(Checkin).where(
                    Checkin.workspace_id == workspace_id,
                    Checkin.key_result_id.in_([kr.id for kr in key_results]),
                )
            )
        )
        .scalars()
        .all()
    )
    by_kr: dict[int, list[Checkin]] = {}
    for c in checkin_rows:
        by_kr.setdefault(c.key_result_id, []).append(c)
    values: dict[int, CurrentValue] = {
        kr_id: value for kr_id, rows in by_kr.items() if (value := current_from(rows)) is not None
    }
    team_of_objective = {o.id: o.team_id for o in objectives}
    stale_ids = await outdated_key_results(
        session,
        workspace_id=workspace_id,
        cycle=cycle,
        key_results=key_results,
        team_of_objective=team_of_objective,
        values=values,
        at=now,
    )

    settings = workspace.settings or {}
    rounds: dict[int | None, RoundRules] = {
        t.id: _rules(
            t.checkin_weekday,
            t.checkin_time,
            zone(t.timezone, _UTC),
            timedelta(minutes=t.digest_delay_minutes),
            frozenset(skipped.get(t.id, ())),
        )  # fmt: skip
        for t in teams.values()
    }
    rounds[None] = _rules(
        int(settings.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY)),
        settings.get("checkin_time", DEFAULT_CHECKIN_TIME),
        tz,
        DEFAULT_DIGEST_DELAY,
        frozenset(),
    )
    owned = [
        OwnedKeyResult(
            kr.id,
            team_of_objective.get(kr.objective_id) or first_team.get(kr.owner_person_id),
            kr.owner_person_id,
            kr.created_at,
        )
        for kr in key_results
        if kr.owner_person_id is not None
    ]
    periods = cycle_periods(
        CycleDates(cycle.starts_on, cycle.ends_on, tz), through=period_of(now, tz)
    )
    counted = participation.count(
        periods=periods,
        rounds=rounds,
        key_results=owned,
        owners={
            p.id: Owner(p.slack_user_id, not p.is_deactivated, tuple(away.get(p.id, ())))
            for p in people.values()
        },
        values=periods_with_values(checkin_rows),
        now=now,
    )
    shown = _shown_periods(periods, counted.total)
    cut = len(periods) - len(shown)
    names: dict[int | None, str] = {None: "no team", **{t.id: t.name for t in teams.values()}}
    rows = tuple(
        TeamRow(names[team], bool(team is not None and teams[team].paused), cells[cut:], team)
        for team, cells in sorted(
            counted.cells.items(), key=lambda kv: (kv[0] is None, names[kv[0]].lower())
        )
    )
    stale = tuple(
        Stale(
            kr.ref,
            kr.title,
            slack_id.get(kr.owner_person_id or 0),
            values[kr.id].period if kr.id in values else None,
        )  # fmt: skip
        for kr in key_results
        if kr.id in stale_ids
    )
    return Report(
        cycle.name,
        as_of,
        shown,
        rows,
        counted.total[cut:],
        counted.missing,
        stale,
        findings(objectives, key_results, cycle),
        delivery[0],
        attention,
        delivery[1],
        paused_teams,
        paused_reason,
        left_out_weeks=cut,
    ), counted.states


def _shown_periods(periods: tuple[str, ...], total: tuple[Cell, ...]) -> tuple[str, ...]:
    """The latest `MAX_WEEKS` weeks, without leading weeks in which nobody was due."""
    first = next((i for i, cell in enumerate(total) if cell.due), len(periods))
    start = max(first if first < len(periods) else 0, len(periods) - MAX_WEEKS)
    return periods[start:]
