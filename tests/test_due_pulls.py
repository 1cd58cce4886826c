"""Metric pulls with explicit instants: owed 15 minutes before the first message that shows
the key result (its round's prompt, or its owner's earlier DM), until the round's digest
time; never for a key result without a source, a paused team, a skipped week, a paused
workspace or a pull already queued."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.jobs.due import KeyResultDue, PersonDue, Round, Schedule, Snapshot, WorkspaceDue, due
from bot.jobs.due_pulls import pulls

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
WS, TEAM = 1, 10
ANA, EVA = 100, 300  # LA, Berlin


def world(**changes: object) -> Snapshot:
    cycle = (date(2026, 1, 1), date(2026, 12, 31))
    snapshot = Snapshot(
        workspaces={WS: WorkspaceDue(WS, Round(None, Schedule(0, time(10), ZoneInfo("UTC"))))},
        teams={TEAM: Round(TEAM, Schedule(0, time(10), LA), channel_id="CPAC")},
        people={ANA: PersonDue(ANA, WS, LA), EVA: PersonDue(EVA, WS, BERLIN)},
        key_results=(
            KeyResultDue(1, WS, ANA, TEAM, *cycle),
            KeyResultDue(2, WS, EVA, TEAM, *cycle),
        ),
        sourced=frozenset({1, 2}),
    )
    return replace(snapshot, **changes)  # type: ignore[arg-type]


def la(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LA).astimezone(UTC)  # type: ignore[misc]


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def pull_keys(now: datetime, snapshot: Snapshot | None = None) -> set[str]:
    return {item.key for item in pulls(now, snapshot or world())}


def test_a_pull_is_owed_fifteen_minutes_before_the_prompt() -> None:
    assert "pull:1:1:2026-W49" not in pull_keys(la(2026, 11, 30, 9, 44))
    assert "pull:1:1:2026-W49" in pull_keys(la(2026, 11, 30, 9, 45))
    [item] = [i for i in pulls(la(2026, 11, 30, 9, 45), world()) if i.key == "pull:1:1:2026-W49"]
    assert (item.kind, item.period, item.target) == ("pull", "2026-W49", "1")
    assert item.send_at == la(2026, 11, 30, 9, 45) and item.extra == {"key_result_id": 1}
    assert item.deadline == la(2026, 12, 2, 10, 0)  # the round's D (P + 2 days)


def test_an_owner_whose_dm_comes_first_gets_the_pull_earlier() -> None:
    """Eva's DM goes at Monday 10:00 Berlin, nine hours before the LA prompt."""
    assert "pull:1:2:2026-W49" in pull_keys(berlin(2026, 11, 30, 9, 45))
    assert "pull:1:1:2026-W49" not in pull_keys(berlin(2026, 11, 30, 9, 45))


def test_still_owed_until_the_digest_and_not_after() -> None:
    assert "pull:1:1:2026-W49" in pull_keys(la(2026, 12, 2, 9, 59))
    assert "pull:1:1:2026-W49" not in pull_keys(la(2026, 12, 2, 10, 0))


def test_nothing_without_a_source_or_a_round() -> None:
    now = la(2026, 11, 30, 9, 50)
    assert pull_keys(now, world(sourced=frozenset())) == set()
    paused = {TEAM: replace(world().teams[TEAM], paused=True)}
    assert pull_keys(now, world(teams=paused)) == set()
    skipping = {TEAM: replace(world().teams[TEAM], skipped=frozenset({"2026-W49"}))}
    assert pull_keys(now, world(teams=skipping)) == set()
    idle = {WS: replace(world().workspaces[WS], acting=False)}
    assert pull_keys(now, world(workspaces=idle)) == set()
    queued = frozenset({"pull:1:1:2026-W49", "pull:1:2:2026-W49"})
    assert pull_keys(now, world(pulls=queued)) == set()
    ended = (KeyResultDue(1, WS, ANA, TEAM, date(2026, 1, 1), date(2026, 11, 29)),)
    assert pull_keys(now, world(key_results=ended)) == set()


def test_due_includes_the_pulls_and_they_never_wait_for_anything() -> None:
    """A pull does not hold the prompt: at P both are owed, each on its own."""
    items = due(la(2026, 11, 30, 10, 0), world())
    [prompt] = [item for item in items if item.kind == "prompt"]
    pulled = {item.key for item in items if item.kind == "pull"}
    assert prompt.send_at == la(2026, 11, 30, 10, 0)  # at P, whatever the pulls do
    assert pulled == {"pull:1:1:2026-W49", "pull:1:2:2026-W49"}  # owed, not yet queued
