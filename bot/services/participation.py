"""Participation, week by week: who was due to check in for each team's round, who did, and
who has missed weeks in a row. Pure: the report loads the rows, this counts them.

- A key result follows its objective's team, else its owner's earliest team, else the
  workspace default schedule (a row of its own, "no team").
- An owner is due in a team's week when they own a key result of that team that existed that
  week (created in it or before), and they are neither deactivated nor away on the round's
  day (the prompt's date in the team's zone). Skipped weeks and rounds not yet open have no
  figures.
- An owner has checked in when every such key result has a value for that week (DESIGN:
  "missing" is an owner with a key result not checked in).
- Everyone: each person counts once a week; checked in when checked in for every team they
  were due in.
- Missing weeks in a row: counted back from the latest week whose digest time has passed; a
  week the person was not due in (away, say) ends the run; a week still open is passed over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.report import Cell, Missing
from bot.okr.period import period_of, prompt_instant

MISSING_IN_A_ROW = 2


@dataclass(frozen=True)
class RoundRules:
    weekday: int
    at: time
    tz: ZoneInfo
    digest_delay: timedelta
    skipped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OwnedKeyResult:
    id: int
    team: int | None  # the round it follows; None = the workspace default schedule
    owner_id: int
    created_at: datetime


@dataclass(frozen=True)
class Owner:
    slack_user_id: str
    active: bool = True
    away: tuple[tuple[date, date], ...] = ()

    def away_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.away)


# person -> period -> team -> "ok" | "missing" | "open" | "away"
States = dict[int, dict[str, dict[int | None, str]]]


@dataclass
class Participation:
    cells: dict[int | None, tuple[Cell, ...]] = field(default_factory=dict)
    total: tuple[Cell, ...] = ()
    missing: tuple[Missing, ...] = ()
    states: States = field(default_factory=dict)


def everyone(states: States, weeks: Mapping[int | None, str]) -> Cell:
    """Each person once over the team weeks `weeks` (team -> its week): due if due in any of
    them, checked in if checked in in every one they were due in. Not a sum of the teams'
    cells: a person in two teams counts once."""
    checked = due = 0
    for by_period in states.values():
        found = {
            state
            for team, week in weeks.items()
            if (state := by_period.get(week, {}).get(team)) is not None and state != "away"
        }
        if found:
            due += 1
            checked += found == {"ok"}
    return Cell(checked, due)


def count(
    *,
    periods: Sequence[str],
    rounds: Mapping[int | None, RoundRules],
    key_results: Iterable[OwnedKeyResult],
    owners: Mapping[int, Owner],
    values: set[tuple[int, str]],
    now: datetime,
) -> Participation:
    by_team: dict[int | None, dict[int, list[OwnedKeyResult]]] = {}
    for kr in key_results:
        owner = owners.get(kr.owner_id)
        if owner is not None and owner.active and kr.team in rounds:
            by_team.setdefault(kr.team, {}).setdefault(kr.owner_id, []).append(kr)
    result = Participation()
    states = result.states
    for team, owned in by_team.items():
        rules = rounds[team]
        cells = []
        for period in periods:
            opens = prompt_instant(period, weekday=rules.weekday, local_time=rules.at, tz=rules.tz)
            if period in rules.skipped:
                cells.append(Cell(note="skip"))
                continue
            if opens > now:
                cells.append(Cell(note="–"))
                continue
            over = now >= opens + rules.digest_delay
            day = opens.astimezone(rules.tz).date()
            checked = due = 0
            for person_id, krs in owned.items():
                existing = [kr for kr in krs if period_of(kr.created_at, rules.tz) <= period]
                if not existing:
                    continue
                if owners[person_id].away_on(day):
                    states.setdefault(person_id, {}).setdefault(period, {})[team] = "away"
                    continue
                due += 1
                done = all((kr.id, period) in values for kr in existing)
                checked += done
                state = "ok" if done else "missing" if over else "open"
                states.setdefault(person_id, {}).setdefault(period, {})[team] = state
            cells.append(Cell(checked, due))
        result.cells[team] = tuple(cells)
    result.total = tuple(everyone(states, dict.fromkeys(by_team, period)) for period in periods)
    result.missing = tuple(
        sorted(
            (
                m
                for person_id, by_period in states.items()
                if (m := _run(owners[person_id].slack_user_id, periods, _merged(by_period)))
                is not None
            ),
            key=lambda m: (-m.weeks, m.slack_user_id),
        )  # fmt: skip
    )
    return result


def _merged(by_period: Mapping[str, Mapping[int | None, str]]) -> dict[str, set[str]]:
    """A person's states a week, over all their teams."""
    return {period: set(by_team.values()) for period, by_team in by_period.items()}


def _run(
    slack_user_id: str, periods: Sequence[str], weeks: Mapping[str, set[str]]
) -> Missing | None:
    """The person's current run of missed weeks, if it is `MISSING_IN_A_ROW` or longer."""
    run: list[str] = []
    for period in reversed(periods):
        found = weeks.get(period, set())
        if found <= {"open"}:
            continue  # no round for them (skipped, not yet) or still open: passed over
        if "missing" not in found:
            break  # answered, or away: the run ends
        run.append(period)
    if len(run) < MISSING_IN_A_ROW:
        return None
    return Missing(slack_user_id, len(run), run[-1])
