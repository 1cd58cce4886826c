"""Writing OKRs through the modals: what the forms offer, and saving what was entered.

Each function owns its transaction. A new team for the channel `/okr new` was typed in is
made with the objective, in one transaction; the caller has made sure the bot is in that
channel first (a Slack call never happens while the transaction is open)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.blocks.key_result_modal import KeyResultForm
from bot.blocks.modals import ObjectiveForm
from bot.db import readers_for
from bot.models import Cycle, Objective, Team, Workspace
from bot.repository.workspaces import ensure_person
from bot.services import key_results, lessons, metric_sources, objectives, reading
from bot.services.actors import Actor
from bot.services.errors import Invalid
from bot.services.okr_lookup import objective_by_ref, stewards_of
from bot.services.permissions import require_edit
from bot.services.team_setup import first_team
from bot.slack.tokens import TokenCipher

OPTIONS_MAX = 100  # Slack lists at most 100 options


@dataclass(frozen=True)
class ObjectiveEntry:
    """The new-objective modal as submitted."""

    title: str
    description: str
    level: str
    team_id: int | None
    owner_slack_id: str | None
    parent_ref: str | None
    contributing_team_ids: tuple[int, ...] = ()
    commitment: str = "aspirational"
    new_team_channel: str | None = None  # "a new team for this channel" was picked
    new_team_name: str = ""


@dataclass(frozen=True)
class KeyResultEntry:
    """The key-result modal as submitted (numbers already read)."""

    title: str
    kind: str
    start: float
    target: float
    unit: str
    direction: str | None
    comparator: str | None
    owner_slack_id: str | None
    weight: float
    source_url: str | None = None  # a metric source (no secret: `/okr source` takes those)
    source_path: str | None = None


@dataclass(frozen=True)
class Written:
    """What was saved, and the key-result form to show next."""

    ref: str
    next_form: KeyResultForm


async def owner_id(session: AsyncSession, actor: Actor, slack_user_id: str | None) -> int | None:
    """The person picked as owner (remembered on first sight); None when nobody was picked."""
    if slack_user_id is None:
        return None
    person = await ensure_person(
        session, workspace_id=actor.workspace_id, slack_user_id=slack_user_id
    )
    return person.id


async def _suggestions(session: AsyncSession, actor: Actor, objective_ref: str) -> list[str]:
    """The quality lint after a save (the count of key results is said by the modal itself)."""
    page = await reading.objective_page(session, actor=actor, ref=objective_ref)
    return [w for w in page.warnings if "is usually measured by" not in w]


async def objective_form(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    channel_id: str | None = None,
    channel_name: str | None = None,
) -> ObjectiveForm:
    async with readers_for(sessions)() as session:
        channel_team = None
        if channel_id:
            channel_team = await session.scalar(
                select(Team.id).where(
                    Team.workspace_id == actor.workspace_id, Team.channel_id == channel_id
                )
            )
        teams = (
            await session.execute(
                select(Team.id, Team.name)
                .where(Team.workspace_id == actor.workspace_id)
                .order_by(Team.name)
            )
        ).all()
        cycle = await session.scalar(
            select(Cycle.name).where(
                Cycle.workspace_id == actor.workspace_id, Cycle.state == "active"
            )
        )
        before, said = await lessons.new_objective_lessons(
            session, workspace_id=actor.workspace_id, person_id=actor.person_id,
            channel_team=channel_team,
        )  # fmt: skip
    return ObjectiveForm(
        lessons_cycle=before,
        lessons=said,
        teams=[(t.id, t.name) for t in teams],
        owner_slack_id=actor.slack_user_id,
        cycle=cycle,
        can_write_company=actor.is_facilitator,
        channel_id=channel_id,
        channel_name=channel_name,
        channel_has_team=channel_team is not None,
    )


async def write_objective(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, entry: ObjectiveEntry
) -> Written:
    """Save a new objective (starting the current quarter on a workspace's first run)."""
    today = clock.now().astimezone(ZoneInfo(actor.timezone)).date()
    async with sessions.begin() as session:
        team_id = entry.team_id
        if entry.new_team_channel:
            team_id = await first_team(
                session, actor=actor, channel_id=entry.new_team_channel, name=entry.new_team_name
            )
        saved = await objectives.create_objective(
            session,
            actor=actor,
            title=entry.title,
            description=entry.description,
            level=entry.level,
            team_id=team_id,
            owner_person_id=await owner_id(session, actor, entry.owner_slack_id),
            parent_ref=entry.parent_ref,
            contributing_team_ids=entry.contributing_team_ids,
            commitment=entry.commitment,
            today=today,
        )
        suggestions = await _suggestions(session, actor, saved.ref)
    notice = (
        f"This started the cycle {saved.cycle_name} (the current quarter)."
        if saved.cycle_created
        else ""
    )
    return Written(
        saved.ref,
        KeyResultForm(saved.ref, saved.title, actor.slack_user_id, (), suggestions, notice),
    )


async def key_result_form(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, objective_ref: str
) -> KeyResultForm:
    """`/okr kr add O7`: the form, for those who may add to O7."""
    async with readers_for(sessions)() as session:
        objective = await objective_by_ref(session, actor=actor, ref=objective_ref)
        require_edit(actor, await stewards_of(session, objective), what=objective.ref)
        return KeyResultForm(objective.ref, objective.title, actor.slack_user_id)


async def add_key_result(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    objective_ref: str,
    objective_title: str,
    added: tuple[str, ...],
    entry: KeyResultEntry,
) -> Written:
    """Save a key result; the next form says which were added so far."""
    async with sessions.begin() as session:
        saved = await key_results.add_key_result(
            session,
            actor=actor,
            objective_ref=objective_ref,
            title=entry.title,
            kind=entry.kind,
            start=entry.start,
            target=entry.target,
            unit=entry.unit,
            direction=entry.direction,
            comparator=entry.comparator,
            owner_person_id=await owner_id(session, actor, entry.owner_slack_id),
            weight=entry.weight,
        )
        if entry.source_url or entry.source_path:
            await _set_source(session, actor, saved.ref, entry)
        suggestions = await _suggestions(session, actor, saved.objective_ref)
    return Written(
        saved.ref,
        KeyResultForm(
            saved.objective_ref,
            objective_title,
            actor.slack_user_id,
            (*added, saved.ref),
            suggestions,
        ),
    )


async def _set_source(session: AsyncSession, actor: Actor, ref: str, entry: KeyResultEntry) -> None:
    """The form's source fields, checked as `/okr source` checks them (an error names the
    form's field, and nothing of the form is saved)."""
    if not entry.source_url or not entry.source_path:
        missing = "source_url" if not entry.source_url else "source_path"
        raise Invalid("Give both the source URL and the field path, or neither.", field=missing)
    try:
        await metric_sources.set_source(
            session, actor=actor, ref=ref, url=entry.source_url, path=entry.source_path,
            header=None, secret=None, cipher=TokenCipher([]),
        )  # fmt: skip
    except Invalid as exc:
        field = {"url": "source_url", "path": "source_path"}.get(exc.field or "", exc.field)
        raise Invalid(str(exc), field=field) from None


async def _workspace_id(session: AsyncSession, slack_team_id: str) -> int:
    found = await session.scalar(
        select(Workspace.id).where(Workspace.slack_team_id == slack_team_id)
    )
    return int(found or 0)


async def parent_choices(
    sessions: async_sessionmaker[AsyncSession], *, slack_team_id: str, typed: str
) -> list[tuple[str, str]]:
    """Objectives of the active cycle matching what was typed (a ref or words of a title),
    as (ref, title)."""
    async with readers_for(sessions)() as session:
        workspace_id = await _workspace_id(session, slack_team_id)
        query = (
            select(Objective.ref_number, Objective.title)
            .join(Cycle, Cycle.id == Objective.cycle_id)
            .where(
                Objective.workspace_id == workspace_id,
                Cycle.state == "active",
                Objective.state == "active",
            )
            .order_by(Objective.ref_number)
            .limit(OPTIONS_MAX)
        )
        if typed:
            number = typed.upper().removeprefix("O")
            clauses: list[ColumnElement[bool]] = [Objective.title.ilike(f"%{typed}%")]
            if number.isdigit():
                clauses.append(Objective.ref_number == int(number))
            query = query.where(or_(*clauses))
        rows = (await session.execute(query)).all()
    return [(f"O{n}", t) for n, t in rows]


async def team_choices(
    sessions: async_sessionmaker[AsyncSession], *, slack_team_id: str, typed: str
) -> list[tuple[int, str]]:
    """Teams whose name holds what was typed, as (id, name)."""
    async with readers_for(sessions)() as session:
        workspace_id = await _workspace_id(session, slack_team_id)
        query = select(Team.id, Team.name).where(Team.workspace_id == workspace_id)
        if typed:
            query = query.where(Team.name.ilike(f"%{typed}%"))
        rows = (await session.execute(query.order_by(Team.name).limit(OPTIONS_MAX))).all()
    return [(i, n) for i, n in rows]
