"""A team digest's read model from its rows already read: pure, no statement.

Every key result with its value, change since the last period, confidence and status at D
(a reported status wins for its week; an outdated key result counts as at risk at best and
shows as outdated whatever it last reported), what needs attention, confidence drops and
wins, and who checked in, who is missing (with their streak) and who is away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.digest import DigestData, DigestKeyResult, DigestObjective, MissingPerson
from bot.models import Cycle, KeyResult, Objective, Team
from bot.okr.period import label, monday_of, period_of
from bot.okr.progress import (
    Status,
    Weighted,
    clamp,
    expected_progress,
    is_outdated,
    key_result_progress,
    objective_progress,
    outdated_status,
    status,
)
from bot.repository.checkins import CheckinsByPeriod, CurrentValue, value_for_period
from bot.services.digest_reads import DigestPeople, DigestRows
from bot.services.reading import measure_of

CONFIDENCE_DROP = 3  # confidence that fell by this much or more since last period
WIN_AT = 0.70  # crossing this progress is a win (so is reaching the target)


@dataclass(frozen=True)
class _KeyResultFacts:
    row: DigestKeyResult
    owner_id: int | None
    checked_in: bool


def digest_from_rows(
    rows: DigestRows, named: DigestPeople, *, team: Team, period: str, at: datetime
) -> DigestData:
    """The read model from rows already read (no statement): pure."""
    tz, cycle, members = rows.tz, rows.cycle, rows.members
    objectives, key_results, checkins = rows.objectives, rows.key_results, rows.checkins
    periods = rows.periods
    slack_ids, away = named.slack_ids, named.away
    day = at.astimezone(tz).date()
    round_day = monday_of(period) + timedelta(days=team.checkin_weekday)
    expected = expected_progress(at, starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=tz)
    before = expected_progress(
        at - timedelta(days=7), starts_on=cycle.starts_on, ends_on=cycle.ends_on, tz=tz
    )

    def slack_id(person_id: int | None) -> str | None:
        return slack_ids.get(person_id or 0)

    created = {
        kr.id: max(period_of(kr.created_at, tz), label(cycle.starts_on)) for kr in key_results
    }
    facts: dict[int, _KeyResultFacts] = {}
    for kr in key_results:
        by_period = checkins.get(kr.id, {})
        values = {
            p: v for p in periods if (v := value_for_period(by_period.get(p, []))) is not None
        }
        facts[kr.id] = _key_result(kr, values, periods, period, cycle, tz, expected, before,
                                   slack_id(kr.owner_person_id))  # fmt: skip
    by_objective: dict[int, list[KeyResult]] = {}
    for kr in key_results:
        by_objective.setdefault(kr.objective_id, []).append(kr)

    def objective(o: Objective) -> DigestObjective:
        krs = by_objective.get(o.id, [])
        rows = tuple(facts[kr.id].row for kr in krs)
        now = objective_progress(
            Weighted(kr.id, facts[kr.id].row.progress, kr.weight) for kr in krs
        )
        then = objective_progress(
            Weighted(kr.id, facts[kr.id].row.previous_progress, kr.weight) for kr in krs
        )
        return DigestObjective(
            o.ref, o.title, now, None if now is None or then is None else now - then,
            shared=o.team_id != team.id and o.level != "personal",
            owner_slack_id=slack_id(o.owner_person_id) if o.level == "personal" else None,
            key_results=rows, committed=o.commitment == "committed",
        )  # fmt: skip

    team_objectives = tuple(objective(o) for o in objectives if o.level != "personal")
    personal = tuple(objective(o) for o in objectives if o.level == "personal")
    all_rows = [f.row for f in facts.values()]
    away_now = {pid for pid, spans in away.items()
                if any(s <= round_day <= e or s <= day <= e for s, e in spans)}  # fmt: skip
    owners: dict[int, bool] = {}
    for kr in key_results:
        if kr.owner_person_id is not None:
            done = facts[kr.id].checked_in
            owners[kr.owner_person_id] = owners.get(kr.owner_person_id, True) and done
    checked = sorted(slack_id(p) or "" for p, done in owners.items() if done and p not in away_now)
    missing = []
    for person_id, done in owners.items():
        if done or person_id in away_now:
            continue
        streak = _streak(person_id, key_results, checkins, periods, away.get(person_id, []),
                         team, created)  # fmt: skip
        missing.append(MissingPerson(slack_id(person_id) or "", streak))
    return DigestData(
        team_name=team.name,
        period=period,
        expected=expected,
        objectives=team_objectives,
        personal=personal,
        attention=tuple(r for r in all_rows if r.status in (Status.AT_RISK, Status.OFF_TRACK)),
        drops=tuple(r for r in all_rows if r.dropped),
        wins=tuple(r for r in all_rows if r.win),
        checked_in=tuple(s for s in checked if s),
        missing=tuple(sorted((m for m in missing if m.slack_id), key=lambda m: m.slack_id)),
        away=tuple(
            sorted(s for p in away_now if p in owners or p in members if (s := slack_id(p)))
        ),  # fmt: skip
    )


def _key_result(
    kr: KeyResult,
    values: dict[str, CurrentValue],
    periods: Sequence[str],
    period: str,
    cycle: Cycle,
    tz: ZoneInfo,
    expected: float,
    before: float,
    owner: str | None,
) -> _KeyResultFacts:
    measure = measure_of(kr)
    known = [values[p].value for p in periods if p in values]
    earlier = [values[p].value for p in periods if p in values and p < period]
    current = values.get(period)
    latest = next((values[p] for p in reversed(periods) if p in values), None)
    previous = next((values[p] for p in reversed(periods) if p in values and p < period), None)
    progress = clamp(key_result_progress(measure, known))
    previous_progress = clamp(key_result_progress(measure, earlier))
    confidence = latest.confidence if latest else None
    previous_confidence = previous.confidence if previous else None
    reported = Status(current.status) if current and current.status in set(Status) else None
    now_status = status(progress=progress, expected=expected, confidence=confidence,
                        reported=reported)  # fmt: skip
    then_reported = Status(previous.status) if previous and previous.status in set(Status) else None
    then_status = status(progress=previous_progress, expected=before,
                         confidence=previous_confidence, reported=then_reported)  # fmt: skip
    created = max(period_of(kr.created_at, tz), label(cycle.starts_on))
    outdated = is_outdated(
        last_checkin_period=latest.period if latest else None,
        current_period=period,
        created_period=created,
    )
    if outdated:  # counts as at risk at best, whatever its owner last reported
        now_status = outdated_status(now_status)
    dropped = previous is not None and (
        (confidence is not None and previous_confidence is not None
         and previous_confidence - confidence >= CONFIDENCE_DROP)
        or (then_status is Status.ON_TRACK and now_status is not Status.ON_TRACK)
    )  # fmt: skip
    raw, raw_before = key_result_progress(measure, known), key_result_progress(measure, earlier)
    win = current is not None and (
        raw_before < 1.0 <= raw or previous_progress < WIN_AT <= progress
    )
    row = DigestKeyResult(
        ref=kr.ref,
        title=kr.title,
        unit=kr.unit,
        target=kr.target_value,
        value=latest.value if latest else None,
        previous_value=previous.value if previous else None,
        progress=progress,
        previous_progress=previous_progress,
        confidence=confidence,
        previous_confidence=previous_confidence,
        status=now_status,
        reported=reported is not None,
        outdated=outdated,
        note=latest.note if latest else None,
        owner_slack_id=owner,
        dropped=bool(dropped) and not outdated,
        win=win,
    )
    return _KeyResultFacts(row, kr.owner_person_id, current is not None)


def _streak(
    person_id: int,
    key_results: Sequence[KeyResult],
    checkins: CheckinsByPeriod,
    periods: Sequence[str],
    away: Sequence[tuple[date, date]],
    team: Team,
    created: dict[int, str],
) -> int:
    """Weeks in a row, up to this one, in which the person left a key result without a
    check-in; weeks they were away are passed over (neither counted nor ending it), and a
    week before their key results existed ends it."""
    mine = [kr for kr in key_results if kr.owner_person_id == person_id]
    streak = 0
    for p in reversed(periods):
        theirs = [kr for kr in mine if created[kr.id] <= p]
        if not theirs:
            break
        day = monday_of(p) + timedelta(days=team.checkin_weekday)
        if any(s <= day <= e for s, e in away):
            continue
        if all(value_for_period(checkins.get(kr.id, {}).get(p, [])) is not None for kr in theirs):
            break
        streak += 1
    return streak
