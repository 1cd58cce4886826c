"""Cycles, objectives (with alignment and contributing teams) and key results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Double,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import (
    Base,
    UTCDateTime,
    created_column,
    one_of,
    scoped_fk,
    updated_column,
    workspace_fk,
)

CYCLE_STATES = ("planning", "active", "grading", "closed")
LEVELS = ("company", "team", "personal")
OBJECTIVE_STATES = ("draft", "active", "archived")
KEY_RESULT_KINDS = ("number", "percent", "currency", "milestone")
DIRECTIONS = ("increase", "decrease", "hold")
COMPARATORS = ("at_least", "at_most")
KEY_RESULT_STATES = ("active", "archived")
COMMITMENTS = ("aspirational", "committed")  # aspirational: 0.6-0.7 is a good result


class Cycle(Base):
    __tablename__ = "cycle"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        one_of("state", CYCLE_STATES),
        Index("ix_cycle_workspace_state", "workspace_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="planning")
    grading_deadline: Mapped[date | None] = mapped_column(Date)
    retro_deadline: Mapped[date | None] = mapped_column(Date)
    # Cycle end: when grading started (the clock or `/okr cycle close`) and the instants its
    # grading and its retrospective end (the dates above are those instants' local days).
    grading_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grading_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retro_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Objective(Base):
    __tablename__ = "objective"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        scoped_fk("created_by_person_id", "person"),
        scoped_fk("carried_from_id", "objective"),
        scoped_fk("parent_objective_id", "objective"),
        scoped_fk("owner_person_id", "person"),
        scoped_fk("team_id", "team"),
        scoped_fk("cycle_id", "cycle"),
        UniqueConstraint("workspace_id", "ref_number"),
        one_of("level", LEVELS),
        one_of("state", OBJECTIVE_STATES),
        one_of("commitment", COMMITMENTS),
        CheckConstraint("ref_number > 0", name="ref_positive"),
        CheckConstraint(
            "parent_objective_id IS NULL OR parent_objective_id <> id", name="not_own_parent"
        ),
        CheckConstraint("level <> 'team' OR team_id IS NOT NULL", name="team_level_has_team"),
        Index("ix_objective_cycle_level", "workspace_id", "cycle_id", "level"),
        Index("ix_objective_team", "workspace_id", "team_id"),
        Index("ix_objective_owner", "workspace_id", "owner_person_id"),
        Index("ix_objective_parent", "parent_objective_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    ref_number: Mapped[int] = mapped_column(Integer)
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    level: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(Integer)
    owner_person_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_objective_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="active")
    carried_from_id: Mapped[int | None] = mapped_column(Integer)
    commitment: Mapped[str] = mapped_column(
        String(16), default="aspirational", server_default="aspirational"
    )
    created_by_person_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    @property
    def ref(self) -> str:
        return f"O{self.ref_number}"


class ObjectiveContributor(Base):
    """A further team that owns a shared objective beside its own team."""

    __tablename__ = "objective_contributor"
    __table_args__ = (
        scoped_fk("team_id", "team", ondelete="CASCADE"),
        scoped_fk("objective_id", "objective", ondelete="CASCADE"),
        Index("ix_objective_contributor_team", "team_id"),
    )

    objective_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    added_at: Mapped[datetime] = created_column()


class KeyResult(Base):
    __tablename__ = "key_result"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        scoped_fk("carried_from_id", "key_result"),
        scoped_fk("owner_person_id", "person"),
        scoped_fk("objective_id", "objective"),
        UniqueConstraint("workspace_id", "ref_number"),
        one_of("kind", KEY_RESULT_KINDS),
        one_of("direction", DIRECTIONS),
        one_of("state", KEY_RESULT_STATES),
        CheckConstraint(
            "comparator IS NULL OR comparator IN ('at_least', 'at_most')",
            name="comparator_allowed",
        ),
        CheckConstraint(
            "(direction = 'hold') = (comparator IS NOT NULL)", name="comparator_iff_hold"
        ),
        CheckConstraint(
            "direction = 'hold' OR kind = 'milestone' OR target_value <> start_value",
            name="target_differs_from_start",
        ),
        CheckConstraint(
            "direction <> 'increase' OR kind = 'milestone' OR target_value > start_value",
            name="increase_goes_up",
        ),
        CheckConstraint(
            "direction <> 'decrease' OR target_value < start_value", name="decrease_goes_down"
        ),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("ref_number > 0", name="ref_positive"),
        Index("ix_key_result_objective", "objective_id"),
        Index("ix_key_result_owner", "workspace_id", "owner_person_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    ref_number: Mapped[int] = mapped_column(Integer)
    objective_id: Mapped[int] = mapped_column(Integer, nullable=False)
    owner_person_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="number")
    unit: Mapped[str] = mapped_column(String(20), default="")
    start_value: Mapped[float] = mapped_column(Double, default=0.0)
    target_value: Mapped[float] = mapped_column(Double)
    direction: Mapped[str] = mapped_column(String(16), default="increase")
    comparator: Mapped[str | None] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    # Where a pull fetches the value from ({"url": ..., "path": ...}), if anywhere.
    metric_source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="active")
    carried_from_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    @property
    def ref(self) -> str:
        return f"KR{self.ref_number}"
