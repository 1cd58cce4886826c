"""What the clock owes the facilitators, at the weekly report's instant (the day after the
workspace default round, `REPORT_AT` in the workspace's zone, until that day ends): the
report DM to each facilitator (each admin when there is none) and the company digest, to the
company channel or, with none set, to the same people by DM. Pure, like `bot.jobs.due`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.jobs.due_data import (
    FacilitatorDue,
    OutboxDue,
    Schedule,
    Snapshot,
    WorkspaceDue,
    weeks_around,
)
from bot.models import outbox_keys
from bot.models.outbox_keys import Kind
from bot.okr.period import label, monday_of
from bot.okr.schedule import COMPANY_AT

REPORT_AT = COMPANY_AT  # the weekly report DM: the day after the default round, 10:00


def report_window(week: str, schedule: Schedule) -> tuple[date, datetime, datetime]:
    """The day after the default round of `week`, its `REPORT_AT` and its end: when the
    weekly report DM and the company digest go out."""
    day = monday_of(week) + timedelta(days=schedule.weekday + 1)
    send_at = datetime.combine(day, REPORT_AT, tzinfo=schedule.tz)
    return day, send_at, datetime.combine(day + timedelta(days=1), time(0), tzinfo=schedule.tz)


def company_digest_window(week: str, workspace: WorkspaceDue) -> tuple[date, datetime, datetime]:
    """The company digest's day in `week`, its instant and its end: the weekday and time set
    in `/okr settings`, each defaulting to the weekly report's (`report_window`)."""
    schedule = workspace.default.schedule
    day, send_at, deadline = report_window(week, schedule)
    if workspace.company_weekday is not None:
        day = monday_of(week) + timedelta(days=workspace.company_weekday)
    at = workspace.company_time or REPORT_AT
    send_at = datetime.combine(day, at, tzinfo=schedule.tz)
    return day, send_at, datetime.combine(day + timedelta(days=1), time(0), tzinfo=schedule.tz)


def recipients(snapshot: Snapshot) -> dict[int, list[FacilitatorDue]]:
    """Per workspace, who gets the facilitators' DMs: the active facilitators, else the
    active admins."""
    by_workspace: dict[int, list[FacilitatorDue]] = {}
    for person in snapshot.facilitators:
        if person.active:
            by_workspace.setdefault(person.workspace_id, []).append(person)
    return {
        ws: sorted([p for p in people if p.role == "facilitator"] or people, key=lambda p: p.id)
        for ws, people in by_workspace.items()
    }


def reports(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    """The weekly report DM to each facilitator (to each admin when there is none): the day
    after the workspace default schedule's round at `REPORT_AT` in the workspace's zone, due
    until that day ends; not for a paused workspace nor a deactivated person."""
    for workspace_id, people in sorted(recipients(snapshot).items()):
        workspace = snapshot.workspaces.get(workspace_id)
        if workspace is None or not workspace.acting:
            continue
        schedule = workspace.default.schedule
        for week in weeks_around(now, schedule.tz):
            day, send_at, deadline = report_window(week, schedule)
            if not send_at <= now < deadline:
                continue
            for person in people:
                key = outbox_keys.report_key(workspace_id, person.id, day)
                if key not in snapshot.reports:
                    yield OutboxDue(
                        workspace_id, Kind.REPORT, key, str(person.id), label(day), send_at,
                        deadline, (), {"person_id": person.id},
                    )  # fmt: skip


def company_digests(now: datetime, snapshot: Snapshot) -> Iterable[OutboxDue]:
    """The company digest, at the weekly report's instant (`report_window`), until that day
    ends: to the company channel (key `company_digest:<ws>:<date>`), or with none set to each
    facilitator by DM (the person ends the key); not for a paused workspace nor without an
    open cycle."""
    people_of = recipients(snapshot)
    for workspace_id, workspace in sorted(snapshot.workspaces.items()):
        if not workspace.acting or not workspace.open_cycle:
            continue
        for week in weeks_around(now, workspace.default.schedule.tz):
            day, send_at, deadline = company_digest_window(week, workspace)
            if not send_at <= now < deadline:
                continue
            targets: list[tuple[str, int | None, dict[str, Any]]] = (
                [(workspace.company_channel, None, {"channel": workspace.company_channel})]
                if workspace.company_channel
                else [
                    (str(p.id), p.id, {"person_id": p.id}) for p in people_of.get(workspace_id, [])
                ]
            )
            for target, person_id, extra in targets:
                key = outbox_keys.company_digest_key(workspace_id, day, person_id)
                if key not in snapshot.company_digests:
                    yield OutboxDue(
                        workspace_id, Kind.COMPANY_DIGEST, key, target, label(day), send_at,
                        deadline, (), extra,
                    )  # fmt: skip
