"""What the weekly ceremony owes right now: pure, from a snapshot and an instant.

`due(now, snapshot)` returns the outbox items that should exist at `now` and are not yet in
the outbox. `bot.jobs.tick` loads the snapshot and inserts them; the idempotency keys make a
repeated or racing tick harmless, and catch-up after downtime comes from here (a round is
still owed until its digest time D), never from the scheduler's memory.

- A team's round of week W has its prompt at P = W's `weekday` at `at` in the team's zone,
  and its digest at D = P + digest delay. The prompt is due from P until D.
- A person gets one DM a week: in their own zone, at the earliest of their rounds' weekday
  and time, listing every key result they own, each with its round's period. Due until that
  instant plus the rounds' digest delay.
- A reminder follows the DM by the round's reminder delay, moved into 08:00–19:00 of the
  person's zone, lists only the lines still missing, and is dropped when none are, when the
  person is away, or after the DM's deadline.
- Catching up (the clock was down at a DM's or reminder's time): it goes out at once inside
  08:00–19:00 of the person's zone, else at their next 08:00, unless that is past the
  deadline (a message no one should get at night, and no use after the digest).
- A team's digest (part 1) is due from D until D + `DIGEST_WINDOW` or the next week's P,
  whichever comes first: later it would describe a round that is over. It waits (at most
  `SWEEP_WAIT`) while a check-in DM with a line of the team's round is not swept yet, so the
  DM sweep's finds are in it. Part k+1 is queued once part k is sent; a part past the end
  composes to nothing and is cancelled, which ends the chain (the number of parts is only
  known when the message is composed, at send time).
- Its chart is due once part 1 is sent, in part 1's thread (`_charts`).
- The facilitators' weekly report DM goes out the day after the workspace default round, at
  10:00 in the workspace's zone, until that day ends; the company digest at the same instant,
  to the company channel, or with none set to each facilitator by DM, while a cycle is open
  (both in `bot.jobs.due_facilitators`).
- Left out: paused teams, skipped weeks, paused workspaces, away or deactivated people, key
  results whose cycle does not cover the round's date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.jobs.due_cycle_end import cycle_end_items
from bot.jobs.due_data import (
    FacilitatorDue,
    KeyResultDue,
    OutboxDue,
    PersonDue,
    Round,
    Schedule,
    Snapshot,
    WorkspaceDue,
    weeks_around,
)
from bot.jobs.due_facilitators import company_digests, reports
from bot.jobs.due_pulls import pulls
from bot.models.outbox_keys import (
    Kind,
    chart_key,
    digest_key,
    dm_key,
    prompt_key,
    reminder_key,
)
from bot.okr.period import label, next_period, prompt_instant

REMINDER_EARLIEST = time(8, 0)
REMINDER_LATEST = time(19, 0)
CATCH_UP_GRACE = timedelta(minutes=15)  # later than this, a DM or reminder is caught up
DIGEST_WINDOW = timedelta(days=2)  # a digest not sent by D + this (or the next P) is dropped
SWEEP_WAIT = timedelta(hours=1)  # a digest waits this long at most for the DM sweep

# The snapshot's and the items' types live in `due_data`; callers may take them from here.
__all__ = [
    "FacilitatorDue",
    "KeyResultDue",
    "OutboxDue",
    "PersonDue",
    "Round",
    "Schedule",
    "Snapshot",
    "WorkspaceDue",
    "weeks_around",
    "caught_up",
    "digest_window",
    "due",
    "within_reminder_hours",
]


def within_reminder_hours(at: datetime, tz: ZoneInfo) -> datetime:
    """`at`, or the next 08:00 in `tz` when `at` falls outside 08:00–19:00 there."""
    local = at.astimezone(tz)
    if REMINDER_EARLIEST <= local.time() <= REMINDER_LATEST:
        return at
    day = local.date() if local.time() < REMINDER_EARLIEST else local.date() + timedelta(days=1)
    return datetime.combine(day, REMINDER_EARLIEST, tzinfo=tz)


def caught_up(send_at: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """When a DM or reminder due at `send_at` may go out, seen at `now`: on time, or, when the
    clock is catching up (it was down), not at night: at once inside 08:00–19:00 of the
    person's zone, else at their next 08:00."""
    if now - send_at <= CATCH_UP_GRACE:
        return send_at
    return max(send_at, within_reminder_hours(now, tz))


