"""When the weekly report DM is owed (`due` is pure): the day after the workspace default
schedule's round, 10:00 in the workspace's zone, until that day ends; once a facilitator
(admins only when there is no facilitator); never to a deactivated person or a paused
workspace."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.due import (
    FacilitatorDue,
    OutboxDue,
    Round,
    Schedule,
    Snapshot,
    WorkspaceDue,
    due,
)
from bot.models.outbox_keys import Kind

TUESDAY_TEN = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # the day after Monday 2026-11-30


def snapshot(
    *people: FacilitatorDue,
    weekday: int = 0,
    tz: str = "UTC",
    acting: bool = True,
    reports: frozenset[str] = frozenset(),
) -> Snapshot:
    default = Round(None, Schedule(weekday, time(10, 0), ZoneInfo(tz)))
    return Snapshot(
        workspaces={1: WorkspaceDue(1, default, acting)},
        teams={},
        people={},
        key_results=(),
        facilitators=people,
        reports=reports,
    )


def reports(now: datetime, snap: Snapshot) -> list[OutboxDue]:
    return [item for item in due(now, snap) if item.kind == Kind.REPORT]


FAC = FacilitatorDue(7, 1, "facilitator")
FAC2 = FacilitatorDue(8, 1, "facilitator")
ADMIN = FacilitatorDue(9, 1, "admin")


def test_owed_the_day_after_the_default_round_from_ten_until_midnight() -> None:
    snap = snapshot(FAC, FAC2, ADMIN)
    assert reports(TUESDAY_TEN - timedelta(minutes=1), snap) == []
    owed = reports(TUESDAY_TEN, snap)
    assert [(r.key, r.target, r.period) for r in owed] == [
        ("report:1:7:2026-12-01", "7", "2026-W49"),
        ("report:1:8:2026-12-01", "8", "2026-W49"),
    ]  # the admin gets none: there are facilitators
    first = owed[0]
    assert first.send_at == TUESDAY_TEN
    assert first.deadline == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    assert first.payload()["person_id"] == 7 and first.lines == ()
    assert len(reports(datetime(2026, 12, 1, 23, 59, tzinfo=UTC), snap)) == 2  # catch-up
    assert reports(datetime(2026, 12, 2, 0, 0, tzinfo=UTC), snap) == []
    assert reports(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), snap) == []  # the round's day


def test_queued_once_deactivated_never_admins_only_without_facilitators() -> None:
    queued = frozenset({"report:1:7:2026-12-01"})
    assert [r.key for r in reports(TUESDAY_TEN, snapshot(FAC, FAC2, reports=queued))] == [
        "report:1:8:2026-12-01"
    ]
    gone = FacilitatorDue(7, 1, "facilitator", active=False)
    assert [r.target for r in reports(TUESDAY_TEN, snapshot(gone, FAC2))] == ["8"]
    # Only an admin, or only a deactivated facilitator: the admin gets it.
    assert [r.target for r in reports(TUESDAY_TEN, snapshot(ADMIN))] == ["9"]
    assert [r.target for r in reports(TUESDAY_TEN, snapshot(gone, ADMIN))] == ["9"]
    assert reports(TUESDAY_TEN, snapshot(gone)) == []


def test_not_for_a_paused_workspace() -> None:
    assert reports(TUESDAY_TEN, snapshot(FAC, acting=False)) == []


@pytest.mark.parametrize(
    ("weekday", "tz", "send_at", "day"),
    [
        # Thursday rounds in Berlin: Friday 10:00 Berlin = 09:00 UTC.
        (3, "Europe/Berlin", datetime(2026, 12, 4, 9, 0, tzinfo=UTC), "2026-12-04"),
        # Sunday rounds: Monday of the next week.
        (6, "UTC", datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "2026-11-30"),
        # Auckland (UTC+13): Tuesday 10:00 there is Monday 21:00 UTC.
        (0, "Pacific/Auckland", datetime(2026, 11, 30, 21, 0, tzinfo=UTC), "2026-12-01"),
    ],
)
def test_follows_the_default_schedule_and_the_workspace_zone(
    weekday: int, tz: str, send_at: datetime, day: str
) -> None:
    snap = snapshot(FAC, weekday=weekday, tz=tz)
    assert reports(send_at - timedelta(seconds=1), snap) == []
    [owed] = reports(send_at, snap)
    assert owed.key == f"report:1:7:{day}" and owed.send_at == send_at


def company_digests(now: datetime, snap: Snapshot) -> list[OutboxDue]:
    return [item for item in due(now, snap) if item.kind == Kind.COMPANY_DIGEST]


@pytest.mark.parametrize(
    ("weekday", "at", "owed_from"),
    [
        (None, None, TUESDAY_TEN),  # the default: the day after the round, 10:00
        (4, time(16, 0), datetime(2026, 12, 4, 16, 0, tzinfo=UTC)),  # Friday 16:00
        (4, None, datetime(2026, 12, 4, 10, 0, tzinfo=UTC)),  # a day of its own, at 10:00
        (None, time(8, 30), datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),  # a time of its own
    ],
)
def test_the_company_digest_follows_the_schedule_set_in_settings(
    weekday: int | None, at: time | None, owed_from: datetime
) -> None:
    default = Round(None, Schedule(0, time(10, 0), ZoneInfo("UTC")))
    workspace = WorkspaceDue(1, default, True, "C1", True, weekday, at)
    snap = Snapshot(
        workspaces={1: workspace}, teams={}, people={}, key_results=(), facilitators=(FAC,)
    )
    assert company_digests(owed_from - timedelta(minutes=1), snap) == []
    [owed] = company_digests(owed_from, snap)
    assert owed.key == f"company_digest:1:{owed_from.date().isoformat()}"
    assert owed.send_at == owed_from
    assert company_digests(owed_from.replace(hour=23, minute=59), snap) == [owed]
    assert company_digests(owed_from.replace(hour=0) + timedelta(days=1), snap) == []
