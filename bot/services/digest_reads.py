"""Reading what team digests show, for any number of rounds in a fixed number of statements.

The sender composes every digest of a batch (all the teams due at the same instant) from
one set of reads, so a statement's round trip is paid once a batch, not once a team; `/okr
digest` and the chart read one round the same way. Rows are split between rounds in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    AwayPeriod,
    Cycle,
    KeyResult,
    Objective,
    ObjectiveContributor,
    Person,
    Team,
    TeamMember,
    TeamSkippedPeriod,
)
from bot.okr.period import monday_of, zone
from bot.okr.series import CycleDates, cycle_periods
from bot.repository.checkins import CheckinsByPeriod, active_key_results_with_checkins
from bot.repository.ids import among

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class DigestRound:
    """A team's round whose digest is read: its week, as it stands at `at` (D, or now)."""

    team: Team
    period: str
    at: datetime


@dataclass(frozen=True)
class DigestRows:
    """What the digest and its chart share: the round's cycle, the objectives the digest
    shows (ordered by ref) and their key results, check-ins up to the period, the cycle's
    periods up to it (skipped weeks left out, except the round's own), and the team's
    skipped weeks."""

    cycle: Cycle
    tz: ZoneInfo
    members: list[int]
    objectives: list[Objective]
    key_results: list[KeyResult]
    checkins: CheckinsByPeriod
    periods: list[str]
    skipped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DigestPeople:
    """The people the digest names (key result owners and members) by Slack id, and their
    away spans that touch the cycle up to the round."""

    slack_ids: dict[int, str]
    away: dict[int, list[tuple[date, date]]]


def _cycle_of(cycles: Sequence[Cycle], digest: DigestRound) -> Cycle | None:
    team = digest.team
    day = max(digest.at.astimezone(zone(team.timezone, _UTC)).date(), monday_of(digest.period))
    return next(
        (
            c
            for c in cycles
            if c.workspace_id == team.workspace_id and c.starts_on <= day <= c.ends_on
        ),
        None,
    )


async def load_rounds_rows(
    session: AsyncSession, *, rounds: Sequence[DigestRound]
) -> list[DigestRows | None]:
    """Each round's rows (None when no active cycle covers it): seven statements however
    many rounds and teams."""
    if not rounds:
        return []
    workspaces = {r.team.workspace_id for r in rounds}
    team_ids = {r.team.id for r in rounds}
    cycles = list(
        (
            await session.execute(
                select(Cycle)
                .where(among(session, Cycle.workspace_id, workspaces), Cycle.state == "active")
                .order_by(Cycle.starts_on, Cycle.id)
            )
        ).scalars()
    )
    chosen = [_cycle_of(cycles, r) for r in rounds]
    if all(c is None for c in chosen):
        return [None] * len(rounds)
    members: dict[int, list[int]] = {}
    for team_id, person_id in (
        await session.execute(
            select(TeamMember.team_id, TeamMember.person_id).where(
                among(session, TeamMember.workspace_id, workspaces),
                among(session, TeamMember.team_id, team_ids),
            )
        )
    ).all():
        members.setdefault(team_id, []).append(person_id)
    shared: dict[int, set[int]] = {}
    for team_id, objective_id in (
        await session.execute(
            select(ObjectiveContributor.team_id, ObjectiveContributor.objective_id).where(
                among(session, ObjectiveContributor.workspace_id, workspaces),
                among(session, ObjectiveContributor.team_id, team_ids),
            )
        )
    ).all():
        shared.setdefault(team_id, set()).add(objective_id)
    everyone = {p for found in members.values() for p in found}
    objectives = list(
        (
            await session.execute(
                select(Objective)
                .where(
                    among(session, Objective.workspace_id, workspaces),
                    among(session, Objective.cycle_id, {c.id for c in chosen if c is not None}),
                    Objective.state == "active",
                    or_(
                        among(session, Objective.team_id, team_ids),
                        among(
                            session, Objective.id, {o for found in shared.values() for o in found}
                        ),
                        (Objective.level == "personal")
                        & among(session, Objective.owner_person_id, everyone),
                    ),
                )
                .order_by(Objective.ref_number)
            )
        ).scalars()
    )
    key_results, checkins = await active_key_results_with_checkins(
        session,
        workspace_ids=workspaces,
        objective_ids=[o.id for o in objectives],
        through_period=max(r.period for r in rounds),
    )
    skipped: dict[int, set[str]] = {}
    for team_id, period in (
        await session.execute(
            select(TeamSkippedPeriod.team_id, TeamSkippedPeriod.period).where(
                among(session, TeamSkippedPeriod.workspace_id, workspaces),
                among(session, TeamSkippedPeriod.team_id, team_ids),
            )
        )
    ).all():
        skipped.setdefault(team_id, set()).add(period)
    return _share_out(rounds, chosen, members, shared, objectives, key_results, checkins, skipped)


