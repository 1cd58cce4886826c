"""The company digest: how the company objectives of the open cycle are doing, read in a
fixed number of statements and composed at send time for a `company_digest` outbox row.

- Each company objective's own progress (its key results), and beside it the roll-up of
  everything aligned below it (`okr.progress.rollup_progress`; DESIGN: not mixed in).
- Under it, the at-risk and off-track key results: its own and those of the (non-personal)
  objectives aligned below it, with status at the send instant (a status reported for the
  current week wins, as everywhere; an outdated key result counts as at risk at best,
  whatever its owner last reported, as in the team digest).
- Participation by team for each team's latest week whose digest time has passed, taken
  from the facilitator's report (`services.report`, which counts it with
  `services.participation`), so the two never disagree.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.company_digest import (
    AttentionKeyResult,
    CompanyDigest,
    CompanyObjective,
    TeamWeek,
    build_company_digest,
    company_digest_text,
)
from bot.models import Cycle, KeyResult, Objective, OutboxItem, Person, Team, Workspace
from bot.okr.period import period_of, prompt_instant, zone
from bot.okr.progress import (
    ObjectiveNode,
    Status,
    Weighted,
    clamp,
    expected_progress,
    key_result_progress,
    objective_progress,
    outdated_status,
    rollup_progress,
    status,
)
from bot.okr.schedule import DEFAULT_CHECKIN_TIME, DEFAULT_CHECKIN_WEEKDAY, DEFAULT_DIGEST_DELAY
from bot.repository.checkins import CurrentValue, active_key_results_with_checkins, value_for_period
from bot.services import participation
from bot.services.prompts import Composed, deadline_of
from bot.services.reading import measure_of
from bot.services.report import read_report_and_states
from bot.services.round_periods import outdated_key_results

_UTC = ZoneInfo("UTC")
ATTENTION = (Status.AT_RISK, Status.OFF_TRACK)
EVERYONE = "everyone"  # the participation line that counts each person once


def workspace_paused(workspace: Workspace, now: datetime) -> bool:
    return workspace.state != "active" or (
        workspace.paused_until is not None and workspace.paused_until > now
    )


async def read_company_digest(
    session: AsyncSession, *, workspace_id: int, now: datetime
) -> CompanyDigest | None:
    """The digest as things stand at `now`; None with no open cycle."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        return None
    tz = zone(workspace.timezone, _UTC)
    cycle = (
        await session.execute(
            select(Cycle)
            .where(Cycle.workspace_id == workspace_id, Cycle.state == "active")
            .order_by(Cycle.starts_on.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if cycle is None:
        return None
    objectives = list(
        (
            await session.execute(
                select(Objective)
                .where(
                    Objective.workspace_id == workspace_id,
                    Objective.cycle_id == cycle.id,
                    Objective.state == "active",
                )
                .order_by(Objective.ref_number)
            )
        ).scalars()
    )
    key_results, checkins = await active_key_results_with_checkins(
        session,
        workspace_ids=[workspace_id],
        objective_ids=[o.id for o in objectives],
    )
    owner_ids = {kr.owner_person_id for kr in key_results if kr.owner_person_id is not None}
    owners = await session.execute(
        select(Person.id, Person.slack_user_id).where(
            Person.workspace_id == workspace_id, Person.id.in_(owner_ids)
        )
    )
    slack_id: dict[int, str] = {row.id: row.slack_user_id for row in owners}
    expected = expected_progress(now, starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=tz)
    this_week = period_of(now, tz)

    progress: dict[int, float] = {}
    state: dict[int, Status] = {}
    latest: dict[int, CurrentValue] = {}
    for kr in key_results:
        by_period = checkins.get(kr.id, {})
        values: list[CurrentValue] = [
            v for p in sorted(by_period) if (v := value_for_period(by_period[p])) is not None
        ]
        progress[kr.id] = clamp(key_result_progress(measure_of(kr), [v.value for v in values]))
        last = values[-1] if values else None
        if last is not None:
            latest[kr.id] = last
        reported = (
            Status(last.status)
            if last and last.period == this_week and last.status in set(Status)
            else None
        )
        state[kr.id] = status(
            progress=progress[kr.id],
            expected=expected,
            confidence=last.confidence if last else None,
            reported=reported,
        )
    # As in the team digest: an outdated key result counts as at risk at best, whatever its
    # owner last reported.
    stale = await outdated_key_results(
        session,
        workspace_id=workspace_id,
        cycle=cycle,
        key_results=key_results,
        team_of_objective={o.id: o.team_id for o in objectives},
        values=latest,
        at=now,
    )
    for kr_id in stale:
        state[kr_id] = outdated_status(state[kr_id])

    krs_of: dict[int, list[KeyResult]] = {}
    for kr in key_results:
        krs_of.setdefault(kr.objective_id, []).append(kr)
    children: dict[int, list[Objective]] = {}
    for o in objectives:
        if o.parent_objective_id is not None:
            children.setdefault(o.parent_objective_id, []).append(o)

    def weighted(o: Objective) -> tuple[Weighted, ...]:
        return tuple(Weighted(kr.id, progress[kr.id], kr.weight) for kr in krs_of.get(o.id, []))

    def node(o: Objective, seen: frozenset[int]) -> ObjectiveNode:
        below = [c for c in children.get(o.id, []) if c.id not in seen]
        return ObjectiveNode(weighted(o), tuple(node(c, seen | {c.id}) for c in below))

    def below(o: Objective) -> list[Objective]:
        """The non-personal objectives aligned below `o`, nearest first."""
        found: list[Objective] = []
        queue, seen = list(children.get(o.id, [])), {o.id}
        while queue:
            child = queue.pop(0)
            if child.id in seen:
                continue
            seen.add(child.id)
            if child.level != "personal":
                found.append(child)
            queue.extend(children.get(child.id, []))
        return found

    def attention(o: Objective, via: str | None) -> list[AttentionKeyResult]:
        return [
            AttentionKeyResult(
                kr.ref,
                kr.title,
                state[kr.id],
                progress[kr.id],
                slack_id.get(kr.owner_person_id or 0),
                via,
                outdated=kr.id in stale,
            )  # fmt: skip
            for kr in krs_of.get(o.id, [])
            if state[kr.id] in ATTENTION
        ]

    company = []
    for o in objectives:
        if o.level != "company":
            continue
        aligned = below(o)
        listed = attention(o, None)
        for child in aligned:
            listed.extend(attention(child, child.ref))
        listed.sort(key=lambda kr: (kr.status != Status.OFF_TRACK, kr.progress))
        company.append(
            CompanyObjective(
                o.ref,
                o.title,
                objective_progress(weighted(o)),
                rollup_progress(node(o, frozenset({o.id}))),
                sum(1 for c in aligned if c.level == "team"),
                tuple(listed),
                committed=o.commitment == "committed",
            )
        )
    return CompanyDigest(
        cycle.name,
        now.astimezone(tz).strftime("%Y-%m-%d"),
        expected,
        tuple(company),
        *await _participation(session, workspace=workspace, now=now),
    )


async def _participation(
    session: AsyncSession, *, workspace: Workspace, now: datetime
) -> tuple[tuple[TeamWeek, ...], TeamWeek | None]:
    """Each team's latest week whose digest time has passed, from the facilitator's report,
    and everyone over those weeks, each person once (not a sum of the rows: a person in two
    teams counts once)."""
    found, states = await read_report_and_states(session, workspace_id=workspace.id, now=now)
    teams = {
        t.id: t
        for t in (
            await session.execute(select(Team).where(Team.workspace_id == workspace.id))
        ).scalars()
    }
    settings = workspace.settings or {}
    default_at = settings.get("checkin_time", DEFAULT_CHECKIN_TIME)
    shown: list[TeamWeek] = []
    weeks: dict[int | None, str] = {}
    for row in found.teams:
        team = teams.get(row.team_id) if row.team_id is not None else None
        if row.team_id is not None and (team is None or team.paused):
            continue
        if team is not None:
            weekday, at, tz = team.checkin_weekday, team.checkin_time, zone(team.timezone, _UTC)
            delay = timedelta(minutes=team.digest_delay_minutes)
        else:
            weekday = int(settings.get("checkin_weekday", DEFAULT_CHECKIN_WEEKDAY))
            at = default_at if isinstance(default_at, time) else time.fromisoformat(default_at)
            tz, delay = zone(workspace.timezone, _UTC), DEFAULT_DIGEST_DELAY
        for week, cell in reversed(list(zip(found.periods, row.cells, strict=True))):
            opens = prompt_instant(week, weekday=weekday, local_time=at, tz=tz)
            if cell.note or not cell.due or now < opens + delay:
                continue
            shown.append(TeamWeek(row.name, week, cell.checked, cell.due))
            weeks[row.team_id] = week
            break
    if not shown:
        return (), None
    total = participation.everyone(states, weeks)
    first, last = min(weeks.values()), max(weeks.values())
    span = first if first == last else f"{first} to {last}"
    return tuple(shown), TeamWeek(EVERYONE, span, total.checked, total.due)


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    """The company digest for its row, read at send time; None (cancelled) when no longer
    owed: past its day, the workspace paused, no open cycle, or (by DM) the person no
    longer a facilitator or admin."""
    deadline = deadline_of(item)
    if deadline is not None and now >= deadline:
        return None
    workspace = await session.get(Workspace, item.workspace_id)
    if workspace is None or workspace_paused(workspace, now):
        return None
    person: Person | None = None
    channel = item.payload.get("channel")
    if not channel:
        person = await session.get(Person, int(item.payload["person_id"]))
        if person is None or person.is_deactivated or person.role not in ("facilitator", "admin"):
            return None
        channel = person.slack_user_id
    data = await read_company_digest(session, workspace_id=item.workspace_id, now=now)
    if data is None:
        return None
    return Composed(
        str(channel),
        company_digest_text(data),
        build_company_digest(data),
        (),
        person_id=person.id if person else None,
    )