def _round_of(snapshot: Snapshot, kr: KeyResultDue) -> Round | None:
    if kr.team_id is not None:
        return snapshot.teams.get(kr.team_id)
    workspace = snapshot.workspaces.get(kr.workspace_id)
    return workspace.default if workspace else None


def _started(snapshot: Snapshot, team: Round, week: str) -> datetime | None:
    """When `/okr checkin now` started this team's round of `week`, if it did."""
    started = snapshot.started.get(team.team_id) if team.team_id is not None else None
    if started is not None and label(started.astimezone(team.schedule.tz).date()) == week:
        return started
    return None


def _prompt_at(snapshot: Snapshot, team: Round, week: str) -> datetime:
    """When the round of `week` opens: the rule the check-in intake's open period uses too."""
    schedule = team.schedule
    return prompt_instant(
        week,
        weekday=schedule.weekday,
        local_time=schedule.at,
        tz=schedule.tz,
        started=snapshot.started.get(team.team_id) if team.team_id is not None else None,
    )


def _team_rounds(
    snapshot: Snapshot,
) -> Iterator[tuple[int, Round, WorkspaceDue, list[KeyResultDue]]]:
    """Each team with key results, a channel and an acting workspace, with those key results
    (the rounds whose prompts and digests may be owed)."""
    by_team: dict[int, list[KeyResultDue]] = {}
    for kr in snapshot.key_results:
        if kr.team_id is not None:
            by_team.setdefault(kr.team_id, []).append(kr)
    for team_id, krs in sorted(by_team.items()):
        team = snapshot.teams.get(team_id)
        workspace = snapshot.workspaces.get(krs[0].workspace_id)
        if team is None or workspace is None or not workspace.acting or not team.channel_id:
            continue
        yield team_id, team, workspace, krs


