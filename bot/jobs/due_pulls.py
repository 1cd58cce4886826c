"""Which metric pulls are owed now: pure, from the snapshot and an instant.

A key result with a source is pulled once a week, `PULL_LEAD` before the first message that
shows it: its round's prompt P, or its owner's DM if that comes earlier (the DM goes at the
round's weekday and time in the owner's zone). Owed from then until the round's D, so a
clock that was down still pulls before the digest; the key `pull:<ws>:<kr>:<period>` makes a
repeat harmless. Nothing waits for a pull: the prompt goes at P whatever the source does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.jobs.due_data import KeyResultDue, OutboxDue, Round, Snapshot, weeks_around
from bot.models.outbox_keys import Kind, pull_key

PULL_LEAD = timedelta(minutes=15)


def _round_of(snapshot: Snapshot, kr: KeyResultDue) -> Round | None:
    if kr.team_id is not None:
        return snapshot.teams.get(kr.team_id)
    workspace = snapshot.workspaces.get(kr.workspace_id)
    return workspace.default if workspace else None


def pull_at(
    snapshot: Snapshot, kr: KeyResultDue, team: Round, week: str, lead: timedelta
) -> datetime:
    """`lead` before the earlier of the round's P and the owner's DM of `week`."""
    first = team.schedule.instant(week)
    owner = snapshot.people.get(kr.owner_id) if kr.owner_id is not None else None
    if owner is not None:
        first = min(first, team.schedule.instant(week, owner.tz))
    return first - lead


def pulls(now: datetime, snapshot: Snapshot, *, lead: timedelta = PULL_LEAD) -> Iterable[OutboxDue]:
    """A pull for each sourced key result whose round of this or last week is near or open."""
    for kr in sorted(snapshot.key_results, key=lambda k: k.id):
        if kr.id not in snapshot.sourced:
            continue
        workspace = snapshot.workspaces.get(kr.workspace_id)
        team = _round_of(snapshot, kr)
        if workspace is None or not workspace.acting or team is None:
            continue
        tz = team.schedule.tz
        for week in weeks_around(now + lead, tz):
            key = pull_key(kr.workspace_id, kr.id, week)
            if key in snapshot.pulls or not team.takes_place(week):
                continue
            prompt_at = team.schedule.instant(week)
            if not kr.in_cycle(prompt_at.astimezone(tz).date()):
                continue
            send_at = pull_at(snapshot, kr, team, week, lead)
            deadline = prompt_at + team.digest_delay
            if send_at <= now < deadline:
                yield OutboxDue(
                    kr.workspace_id, Kind.PULL, key, str(kr.id), week, send_at, deadline,
                    ((kr.id, week),), {"key_result_id": kr.id},
                )  # fmt: skip