def _share_out(
    rounds: Sequence[DigestRound],
    chosen: Sequence[Cycle | None],
    members: dict[int, list[int]],
    shared: dict[int, set[int]],
    objectives: Sequence[Objective],
    key_results: Sequence[KeyResult],
    checkins: CheckinsByPeriod,
    skipped: dict[int, set[str]],
) -> list[DigestRows | None]:
    """The batch's rows split between its rounds, as each round's own reads would find them:
    its team's objectives, the shared ones it contributes to and its members' personal ones
    (of its cycle, by ref), their key results, and check-ins up to its period."""
    # Grouped once, so sharing them out costs each round only its own rows.
    krs_of: dict[int, list[KeyResult]] = {}
    for kr in key_results:
        krs_of.setdefault(kr.objective_id, []).append(kr)
    of_team: dict[int, list[Objective]] = {}
    personal_of: dict[int, list[Objective]] = {}
    by_id: dict[int, Objective] = {}
    for o in objectives:
        by_id[o.id] = o
        if o.team_id is not None:
            of_team.setdefault(o.team_id, []).append(o)
        if o.level == "personal" and o.owner_person_id is not None:
            personal_of.setdefault(o.owner_person_id, []).append(o)
    latest = max(r.period for r in rounds)  # the check-ins were read up to it
    weeks_of: dict[tuple[int, str, str], tuple[str, ...]] = {}  # rounds of a batch share them
    found: list[DigestRows | None] = []
    for digest, cycle in zip(rounds, chosen, strict=True):
        if cycle is None:
            found.append(None)
            continue
        team, period = digest.team, digest.period
        team_members = members.get(team.id, [])
        candidates = {o.id: o for o in of_team.get(team.id, ())}
        candidates.update((i, by_id[i]) for i in shared.get(team.id, ()) if i in by_id)
        for person_id in team_members:
            candidates.update((o.id, o) for o in personal_of.get(person_id, ()))
        shown = sorted((o for o in candidates.values() if o.cycle_id == cycle.id), key=_by_ref)
        krs = sorted((kr for o in shown for kr in krs_of.get(o.id, ())), key=_by_ref)
        rows: CheckinsByPeriod = {}
        for kr in krs:
            by_period = checkins.get(kr.id)
            if by_period is not None:
                rows[kr.id] = (
                    by_period
                    if period == latest
                    else {p: c for p, c in by_period.items() if p <= period}
                )
        tz = zone(team.timezone, _UTC)
        weeks = skipped.get(team.id, set())
        key = (cycle.id, str(tz), period)
        if key not in weeks_of:
            weeks_of[key] = cycle_periods(
                CycleDates(cycle.starts_on, cycle.ends_on, tz), through=period
            )
        periods = [p for p in weeks_of[key] if p not in weeks or p == period]
        found.append(
            DigestRows(cycle, tz, team_members, shown, krs, rows, periods, frozenset(weeks))
        )
    return found


async def load_rounds_people(
    session: AsyncSession,
    *,
    rounds: Sequence[DigestRound],
    rows: Sequence[DigestRows | None],
) -> list[DigestPeople | None]:
    """The people each round's digest names and their away spans: two statements however
    many rounds (None where the round has no rows)."""
    wanted: list[set[int]] = []
    for found in rows:
        if found is None:
            wanted.append(set())
            continue
        owners = {kr.owner_person_id for kr in found.key_results if kr.owner_person_id is not None}
        wanted.append(owners | set(found.members))
    everyone = {p for ids in wanted for p in ids}
    live = [(r, f) for r, f in zip(rounds, rows, strict=True) if f is not None]
    if not live:
        return [None] * len(rounds)
    workspaces = {r.team.workspace_id for r, _ in live}
    found_ids = await session.execute(
        select(Person.id, Person.slack_user_id).where(
            among(session, Person.workspace_id, workspaces), among(session, Person.id, everyone)
        )
    )
    slack_ids: dict[int, str] = dict(found_ids.all())
    bounds = [
        (f.cycle.starts_on, max(_round_day(r), r.at.astimezone(f.tz).date())) for r, f in live
    ]
    spans: dict[int, list[tuple[date, date]]] = {}
    for person_id, starts_on, ends_on in (
        await session.execute(
            select(AwayPeriod.person_id, AwayPeriod.starts_on, AwayPeriod.ends_on).where(
                among(session, AwayPeriod.workspace_id, workspaces),
                among(session, AwayPeriod.person_id, list(slack_ids)),
                AwayPeriod.ends_on >= min(first for first, _ in bounds),
                AwayPeriod.starts_on <= max(last for _, last in bounds),
            )
        )
    ).all():
        spans.setdefault(person_id, []).append((starts_on, ends_on))
    people: list[DigestPeople | None] = []
    for digest, found, ids in zip(rounds, rows, wanted, strict=True):
        if found is None:
            people.append(None)
            continue
        first, last = (
            found.cycle.starts_on,
            max(_round_day(digest), digest.at.astimezone(found.tz).date()),
        )
        named = {p: slack_ids[p] for p in ids if p in slack_ids}
        away: dict[int, list[tuple[date, date]]] = {}
        for person_id in named:
            kept = [(s, e) for s, e in spans.get(person_id, ()) if e >= first and s <= last]
            if kept:
                away[person_id] = kept
        people.append(DigestPeople(named, away))
    return people


def _by_ref(row: Objective | KeyResult) -> int:
    return row.ref_number


def _round_day(digest: DigestRound) -> date:
    return monday_of(digest.period) + timedelta(days=digest.team.checkin_weekday)


async def load_digest_rows(
    session: AsyncSession, *, team: Team, period: str, at: datetime
) -> DigestRows | None:
    """One round's rows (the chart's read); None when no active cycle covers the round."""
    [found] = await load_rounds_rows(session, rounds=[DigestRound(team, period, at)])
    return found


async def load_digest_people(
    session: AsyncSession, *, team: Team, rows: DigestRows, period: str, at: datetime
) -> DigestPeople:
    """One round's people and their away spans."""
    [named] = await load_rounds_people(session, rounds=[DigestRound(team, period, at)], rows=[rows])
    assert named is not None
    return named
