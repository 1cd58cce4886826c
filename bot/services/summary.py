"""A cycle's summaries, written once when its grading finishes and kept (`cycle_summary`):
one per team retrospective (the team's objectives and those it shares, their grades, the
sweet-spot reading, committed objectives, the retro's ratings, answers and participation)
and one for the company's objectives. Posting reads the kept summary, so a resend or a
late send shows the same figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.summary import (
    SummaryAnswer,
    SummaryData,
    SummaryKeyResult,
    SummaryObjective,
    build_summary,
    summary_fallback,
)
from bot.models import (
    CycleSummary,
    ObjectiveContributor,
    OutboxItem,
    Person,
    Retro,
    RetroParticipation,
    RetroResponse,
    RetroVote,
    Team,
    TeamMember,
)
from bot.okr.summary import anonymous_answers_shown, ratings, sweet_spot
from bot.repository.upsert import insert_ignoring_conflicts
from bot.services.grading_reads import CycleGrades, GradedKeyResult
from bot.services.prompts import Composed

COMPANY = "company"


def _score(graded: GradedKeyResult) -> Decimal:
    assert graded.grade is not None
    return Decimal(graded.grade.score_hundredths) / 100


def _grades_part(found: CycleGrades, objective_ids: set[int]) -> dict[str, object]:
    """Objectives and key results of `objective_ids` with their final grades, and the
    sweet-spot figures of the aspirational ones."""
    objectives = [o for o in found.objectives.values() if o.id in objective_ids]
    rows = [g for g in found.key_results if g.objective.id in objective_ids and g.grade]
    spot = sweet_spot(_score(g) for g in rows if g.objective.commitment == "aspirational")
    shown_objectives = []
    for objective in objectives:
        grade = found.objective_grades.get(objective.id)
        shown_objectives.append(
            SummaryObjective(
                objective.ref,
                objective.title,
                objective.commitment,
                f"{Decimal(grade.score_hundredths) / 100:.2f}" if grade else None,
                grade.note if grade else None,
            )  # fmt: skip
        )
    key_results = [
        SummaryKeyResult(
            g.key_result.ref,
            g.key_result.title,
            g.objective.ref,
            f"{_score(g):.2f}",
            bool(g.grade and g.grade.from_measured),
            g.grade.note if g.grade else None,
        )  # fmt: skip
        for g in rows
    ]
    return {
        "objectives": shown_objectives,
        "key_results": key_results,
        "sweet_spot": (spot.aspirational, spot.inside, spot.above, spot.below),
        "sweet_share": f"{spot.share:.0%}" if spot.share is not None else None,
        "sweet_reading": spot.reading,
    }


async def _retro_part(session: AsyncSession, retro: Retro, team: Team) -> dict[str, object]:
    votes = list(
        (await session.execute(select(RetroVote.rating).where(RetroVote.retro_id == retro.id)))
        .scalars()
    )  # fmt: skip
    spread = ratings(votes)
    taking_part = list(
        (
            await session.execute(
                select(RetroParticipation).where(RetroParticipation.retro_id == retro.id)
            )
        ).scalars()
    )
    answered = sum(1 for p in taking_part if p.answered)
    responses = list(
        (
            await session.execute(
                select(RetroResponse)
                .where(RetroResponse.retro_id == retro.id)
                .order_by(RetroResponse.respondent_key)  # anonymous: a random order
            )
        ).scalars()
    )
    authors: dict[int, str] = {}
    for pid, slack in await session.execute(
        select(Person.id, Person.slack_user_id).where(
            Person.id.in_([r.person_id for r in responses if r.person_id is not None])
        )
    ):
        authors[pid] = slack
    hidden = 0
    answers: list[SummaryAnswer] = []
    for response in responses:
        if retro.anonymous and not anonymous_answers_shown(answered):
            hidden += 1
            continue
        author = authors.get(response.person_id) if response.person_id else None
        for part in ("went_well", "went_badly", "to_change"):
            text = getattr(response, part)
            if text:
                answers.append(SummaryAnswer(part, text, None if retro.anonymous else author))
    members = set(
        (
            await session.execute(select(TeamMember.person_id).where(TeamMember.team_id == team.id))
        ).scalars()
    ) | ({team.lead_person_id} if team.lead_person_id else set())
    return {
        "ratings": list(spread.counts),
        "rating_mean": f"{spread.mean}" if spread.mean is not None else None,
        "answers": answers,
        "hidden_anonymous": hidden,
        "anonymous": retro.anonymous,
        "participation": (
            len(taking_part),
            len(members),
            sum(1 for p in taking_part if p.voted),
            answered,
        ),
    }


async def write_summaries(session: AsyncSession, *, found: CycleGrades) -> int:
    """Keep every summary of the cycle (once: a summary already kept stays as it was)."""
    cycle = found.cycle
    retros = (
        await session.execute(
            select(Retro, Team)
            .join(Team, Team.id == Retro.team_id)
            .where(Retro.workspace_id == cycle.workspace_id, Retro.cycle_id == cycle.id)
        )
    ).all()
    rows: list[dict[str, object]] = []
    for retro, team in retros:
        shared = set(
            (
                await session.execute(
                    select(ObjectiveContributor.objective_id).where(
                        ObjectiveContributor.team_id == team.id
                    )
                )
            ).scalars()
        )
        ids = {o.id for o in found.objectives.values() if o.team_id == team.id} | shared
        data = SummaryData(
            cycle.name,
            team.name,
            **_grades_part(found, ids),  # type: ignore[arg-type]
            **await _retro_part(session, retro, team),  # type: ignore[arg-type]
        )
        rows.append({"scope": retro.scope, "body": data.as_json()})
    company = {o.id for o in found.objectives.values() if o.level == "company"}
    if company:
        data = SummaryData(cycle.name, "Company", **_grades_part(found, company))  # type: ignore[arg-type]
        rows.append({"scope": COMPANY, "body": data.as_json()})
    if rows:
        await session.execute(
            insert_ignoring_conflicts(
                session,
                CycleSummary,
                [{**row, "workspace_id": cycle.workspace_id, "cycle_id": cycle.id} for row in rows],
                conflict_columns=["workspace_id", "cycle_id", "scope"],
            )
        )
    return len(rows)


async def kept_summary(
    session: AsyncSession, *, workspace_id: int, cycle_id: int, scope: str
) -> SummaryData | None:
    row = (
        await session.execute(
            select(CycleSummary).where(
                CycleSummary.workspace_id == workspace_id,
                CycleSummary.cycle_id == cycle_id,
                CycleSummary.scope == scope,
            )
        )
    ).scalar_one_or_none()
    return SummaryData.from_json(row.body) if row else None


async def compose(session: AsyncSession, *, item: OutboxItem, now: datetime) -> Composed | None:
    scope = str(item.payload.get("scope") or "")
    kept = await kept_summary(
        session,
        workspace_id=item.workspace_id,
        cycle_id=int(item.payload["cycle_id"]),
        scope=COMPANY if scope == COMPANY else f"team:{scope}",
    )
    if kept is None:
        return None
    team_id = int(scope) if scope.isdigit() else None
    channel = str(item.payload["channel"])
    return Composed(channel, summary_fallback(kept), build_summary(kept), (), team_id=team_id)
