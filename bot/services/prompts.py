"""What a ceremony message shows when it is sent.

`compose` reads the outbox row's lines (key result, period) and builds the message with the
values as they are now, leaving out key results archived since; `None` means the message is
no longer owed (team paused or skipping, person away, nothing missing any more, past its
deadline). `bot.services.posted` records what it showed once Slack took it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot import clock
from bot.blocks.checkin import (
    MAX_LINES,
    PromptLine,
    PromptMessage,
    ago,
    build_prompt,
    fallback_text,
)
from bot.models import (
    AwayPeriod,
    Checkin,
    KeyResult,
    MetricSourceState,
    Objective,
    OutboxItem,
    Person,
    Team,
    TeamSkippedPeriod,
    Workspace,
)
from bot.models.checkin import CheckinSource
from bot.models.outbox_keys import Kind
from bot.okr.period import zone
from bot.repository.checkins import current_from, current_values, periods_with_values
from bot.services.prompt_prefetch import away_on, cached, live_key_results_query
from bot.services.reading import key_result_line


@dataclass(frozen=True)
class Composed:
    channel: str  # a channel id, or a Slack user id for a DM
    text: str
    blocks: list[dict[str, object]]
    lines: tuple[tuple[int, str], ...]  # shown, in order: line 1 is lines[0]
    person_id: int | None = None
    team_id: int | None = None


def _lines(item: OutboxItem) -> list[tuple[int, str]]:
    return [(int(kr), str(period)) for kr, period in item.payload.get("lines") or []]


def deadline_of(item: OutboxItem) -> datetime | None:
    raw = item.payload.get("deadline")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


async def checked_in(
    session: AsyncSession, *, workspace_id: int, lines: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    if not lines:
        return set()
    wanted = set(lines)
    cache = cached(session)
    if cache is not None and cache.covers(kr for kr, _ in lines):
        found = [row for kr in {kr for kr, _ in lines} for row in cache.checkins.get(kr, [])]
        return periods_with_values(found, only=wanted)
    rows = await session.execute(
        select(Checkin).where(
            Checkin.workspace_id == workspace_id,
            Checkin.key_result_id.in_({kr for kr, _ in lines}),
            Checkin.period.in_({p for _, p in lines}),
        )
    )
    return periods_with_values(rows.scalars(), only=wanted)


async def _skipping(session: AsyncSession, team: Team, period: str) -> bool:
    cache = cached(session)
    if cache is not None and team.id in cache.team_ids:
        return (team.id, period) in cache.skipped
    return (
        await session.get(TeamSkippedPeriod, {"team_id": team.id, "period": period})
    ) is not None


async def _away(session: AsyncSession, person: Person, day: date) -> bool:
    cache = cached(session)
    if cache is not None and person.id in cache.people:
        return away_on(cache, person.id, day)
    found = await session.execute(
        select(AwayPeriod.id).where(
            AwayPeriod.workspace_id == person.workspace_id,
            AwayPeriod.person_id == person.id,
            AwayPeriod.starts_on <= day,
            AwayPeriod.ends_on >= day,
        )
    )
    return found.first() is not None


async def live_key_results(
    session: AsyncSession, workspace_id: int, ids: Sequence[int]
) -> dict[int, tuple[KeyResult, Objective]]:
    cache = cached(session)
    if cache is not None and cache.covers(ids):
        return {i: cache.live[i] for i in ids if i in cache.live}
    rows = await session.execute(live_key_results_query([workspace_id], ids))
    return {kr.id: (kr, objective) for kr, objective in rows.all()}


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    """The message for a prompt, dm or reminder row, or None when it is no longer owed."""
    deadline = deadline_of(item)
    if deadline is not None and now >= deadline:
        return None
    wanted = _lines(item)
    live = await live_key_results(session, item.workspace_id, [kr for kr, _ in wanted])
    lines = [line for line in wanted if line[0] in live]
    team: Team | None = None
    person: Person | None = None
    if item.kind == Kind.PROMPT:
        team = await session.get(Team, int(item.payload["team_id"]))
        if team is None or team.paused or not team.channel_id or item.period is None:
            return None
        if await _skipping(session, team, item.period):
            return None
    else:
        person = await session.get(Person, int(item.payload["person_id"]))
        if person is None or person.is_deactivated:
            return None
        workspace = await session.get(Workspace, item.workspace_id)
        tz = zone(person.timezone, zone(workspace.timezone if workspace else None, ZoneInfo("UTC")))
        # The same rule as `due`: a DM looks at its own send day, a reminder at today.
        send_at = item.payload.get("send_at") if item.kind == Kind.DM else None
        day_of = datetime.fromisoformat(send_at) if isinstance(send_at, str) else now
        if await _away(session, person, day_of.astimezone(tz).date()):
            return None
        lines = [line for line in lines if await _line_round_on(session, live[line[0]][1], line[1])]
    done = await checked_in(session, workspace_id=item.workspace_id, lines=lines)
    if item.kind == Kind.REMINDER:
        lines = [line for line in lines if line not in done]
    if not lines:
        return None
    message, shown = await message_for(
        session,
        workspace_id=item.workspace_id,
        kind=item.kind,
        period=item.period or "",
        lines=lines,
        live=live,
        done=done,
        team=team,
        now=now,
    )
    if team is not None:
        channel = team.channel_id or ""
    else:
        assert person is not None
        channel = person.slack_user_id
    return Composed(
        channel,
        fallback_text(message),
        build_prompt(message),
        tuple(shown),
        person_id=person.id if person else None,
        team_id=team.id if team else None,
    )


async def message_for(
    session: AsyncSession,
    *,
    workspace_id: int,
    kind: str,
    period: str,
    lines: Sequence[tuple[int, str]],
    live: dict[int, tuple[KeyResult, Objective]],
    done: set[tuple[int, str]],
    team: Team | None,
    numbers: Sequence[int] | None = None,
    now: datetime | None = None,
) -> tuple[PromptMessage, tuple[tuple[int, str], ...]]:
    """The message for `lines` with today's values; returns it and the lines it shows.
    `numbers` keeps a posted prompt's own line numbers when it is edited (a gap where a key
    result was archived since), so `#2` still means what it meant."""
    shown, more = list(lines[:MAX_LINES]), max(0, len(lines) - MAX_LINES)
    cache = cached(session)
    if cache is not None and cache.covers(kr for kr, _ in shown):
        found = {kr: current_from(cache.checkins.get(kr, [])) for kr, _ in shown}
        values = {kr: value for kr, value in found.items() if value is not None}
    else:
        values = await current_values(
            session, workspace_id=workspace_id, key_result_ids=[kr for kr, _ in shown]
        )
    owners = await _slack_ids(
        session, workspace_id, [live[kr][0].owner_person_id for kr, _ in shown]
    )
    team_names = await _team_names(session, workspace_id, [live[kr][1].team_id for kr, _ in shown])
    at = now or clock.now()
    failing = await failing_sources(session, [kr for kr, _ in shown])
    pulled = {
        kr: value.recorded_at
        for kr, value in values.items()
        if value.source == CheckinSource.PULL and (kr, value.period) in set(shown)
    }
    prompt_lines = [
        PromptLine(
            number,
            key_result_line(
                live[kr][0], values.get(kr), owners.get(live[kr][0].owner_person_id or 0)
            ),
            team_name=team_names.get(live[kr][1].team_id or 0) if kind != "prompt" else None,
            # A pulled value is filled in for the owner, not checked in by them: they still
            # add confidence and a note.
            checked_in=(kr, period) in done and kr not in pulled,
            pulled_ago=ago(at - pulled[kr]) if kr in pulled else None,
            source_error=failing.get(kr),
        )
        for number, (kr, period) in zip(numbers or range(1, len(shown) + 1), shown, strict=False)
    ]
    waiting, done_by = _who(prompt_lines) if kind == "prompt" else ([], [])
    message = PromptMessage(
        kind,
        period,
        prompt_lines,
        team_name=team.name if team else None,
        more=more,
        waiting_for=waiting,
        done_by=done_by,
    )
    return message, tuple(shown)


async def failing_sources(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """Key results whose last pull failed (after their last good value): why, for the owner."""
    if not ids:
        return {}
    rows = await session.execute(
        select(MetricSourceState.key_result_id, MetricSourceState.last_error).where(
            MetricSourceState.key_result_id.in_(ids),
            MetricSourceState.last_error.is_not(None),
        )
    )
    return {kr: error for kr, error in rows.all() if error}


def _who(lines: Sequence[PromptLine]) -> tuple[list[str], list[str]]:
    owners: dict[str, bool] = {}
    for line in lines:
        owner = line.key_result.owner_slack_id
        if owner:
            owners[owner] = owners.get(owner, True) and line.checked_in
    return [o for o, done in owners.items() if not done], [o for o, done in owners.items() if done]


async def _line_round_on(session: AsyncSession, objective: Objective, period: str) -> bool:
    """A DM line stays only while its team's round of that week takes place."""
    if objective.team_id is None:
        return True
    team = await session.get(Team, objective.team_id)
    return team is not None and not team.paused and not await _skipping(session, team, period)


async def _slack_ids(
    session: AsyncSession, workspace_id: int, ids: Sequence[int | None]
) -> dict[int, str]:
    cache = cached(session)
    known = cache.slack_ids if cache is not None else {}
    return await _labels(session, Person.slack_user_id, Person, workspace_id, ids, known)


async def _team_names(
    session: AsyncSession, workspace_id: int, ids: Sequence[int | None]
) -> dict[int, str]:
    cache = cached(session)
    known = cache.team_names if cache is not None else {}
    return await _labels(session, Team.name, Team, workspace_id, ids, known)


async def _labels(
    session: AsyncSession,
    column: InstrumentedAttribute[str],
    model: type[Person] | type[Team],
    workspace_id: int,
    ids: Sequence[int | None],
    known: dict[int, str],
) -> dict[int, str]:
    """id -> `column` for `ids`, from what the batch prefetched when it has them all."""
    wanted = {i for i in ids if i is not None}
    if wanted <= set(known):
        return {i: known[i] for i in wanted}
    rows = await session.execute(
        select(model.id, column).where(model.workspace_id == workspace_id, model.id.in_(wanted))
    )
    return {key: value for key, value in rows.all()}  # noqa: C416