def _prompts(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    for team_id, team, workspace, krs in _team_rounds(snapshot):
        for week in weeks_around(now, team.schedule.tz):
            key = prompt_key(workspace.id, team_id, week)
            if key in snapshot.queued or not team.takes_place(week):
                continue
            at = _prompt_at(snapshot, team, week)
            deadline = max(at, team.schedule.instant(week)) + team.digest_delay
            day = at.astimezone(team.schedule.tz).date()
            lines = tuple((kr.id, week) for kr in sorted(krs, key=_by_id) if kr.in_cycle(day))
            if lines and at <= now < deadline:
                yield OutboxDue(
                    workspace.id, Kind.PROMPT, key, str(team_id), week, at, deadline, lines,
                    {"team_id": team_id, "channel": team.channel_id},
                )  # fmt: skip


def _by_id(kr: KeyResultDue) -> int:
    return kr.id


@dataclass(frozen=True)
class _PersonWeek:
    send_at: datetime
    deadline: datetime
    reminder_delay: timedelta
    lines: tuple[tuple[int, str], ...]


def _person_week(
    snapshot: Snapshot, person: PersonDue, krs: list[KeyResultDue], week: str
) -> _PersonWeek | None:
    """The DM a person is owed in week `week` of their own zone, if any."""
    chosen: list[tuple[int, str]] = []
    earliest: tuple[datetime, Round] | None = None
    delays: list[timedelta] = []
    for kr in sorted(krs, key=_by_id):
        owner_round = _round_of(snapshot, kr)
        if owner_round is None or not owner_round.takes_place(week):
            continue
        round_at = owner_round.schedule.instant(week)
        if not kr.in_cycle(round_at.astimezone(owner_round.schedule.tz).date()):
            continue
        at = _started(snapshot, owner_round, week) or owner_round.schedule.instant(week, person.tz)
        if earliest is None or at < earliest[0]:
            earliest = (at, owner_round)
        delays.append(owner_round.digest_delay)
        chosen.append((kr.id, week))
    if earliest is None:
        return None
    send_at, first = earliest
    return _PersonWeek(send_at, send_at + max(delays), first.reminder_delay, tuple(chosen))


def _person_messages(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    by_owner: dict[int, list[KeyResultDue]] = {}
    for kr in snapshot.key_results:
        if kr.owner_id is not None:
            by_owner.setdefault(kr.owner_id, []).append(kr)
    for person_id, krs in sorted(by_owner.items()):
        person = snapshot.people.get(person_id)
        workspace = snapshot.workspaces.get(krs[0].workspace_id)
        if person is None or not person.active or workspace is None or not workspace.acting:
            continue
        for week in weeks_around(now, person.tz):
            owed = _person_week(snapshot, person, krs, week)
            if owed is None or not owed.send_at <= now < owed.deadline:
                continue
            send_at = caught_up(owed.send_at, now, person.tz)
            dm = dm_key(workspace.id, person_id, week)
            target = {"person_id": person_id}
            if dm not in snapshot.queued:
                away = person.away_on(owed.send_at.astimezone(person.tz).date())
                if not away and send_at <= now:
                    yield OutboxDue(
                        workspace.id, Kind.DM, dm, str(person_id), week, send_at,
                        owed.deadline, owed.lines, target,
                    )  # fmt: skip
                continue
            remind_at = within_reminder_hours(owed.send_at + owed.reminder_delay, person.tz)
            remind_at = caught_up(remind_at, now, person.tz) if remind_at <= now else remind_at
            missing = tuple(line for line in owed.lines if line not in snapshot.checked_in)
            reminder = reminder_key(workspace.id, person_id, week)
            if (
                missing
                and reminder not in snapshot.queued
                and remind_at <= now < owed.deadline
                and not person.away_on(now.astimezone(person.tz).date())
            ):
                yield OutboxDue(
                    workspace.id, Kind.REMINDER, reminder, str(person_id), week, remind_at,
                    owed.deadline, missing, target,
                )  # fmt: skip


def digest_window(snapshot: Snapshot, team: Round, week: str) -> tuple[datetime, datetime]:
    """D of a team's round of `week`, and the end of the time its digest may go out."""
    at = _prompt_at(snapshot, team, week)
    digest_at = max(at, team.schedule.instant(week)) + team.digest_delay
    next_p = team.schedule.instant(next_period(week))
    return digest_at, max(digest_at, min(digest_at + DIGEST_WINDOW, next_p))


def _digests(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    for team_id, team, workspace, krs in _team_rounds(snapshot):
        for week in weeks_around(now, team.schedule.tz):
            if not team.takes_place(week):
                continue
            digest_at, deadline = digest_window(snapshot, team, week)
            day = digest_at.astimezone(team.schedule.tz).date()
            if not any(kr.in_cycle(day) for kr in krs) or not digest_at <= now < deadline:
                continue
            extra = {"team_id": team_id, "channel": team.channel_id,
                     "digest_at": digest_at.isoformat()}  # fmt: skip
            part = 1
            while digest_key(workspace.id, team_id, week, part) in snapshot.digests_sent:
                part += 1
            key = digest_key(workspace.id, team_id, week, part)
            if key in snapshot.digests:
                continue
            if part == 1:
                waiting = any((kr.id, week) in snapshot.unswept for kr in krs)
                if waiting and now < digest_at + SWEEP_WAIT:
                    continue
            yield OutboxDue(
                workspace.id, Kind.DIGEST, key, str(team_id), week, now if part > 1 else digest_at,
                deadline, (), {**extra, "part": part},
            )  # fmt: skip


def _charts(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    """A team digest's chart, once the scheduled digest's part 1 is sent (its thread is where
    the chart goes); not for a digest posted by hand, a paused team or workspace."""
    for (workspace_id, team_id, week), (channel, ts) in sorted(snapshot.digest_threads.items()):
        team = snapshot.teams.get(team_id)
        workspace = snapshot.workspaces.get(workspace_id)
        if team is None or workspace is None or not workspace.acting or not team.takes_place(week):
            continue
        key = chart_key(workspace_id, team_id, week)
        if key in snapshot.charts:
            continue
        digest_at, deadline = digest_window(snapshot, team, week)
        yield OutboxDue(
            workspace_id, Kind.CHART, key, str(team_id), week, now, max(now, deadline), (),
            {"team_id": team_id, "channel": channel, "thread_ts": ts,
             "digest_at": digest_at.isoformat()},
        )  # fmt: skip


def due(now: datetime, snapshot: Snapshot) -> list[OutboxDue]:
    """Every prompt, DM, reminder and digest owed at `now` that the outbox does not hold."""
    if now.tzinfo is None:
        raise ValueError("due needs an aware instant")
    return [
        *_prompts(now, snapshot),
        *_person_messages(now, snapshot),
        *_digests(now, snapshot),
        *_charts(now, snapshot),
        *reports(now, snapshot),
        *company_digests(now, snapshot),
        *cycle_end_items(now, snapshot.cycle_ends),
        *pulls(now, snapshot),
    ]
