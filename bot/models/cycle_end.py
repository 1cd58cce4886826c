"""End of a cycle: final grades, retrospectives and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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

RETRO_STATES = ("open", "closed")
CARRY_DECISIONS = ("offered", "kept", "adjusted", "dropped")


class Grade(Base):
    """The final grade of one key result or one objective, in hundredths (0-100 = 0.00-1.00)."""

    __tablename__ = "grade"
    __table_args__ = (
        scoped_fk("graded_by_person_id", "person"),
        scoped_fk("objective_id", "objective", ondelete="CASCADE"),
        scoped_fk("key_result_id", "key_result", ondelete="CASCADE"),
        scoped_fk("cycle_id", "cycle", ondelete="CASCADE"),
        UniqueConstraint("key_result_id"),
        UniqueConstraint("objective_id"),
        CheckConstraint(
            "(key_result_id IS NULL) <> (objective_id IS NULL)", name="grades_one_thing"
        ),
        CheckConstraint("score_hundredths BETWEEN 0 AND 100", name="score_range"),
        Index("ix_grade_cycle", "workspace_id", "cycle_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    key_result_id: Mapped[int | None] = mapped_column(Integer)
    objective_id: Mapped[int | None] = mapped_column(Integer)
    score_hundredths: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    # The measured progress (clamped) when graded; `from_measured`: nobody graded it by the
    # deadline, so the measured progress became the grade.
    measured_hundredths: Mapped[int | None] = mapped_column(Integer)
    from_measured: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    graded_by_person_id: Mapped[int | None] = mapped_column(Integer)
    graded_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Retro(Base):
    """A retrospective poll for one team (scope = team id) or the company, per cycle."""

    __tablename__ = "retro"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        scoped_fk("team_id", "team", ondelete="CASCADE"),
        scoped_fk("cycle_id", "cycle", ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "cycle_id", "scope"),
        one_of("state", RETRO_STATES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    scope: Mapped[str] = mapped_column(String(32))  # "company" or "team:<id>"
    team_id: Mapped[int | None] = mapped_column(Integer)
    anonymous: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(8), default="open")
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_column()


class RetroResponse(Base):
    """One person's answers; an anonymous retro keys it by a random token, not the person."""

    __tablename__ = "retro_response"
    __table_args__ = (
        scoped_fk("person_id", "person"),
        scoped_fk("retro_id", "retro", ondelete="CASCADE"),
        UniqueConstraint("retro_id", "respondent_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    retro_id: Mapped[int] = mapped_column(Integer, nullable=False)
    respondent_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(Integer)
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class RetroVote(Base):
    """A rating of the cycle (1-5). An anonymous retro's vote has no person: the
    participation row alone says who took part, and nothing ties the two."""

    __tablename__ = "retro_vote"
    __table_args__ = (
        scoped_fk("person_id", "person"),
        scoped_fk("retro_id", "retro", ondelete="CASCADE"),
        UniqueConstraint("retro_id", "person_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    retro_id: Mapped[int] = mapped_column(Integer, nullable=False)
    person_id: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(Integer)


class RetroParticipation(Base):
    """Who voted and who answered a retro: one of each per person, and the live count. No
    time and no order, so it cannot be lined up with an anonymous answer."""

    __tablename__ = "retro_participation"
    __table_args__ = (
        scoped_fk("person_id", "person"),
        scoped_fk("retro_id", "retro", ondelete="CASCADE"),
    )

    retro_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    voted: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)


class CycleSummary(Base):
    """The summary posted at a cycle's grading deadline, kept for history (scope as retro)."""

    __tablename__ = "cycle_summary"
    __table_args__ = (
        scoped_fk("cycle_id", "cycle", ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "cycle_id", "scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)
    scope: Mapped[str] = mapped_column(String(32))  # "company" or "team:<id>"
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_column()


class CarryOffer(Base):
    """An unfinished key result offered to its owner for the next cycle; nothing is carried
    until they say keep or adjust."""

    __tablename__ = "carry_offer"
    __table_args__ = (
        scoped_fk("key_result_id", "key_result", ondelete="CASCADE"),
        scoped_fk("person_id", "person"),
        scoped_fk("cycle_id", "cycle", ondelete="CASCADE"),
        scoped_fk("carried_key_result_id", "key_result"),
        UniqueConstraint("key_result_id"),
        one_of("decision", CARRY_DECISIONS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    cycle_id: Mapped[int] = mapped_column(Integer, nullable=False)  # the cycle it came from
    key_result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    decision: Mapped[str] = mapped_column(String(16), default="offered")
    carried_key_result_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
