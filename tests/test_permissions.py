"""Each permission rule, at submit time, on real rows: who may edit, who may check in."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.models import ObjectiveContributor, Team
from bot.services import intake, key_results, objectives
from bot.services.actors import Actor, actor_for
from bot.services.errors import Forbidden

PEOPLE = ("owner", "lead", "contributing_lead", "facilitator", "admin", "member", "kr_owner")


async def world(session: AsyncSession) -> dict[str, Actor]:
    who = {
        name: await actor_for(
            session,
            slack_team_id="T0PERM",
            slack_user_id=f"U0{name.upper()}",
            slack_admin=name == "admin",
        )
        for name in PEOPLE
    }
    team = Team(
        workspace_id=who["owner"].workspace_id, name="Core", lead_person_id=who["lead"].person_id
    )
    other = Team(
        workspace_id=who["owner"].workspace_id,
        name="Edge",
        lead_person_id=who["contributing_lead"].person_id,
    )
    session.add_all([team, other])
    await session.flush()
    from sqlalchemy import update

    from bot.models import Person

    await session.execute(
        update(Person).where(Person.id == who["facilitator"].person_id).values(role="facilitator")
    )
    who["facilitator"] = Actor(
        who["facilitator"].workspace_id,
        who["facilitator"].person_id,
        who["facilitator"].slack_user_id,
        "facilitator",
        "UTC",
    )
    await objectives.create_objective(
        session,
        actor=who["owner"],
        title="Core ships calmly",
        level="team",
        team_id=team.id,
        today=clock.now().date(),
    )
    session.add(
        ObjectiveContributor(
            objective_id=await _objective_id(session),
            team_id=other.id,
            workspace_id=who["owner"].workspace_id,
        )
    )
    await key_results.add_key_result(
        session,
        actor=who["owner"],
        objective_ref="O1",
        title="Incidents a month",
        start=8,
        target=2,
        owner_person_id=who["kr_owner"].person_id,
    )
    return who


async def _objective_id(session: AsyncSession) -> int:
    from sqlalchemy import select

    from bot.models import Objective

    return int(
        (await session.execute(select(Objective.id).where(Objective.ref_number == 1))).scalar_one()
    )


EDIT = {
    "owner": True,
    "lead": True,
    "contributing_lead": True,
    "facilitator": True,
    "admin": True,
    "member": False,
    "kr_owner": False,
}
CHECK_IN = {
    "owner": False,
    "lead": True,
    "contributing_lead": True,
    "facilitator": True,
    "admin": True,
    "member": False,
    "kr_owner": True,
}


@pytest.mark.parametrize("person", PEOPLE)
async def test_who_may_edit(session: AsyncSession, person: str) -> None:
    who = await world(session)
    if EDIT[person]:
        async with session.begin_nested():
            saved = await key_results.add_key_result(
                session,
                actor=who[person],
                objective_ref="O1",
                title="Pages a week",
                start=20,
                target=5,
            )
        assert saved.ref.startswith("KR")
    else:
        with pytest.raises(Forbidden, match="Only O1's owner, its team's lead"):
            await key_results.add_key_result(
                session,
                actor=who[person],
                objective_ref="O1",
                title="Pages a week",
                start=20,
                target=5,
            )


@pytest.mark.parametrize("person", PEOPLE)
async def test_who_may_check_in(session: AsyncSession, person: str) -> None:
    who = await world(session)
    update = intake.CheckinInput(
        actor=who[person],
        text="KR1 6",
        source=intake.Source.COMMAND,
        source_ref=f"trigger-{person}",
        at=clock.now(),
    )
    outcome = await intake.record_checkin(session, checkin=update, now=clock.now())
    if CHECK_IN[person]:
        assert [line.ref for line in outcome.recorded] == ["KR1"]
    else:
        assert not outcome.recorded
        assert "Only KR1's owner, its team's lead (or a contributing team's lead)" in (
            outcome.refused[0].reason
        )


async def test_another_workspace_cannot_check_in_here(session: AsyncSession) -> None:
    """The intake finds key results only in the acting person's workspace, whatever the door."""
    await world(session)
    outsider = await actor_for(
        session, slack_team_id="T0OTHER", slack_user_id="U0OUT", slack_admin=True
    )
    for source in (intake.Source.COMMAND, intake.Source.MODAL, intake.Source.DM):
        update = intake.CheckinInput(
            actor=outsider, text="KR1 6", source=source, source_ref="x", at=clock.now()
        )
        outcome = await intake.record_checkin(session, checkin=update, now=clock.now())
        assert not outcome.recorded and "There is no KR1 here" in outcome.refused[0].reason
