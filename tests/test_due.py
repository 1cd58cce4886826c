"""`due` with explicit instants: prompts, DMs and reminders across zones, DST, pauses,
skipped weeks, away periods, cycle dates and catch-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.due import (
    KeyResultDue,
    PersonDue,
    Round,
    Schedule,
    Snapshot,
    WorkspaceDue,
    due,
    within_reminder_hours,
)

LA = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")
WS = 1
PACIFIC, INDIA = 10, 20  # team ids
ANA, RAVI, EVA = 100, 200, 300  # people: LA, Kolkata, Berlin


def world(**changes: object) -> Snapshot:
    monday_ten = time(10, 0)
    teams = {
        PACIFIC: Round(PACIFIC, Schedule(0, monday_ten, LA), channel_id="CPAC"),
        INDIA: Round(INDIA, Schedule(2, monday_ten, KOLKATA), channel_id="CIND"),  # Wednesday
    }
    cycle = (date(2026, 1, 1), date(2026, 12, 31))
    snapshot = Snapshot(
        workspaces={WS: WorkspaceDue(WS, Round(None, Schedule(0, monday_ten, ZoneInfo("UTC"))))},
        teams=teams,
        people={
            ANA: PersonDue(ANA, WS, LA),
            RAVI: PersonDue(RAVI, WS, KOLKATA),
            EVA: PersonDue(EVA, WS, BERLIN),
        },
        key_results=(
            KeyResultDue(1, WS, ANA, PACIFIC, *cycle),
            KeyResultDue(2, WS, RAVI, INDIA, *cycle),
            KeyResultDue(3, WS, EVA, PACIFIC, *cycle),
            KeyResultDue(4, WS, EVA, INDIA, *cycle),
        ),
    )
    return replace(snapshot, **changes)  # type: ignore[arg-type]


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def keys(now: datetime, snapshot: Snapshot | None = None) -> set[str]:
    return {item.key for item in due(now, snapshot or world())}


def first_instant(key: str, start: datetime, end: datetime, snapshot: Snapshot) -> datetime:
    """The first minute in [start, end) at which `key` is due."""
    now = start
    while now < end:
        if key in keys(now, snapshot):
            return now
        now += timedelta(minutes=1)
    raise AssertionError(f"{key} never due between {start} and {end}")


@pytest.mark.parametrize(
    ("team", "zone", "week", "local_day"),
    [
        # America/Los_Angeles: Monday 10:00, before and after the 2026-03-08 DST change.
        (PACIFIC, LA, "2026-W10", (2026, 3, 2)),
        (PACIFIC, LA, "2026-W11", (2026, 3, 9)),
        (PACIFIC, LA, "2026-W45", (2026, 11, 2)),  # after the 2026-11-01 fall-back
        # Asia/Kolkata: Wednesday 10:00 (no DST), same weeks.
        (INDIA, KOLKATA, "2026-W10", (2026, 3, 4)),
        (INDIA, KOLKATA, "2026-W11", (2026, 3, 11)),
    ],
)
def test_team_prompt_is_due_at_ten_local_on_its_weekday(
    team: int, zone: ZoneInfo, week: str, local_day: tuple[int, int, int]
) -> None:
    snapshot = world()
    key = f"prompt:{WS}:{team}:{week}"
    ten = at(zone, *local_day, 10, 0)
    found = first_instant(key, ten - timedelta(hours=3), ten + timedelta(hours=1), snapshot)
    assert found == ten
    [item] = [i for i in due(ten, snapshot) if i.key == key]
    assert item.period == week and item.lines == tuple(
        (kr.id, week) for kr in snapshot.key_results if kr.team_id == team
    )
    assert item.deadline == ten + timedelta(days=2) and item.target == str(team)


def test_the_pacific_prompt_moves_by_an_hour_in_utc_across_dst() -> None:
    before = at(LA, 2026, 3, 2, 10, 0)
    after = at(LA, 2026, 3, 9, 10, 0)
    assert (before.hour, after.hour) == (18, 17)  # UTC: PST then PDT
    assert f"prompt:{WS}:{PACIFIC}:2026-W10" in keys(before)
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" not in keys(after - timedelta(minutes=1))
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" in keys(after)


def test_a_person_in_a_third_zone_gets_one_dm_at_their_own_ten() -> None:
    snapshot = world()
    # Eva (Berlin) owns KR3 (Pacific, Monday) and KR4 (India, Wednesday): her DM comes at the
    # earliest weekday, Monday, at 10:00 Berlin time, and lists both with their periods.
    ten = at(BERLIN, 2026, 3, 9, 10, 0)
    key = f"dm:{WS}:{EVA}:2026-W11"
    assert first_instant(key, ten - timedelta(hours=2), ten + timedelta(hours=1), snapshot) == ten
    [dm] = [i for i in due(ten, snapshot) if i.key == key]
    assert dm.lines == ((3, "2026-W11"), (4, "2026-W11")) and dm.target == str(EVA)
    # Once queued it is never due again that week, whatever the hour.
    queued = replace(snapshot, queued=frozenset({key}))
    for hours in range(0, 48, 3):
        assert not [i for i in due(ten + timedelta(hours=hours), queued) if i.kind == "dm"
                    and i.target == str(EVA)]  # fmt: skip


def test_dms_follow_each_persons_zone() -> None:
    snapshot = world()
    assert f"dm:{WS}:{ANA}:2026-W11" in keys(at(LA, 2026, 3, 9, 10, 0), snapshot)
    assert f"dm:{WS}:{ANA}:2026-W11" not in keys(at(LA, 2026, 3, 9, 9, 59), snapshot)
    assert f"dm:{WS}:{RAVI}:2026-W11" in keys(at(KOLKATA, 2026, 3, 11, 10, 0), snapshot)
    assert f"dm:{WS}:{RAVI}:2026-W11" not in keys(at(KOLKATA, 2026, 3, 11, 9, 59), snapshot)


def test_catch_up_until_the_digest_time_and_not_after() -> None:
    snapshot = world()
    key = f"prompt:{WS}:{PACIFIC}:2026-W11"
    ten = at(LA, 2026, 3, 9, 10, 0)
    assert key in keys(ten + timedelta(days=1, hours=23, minutes=59), snapshot)
    assert key not in keys(ten + timedelta(days=2), snapshot)
    # A prompt already in the outbox is not due again.
    assert key not in keys(ten + timedelta(hours=1), replace(snapshot, queued=frozenset({key})))


def test_paused_teams_skipped_weeks_and_paused_workspaces_owe_nothing() -> None:
    ten = at(LA, 2026, 3, 9, 10, 0)
    base = world()
    paused = replace(base, teams={**base.teams, PACIFIC: replace(base.teams[PACIFIC], paused=True)})
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" not in keys(ten, paused)
    assert f"dm:{WS}:{ANA}:2026-W11" not in keys(ten, paused)  # Ana's only KR is Pacific's
    skipping = replace(
        base,
        teams={
            **base.teams,
            PACIFIC: replace(base.teams[PACIFIC], skipped=frozenset({"2026-W11"})),
        },
    )
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" not in keys(ten, skipping)
    assert f"prompt:{WS}:{PACIFIC}:2026-W12" in keys(ten + timedelta(days=7), skipping)
    # Eva still gets her DM that week, with only the India line.
    [eva] = [i for i in due(at(BERLIN, 2026, 3, 11, 10, 0), skipping) if i.target == str(EVA)]
    assert eva.lines == ((4, "2026-W11"),)
    quiet = replace(base, workspaces={WS: replace(base.workspaces[WS], acting=False)})
    assert due(ten, quiet) == []


def test_cycle_dates_bound_the_rounds() -> None:
    ended = world(
        key_results=tuple(replace(kr, cycle_end=date(2026, 3, 8)) for kr in world().key_results)
    )
    assert due(at(LA, 2026, 3, 9, 10, 0), ended) == []
    assert keys(at(LA, 2026, 3, 2, 10, 0), ended) >= {f"prompt:{WS}:{PACIFIC}:2026-W10"}


def test_away_people_get_no_dm_and_no_reminder() -> None:
    base = world()
    ana = replace(base.people[ANA], away=((date(2026, 3, 7), date(2026, 3, 10)),))
    away = replace(base, people={**base.people, ANA: ana})
    ten = at(LA, 2026, 3, 9, 10, 0)
    assert f"dm:{WS}:{ANA}:2026-W11" not in keys(ten, away)
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" in keys(ten, away)  # the team still checks in
    queued = replace(away, queued=frozenset({f"dm:{WS}:{ANA}:2026-W11"}))
    assert f"reminder:{WS}:{ANA}:2026-W11" not in keys(ten + timedelta(days=1), queued)


def test_reminder_lists_only_missing_lines_inside_working_hours() -> None:
    base = world()
    eva_dm = f"dm:{WS}:{EVA}:2026-W11"
    queued = replace(base, queued=frozenset({eva_dm}), checked_in=frozenset({(3, "2026-W11")}))
    ten = at(BERLIN, 2026, 3, 9, 10, 0)
    key = f"reminder:{WS}:{EVA}:2026-W11"
    assert key not in keys(ten + timedelta(hours=23, minutes=59), queued)
    [reminder] = [i for i in due(ten + timedelta(days=1), queued) if i.key == key]
    assert reminder.lines == ((4, "2026-W11"),)
    done = replace(queued, checked_in=frozenset({(3, "2026-W11"), (4, "2026-W11")}))
    assert key not in keys(ten + timedelta(days=1), done)
    assert key not in keys(ten + timedelta(days=2), queued)  # past the deadline


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((2026, 3, 10, 7, 59), (2026, 3, 10, 8, 0)),
        ((2026, 3, 10, 8, 0), (2026, 3, 10, 8, 0)),
        ((2026, 3, 10, 19, 0), (2026, 3, 10, 19, 0)),
        ((2026, 3, 10, 19, 1), (2026, 3, 11, 8, 0)),
        ((2026, 3, 10, 23, 30), (2026, 3, 11, 8, 0)),
    ],
)
def test_reminders_move_into_working_hours(
    local: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    moved = within_reminder_hours(at(BERLIN, *local), BERLIN)
    assert moved.astimezone(BERLIN).timetuple()[:5] == expected


def test_a_round_started_by_hand_moves_its_prompt_earlier_once() -> None:
    early = at(LA, 2026, 3, 6, 15, 0)  # the Friday before, in week W10
    monday = at(LA, 2026, 3, 9, 8, 0)  # Monday 08:00 of W11: `/okr checkin now` starts W11
    started = replace(world(), started={PACIFIC: monday})
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" in keys(monday, started)
    assert f"dm:{WS}:{ANA}:2026-W11" in keys(monday, started)
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" not in keys(monday, world())
    assert f"prompt:{WS}:{PACIFIC}:2026-W11" not in keys(early, started)


def test_nonexistent_local_times_fire_once() -> None:
    # 02:30 on 2026-03-08 does not exist in Los Angeles; the round is still due exactly once.
    sunday = replace(
        world(),
        teams={PACIFIC: Round(PACIFIC, Schedule(6, time(2, 30), LA), channel_id="CPAC")},
        key_results=(KeyResultDue(1, WS, None, PACIFIC, date(2026, 1, 1), date(2026, 12, 31)),),
    )
    key = f"prompt:{WS}:{PACIFIC}:2026-W10"
    start = at(LA, 2026, 3, 8, 0, 0)
    hits = [m for m in range(0, 6 * 60) if key in keys(start + timedelta(minutes=m), sunday)]
    assert hits and hits == list(range(hits[0], 6 * 60))  # due from one instant on, never twice


def test_due_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        due(datetime(2026, 3, 9, 10, 0), world())


def test_a_clock_back_at_night_waits_for_the_persons_morning() -> None:
    """Ravi's DM is due Wednesday 10:00 in Kolkata; the clock was down until 21:30 there."""
    snapshot = world()
    dm, reminder = f"dm:{WS}:{RAVI}:2026-W11", f"reminder:{WS}:{RAVI}:2026-W11"
    assert dm in keys(at(KOLKATA, 2026, 3, 11, 10, 0), snapshot)  # on time
    assert dm in keys(at(KOLKATA, 2026, 3, 11, 10, 14), snapshot)  # a late tick, not a catch-up
    assert dm not in keys(at(KOLKATA, 2026, 3, 11, 21, 30), snapshot)
    assert dm not in keys(at(KOLKATA, 2026, 3, 12, 7, 59), snapshot)
    [late] = [i for i in due(at(KOLKATA, 2026, 3, 12, 8, 0), snapshot) if i.key == dm]
    assert late.send_at == at(KOLKATA, 2026, 3, 12, 8, 0)
    # The reminder (Thursday 10:00) likewise, once the DM is out.
    sent = replace(snapshot, queued=frozenset({dm}))
    assert reminder in keys(at(KOLKATA, 2026, 3, 12, 10, 0), sent)
    assert reminder not in keys(at(KOLKATA, 2026, 3, 12, 21, 30), sent)
    assert reminder in keys(at(KOLKATA, 2026, 3, 13, 8, 0), sent)
    # Past the deadline (Friday 10:00) nothing is owed any more, at any hour.
    assert not keys(at(KOLKATA, 2026, 3, 13, 10, 0), sent) & {dm, reminder}
