"""`due`'s digest charts with explicit instants: a chart is owed once the scheduled digest's
part 1 is sent (in its thread), once; none for a paused team or workspace, a skipped week,
or a round whose digest was not sent by the clock (none, or posted by hand)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.due import KeyResultDue, OutboxDue, Round, Schedule, Snapshot, WorkspaceDue, due

LA = ZoneInfo("America/Los_Angeles")
WS, OTHER_WS = 1, 2
PACIFIC, ATLANTIC = 10, 11  # teams: both Monday 10:00 in Los Angeles
# D of 2026-W44 is Wednesday 2026-10-28 10:00 PDT, of 2026-W45 Wednesday 2026-11-04 10:00 PST
# (the clocks fell back on 2026-11-01): 17:00 and 18:00 UTC.
D44 = datetime(2026, 10, 28, 17, 0, tzinfo=UTC)
D45 = datetime(2026, 11, 4, 18, 0, tzinfo=UTC)
# The digest window of W45 ends two days after D (before the next Monday's prompt).
END45 = datetime(2026, 11, 6, 18, 0, tzinfo=UTC)
THREAD = ("CPAC", "1762279200.000100")


def world(**changes: object) -> Snapshot:
    monday_ten = Schedule(0, time(10, 0), LA)
    cycle = (date(2026, 1, 1), date(2026, 12, 31))
    snapshot = Snapshot(
        workspaces={
            WS: WorkspaceDue(WS, Round(None, monday_ten)),
            OTHER_WS: WorkspaceDue(OTHER_WS, Round(None, monday_ten)),
        },
        teams={
            PACIFIC: Round(PACIFIC, monday_ten, channel_id="CPAC"),
            ATLANTIC: Round(ATLANTIC, monday_ten, channel_id="CATL"),
        },
        people={},
        key_results=(
            KeyResultDue(1, WS, None, PACIFIC, *cycle),
            KeyResultDue(2, OTHER_WS, None, ATLANTIC, *cycle),
        ),
        digest_threads={(WS, PACIFIC, "2026-W45"): THREAD},
    )
    return replace(snapshot, **changes)  # type: ignore[arg-type]


def charts(now: datetime, snapshot: Snapshot) -> list[OutboxDue]:
    return [item for item in due(now, snapshot) if item.kind == "chart"]


def test_the_chart_is_owed_in_the_thread_of_the_sent_digest() -> None:
    now = D45 + timedelta(minutes=3)
    [chart] = charts(now, world())
    assert chart.key == f"chart:{WS}:{PACIFIC}:2026-W45"
    assert (chart.workspace_id, chart.target, chart.period) == (WS, str(PACIFIC), "2026-W45")
    assert chart.send_at == now and chart.deadline == END45
    assert chart.lines == ()
    extra = dict(chart.extra)
    assert datetime.fromisoformat(extra.pop("digest_at")) == D45
    assert extra == {"team_id": PACIFIC, "channel": THREAD[0], "thread_ts": THREAD[1]}


def test_d_follows_the_teams_zone_across_the_change_of_clocks() -> None:
    threads = {(WS, PACIFIC, "2026-W44"): THREAD}
    [chart] = charts(D44 + timedelta(hours=1), world(digest_threads=threads))
    assert chart.key == f"chart:{WS}:{PACIFIC}:2026-W44"
    assert datetime.fromisoformat(chart.extra["digest_at"]) == D44
    assert chart.deadline == D44 + timedelta(days=2)


def test_once_queued_in_any_state_it_is_not_owed_again() -> None:
    queued = world(charts=frozenset({f"chart:{WS}:{PACIFIC}:2026-W45"}))
    assert charts(D45 + timedelta(minutes=3), queued) == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"digest_threads": {}}, id="no digest sent by the clock"),
        pytest.param(
            {
                "teams": {
                    PACIFIC: Round(
                        PACIFIC, Schedule(0, time(10), LA), channel_id="CPAC", paused=True
                    )
                }
            },  # fmt: skip
            id="paused team",
        ),
        pytest.param(
            {
                "teams": {
                    PACIFIC: Round(
                        PACIFIC,
                        Schedule(0, time(10), LA),
                        channel_id="CPAC",
                        skipped=frozenset({"2026-W45"}),
                    )
                }
            },  # fmt: skip
            id="skipped week",
        ),
        pytest.param(
            {
                "workspaces": {
                    WS: WorkspaceDue(WS, Round(None, Schedule(0, time(10), LA)), acting=False)
                }
            },  # fmt: skip
            id="paused workspace",
        ),
        pytest.param({"teams": {}}, id="team gone"),
    ],
)
def test_no_chart_is_owed(changes: dict[str, object]) -> None:
    assert charts(D45 + timedelta(minutes=3), world(**changes)) == []


def test_each_team_and_week_has_its_own_key() -> None:
    threads = {
        (WS, PACIFIC, "2026-W44"): THREAD,
        (WS, PACIFIC, "2026-W45"): THREAD,
        (OTHER_WS, ATLANTIC, "2026-W45"): ("CATL", "1762279200.000200"),
    }
    found = charts(D45 + timedelta(minutes=3), world(digest_threads=threads))
    assert sorted(c.key for c in found) == [
        f"chart:{WS}:{PACIFIC}:2026-W44",
        f"chart:{WS}:{PACIFIC}:2026-W45",
        f"chart:{OTHER_WS}:{ATLANTIC}:2026-W45",
    ]
    by_key = {c.key: c for c in found}
    assert by_key[f"chart:{OTHER_WS}:{ATLANTIC}:2026-W45"].extra["channel"] == "CATL"
    # W44's window is over: owed still (its digest was sent), due now, not after now.
    late = by_key[f"chart:{WS}:{PACIFIC}:2026-W44"]
    assert late.deadline == late.send_at == D45 + timedelta(minutes=3)


def test_the_chart_never_comes_before_the_digest_it_follows() -> None:
    """At D the digest's part 1 is owed, not its chart; the chart only once the snapshot
    has the digest's thread (part 1 sent)."""
    unsent = world(digest_threads={})
    owed = {item.key for item in due(D45, unsent)}
    assert f"digest:{WS}:{PACIFIC}:2026-W45:1" in owed
    assert not any(key.startswith("chart:") for key in owed)
    sent = world(digests=frozenset({f"digest:{WS}:{PACIFIC}:2026-W45:1"}),
                 digests_sent=frozenset({f"digest:{WS}:{PACIFIC}:2026-W45:1"}))  # fmt: skip
    owed = {item.key for item in due(D45 + timedelta(minutes=1), sent)}
    assert f"chart:{WS}:{PACIFIC}:2026-W45" in owed
    assert f"digest:{WS}:{PACIFIC}:2026-W45:2" in owed  # the next part's turn
