"""Who may do what, checked when a change is submitted (never only when a button is shown).

Everyone in a workspace may read everything in it. Edit an objective or its key results: its
owner, the lead of its team, leads of contributing teams, facilitators and admins. Check in on
a team (or company) key result: its owner, the objective team's lead, contributing teams'
leads, facilitators and admins; on a personal key result: its owner, facilitators and admins
(leading a team the owner belongs to gives no say over their personal goals). Company
objectives: only facilitators and admins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.services.actors import Actor
from bot.services.errors import Forbidden


@dataclass(frozen=True)
class Stewards:
    """The people whose word counts for one objective (person ids)."""

    owner: int | None
    team_lead: int | None
    contributing_leads: frozenset[int] = frozenset()

    def editors(self) -> set[int]:
        return {p for p in (self.owner, self.team_lead, *self.contributing_leads) if p is not None}


def require_edit(actor: Actor, stewards: Stewards, *, what: str) -> None:
    if actor.is_facilitator or actor.person_id in stewards.editors():
        return
    raise Forbidden(
        f"Only {what}'s owner, its team's lead (or a contributing team's lead), facilitators "
        "and admins can change it."
    )


@dataclass(frozen=True)
class CheckinStewards:
    """Who may check in on one key result, besides facilitators and admins (person ids)."""

    owner: int | None
    personal: bool  # a personal objective's key result: its owner's alone
    team_lead: int | None = None
    contributing_leads: frozenset[int] = frozenset()

    def people(self) -> set[int]:
        leads = () if self.personal else (self.team_lead, *self.contributing_leads)
        return {p for p in (self.owner, *leads) if p is not None}


def may_check_in(actor: Actor, stewards: CheckinStewards) -> bool:
    return actor.is_facilitator or actor.person_id in stewards.people()


def require_checkin(actor: Actor, stewards: CheckinStewards, *, what: str) -> None:
    if may_check_in(actor, stewards):
        return
    if stewards.personal:
        raise Forbidden(
            f"{what} is a personal key result: only its owner, facilitators and admins can "
            "check in on it."
        )
    raise Forbidden(
        f"Only {what}'s owner, its team's lead (or a contributing team's lead), facilitators "
        "and admins can check in on it."
    )


def require_company_level(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise Forbidden(
            "Company objectives are set by facilitators and admins. Make it a team or a "
            "personal objective, or ask a facilitator (`/okr facilitator list`).",
            field="level",
        )


def leads(ids: Iterable[int | None]) -> frozenset[int]:
    return frozenset(i for i in ids if i is not None)
