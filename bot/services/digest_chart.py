"""The team digest's chart: each objective's progress per period across the cycle against
the expected line, read from the digest's own rows (`digests.load_digest_rows`, a fixed
number of statements) at send time. Drawing and uploading are the sender's (`jobs`): this
module only says what to draw, where it goes (the thread of the digest's part 1) and what
the row already holds (the file uploaded by an earlier attempt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.charts import ProgressChart
from bot.models import OutboxItem, Team
from bot.okr.series import CycleDates, KeyResultHistory, ObjectiveHistory, progress_series
from bot.repository.checkins import value_for_period
from bot.services.digests import load_digest_rows
from bot.services.reading import measure_of

# The chart row's payload: the file an attempt uploaded (set once Slack gave its id, before
# the bytes go up), and when the upload was completed (absent: it may not have been).
FILE_ID = "file_id"
FILE_UPLOADED_AT = "file_uploaded_at"


@dataclass(frozen=True)
class ChartPost:
    """Where a chart row's message goes and what it shows (`chart` None: no longer owed)."""

    channel: str
    thread_ts: str
    file_id: str | None
    uploaded_at: datetime | None  # None with a file id: the upload may not have completed
    chart: ProgressChart | None


async def read_chart(
    session: AsyncSession, *, team: Team, period: str, at: datetime
) -> ProgressChart | None:
    """What `team`'s digest chart of `period` shows as it stands at `at`; None when there
    is nothing to draw (no active cycle, no objective with a weighted key result)."""
    rows = await load_digest_rows(session, team=team, period=period, at=at)
    if rows is None:
        return None
    by_objective: dict[int, list[KeyResultHistory]] = {}
    for kr in rows.key_results:
        by_period = rows.checkins.get(kr.id, {})
        values = tuple(
            None if (v := value_for_period(by_period.get(p, []))) is None else v.value
            for p in rows.periods
        )
        by_objective.setdefault(kr.objective_id, []).append(
            KeyResultHistory(measure_of(kr), values, kr.weight)
        )
    # In the digest's order: the team's objectives, then its members' personal ones.
    ordered = sorted(rows.objectives, key=lambda o: o.level == "personal")
    histories = [ObjectiveHistory(o.ref, tuple(by_objective.get(o.id, ()))) for o in ordered]
    cycle = CycleDates(rows.cycle.starts_on, rows.cycle.ends_on, rows.tz)
    series = progress_series(cycle, periods=rows.periods, objectives=histories)
    if not series.objectives:
        return None
    return ProgressChart(team.name, period, series)


async def compose(
    session: AsyncSession, *, item: OutboxItem, now: datetime, draw: bool = True
) -> ChartPost | None:
    """A chart row's post (None: the row names no thread). With `draw` False (a duplicate
    check) the chart is not read."""
    payload = item.payload or {}
    channel, thread_ts = payload.get("channel"), payload.get("thread_ts")
    if not isinstance(channel, str) or not isinstance(thread_ts, str):
        return None
    file_id = payload.get(FILE_ID)
    uploaded = payload.get(FILE_UPLOADED_AT)
    chart = None
    team = await session.get(Team, int(payload["team_id"])) if draw else None
    if team is not None and not team.paused and item.period:
        at_raw = payload.get("digest_at")
        at = datetime.fromisoformat(at_raw) if isinstance(at_raw, str) else now
        chart = await read_chart(session, team=team, period=item.period, at=at)
    return ChartPost(
        channel,
        thread_ts,
        str(file_id) if file_id else None,
        datetime.fromisoformat(uploaded) if isinstance(uploaded, str) else None,
        chart,
    )
