"""End of a cycle: final grades, retrospectives and their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
    """One person's answers; anonymous retros key it by a keyed hash, not the user id."""

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
