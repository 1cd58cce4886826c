"""End of a cycle: final grades, retrospectives and their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, created_column, one_of, updated_column, workspace_fk

RETRO_STATES = ("open", "closed")


class Grade(Base):
    """The final grade of one key result or one objective, in hundredths (0-100 = 0.00-1.00)."""

    __tablename__ = "grade"
    __table_args__ = (
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
    cycle_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False
    )
    key_result_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("key_result.id", ondelete="CASCADE")
    )
    objective_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("objective.id", ondelete="CASCADE")
    )
    score_hundredths: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    graded_by_person_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("person.id", ondelete="SET NULL")
    )
    graded_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Retro(Base):
    """A retrospective poll for one team (scope = team id) or the company, per cycle."""

    __tablename__ = "retro"
    __table_args__ = (
        UniqueConstraint("workspace_id", "cycle_id", "scope"),
        one_of("state", RETRO_STATES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    cycle_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False
    )
    scope: Mapped[str] = mapped_column(String(32))  # "company" or "team:<id>"
    team_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("team.id", ondelete="CASCADE"))
    anonymous: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(8), default="open")
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_column()


class RetroResponse(Base):
    """One person's answers; anonymous retros key it by a keyed hash, not the user id."""

    __tablename__ = "retro_response"
    __table_args__ = (UniqueConstraint("retro_id", "respondent_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    retro_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("retro.id", ondelete="CASCADE"), nullable=False
    )
    respondent_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("person.id", ondelete="SET NULL")
    )
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
