"""Check-ins: an append-only record of what people reported, week by week."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Double,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from bot.models.base import Base, UTCDateTime, one_of, scoped_fk, workspace_fk
from bot.okr.progress import Status


class CheckinSource(StrEnum):
    """Where a check-in came from: every way in has a name here, and only a name."""

    THREAD = "thread"
    DM = "dm"
    MODAL = "modal"
    COMMAND = "command"
    API = "api"
    PULL = "pull"
    IMPORT = "import"


CHECKIN_SOURCES = tuple(CheckinSource)
CHECKIN_STATUSES = tuple(Status)  # the status a person reports (okr/progress.py)


class Checkin(Base):
    """Never updated or deleted: an edit is a new revision, a delete a retraction row.

    The value for a period is the newest row (recorded_at, then id) whose source_ref has no
    later retraction; `bot.repository.checkins` derives it.
    """

    __tablename__ = "checkin"
    __table_args__ = (
        scoped_fk("author_person_id", "person"),
        scoped_fk("key_result_id", "key_result"),
        scoped_fk("api_token_id", "api_token"),
        UniqueConstraint("key_result_id", "period", "source", "source_ref", "revision"),
        one_of("source", CHECKIN_SOURCES),
        CheckConstraint(
            "status IS NULL OR status IN ('on_track', 'at_risk', 'off_track')",
            name="status_allowed",
        ),
        CheckConstraint(
            "confidence IS NULL OR confidence BETWEEN 0 AND 10", name="confidence_range"
        ),
        CheckConstraint("retraction OR value IS NOT NULL", name="value_unless_retraction"),
        Index("ix_checkin_kr_period", "workspace_id", "key_result_id", "period", "recorded_at"),
        Index("ix_checkin_workspace_period", "workspace_id", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    key_result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    period: Mapped[str] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Double)
    confidence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    author_person_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(200))
    revision: Mapped[str] = mapped_column(String(32), default="")
    retraction: Mapped[bool] = mapped_column(Boolean, default=False)
    api_token_id: Mapped[int | None] = mapped_column(Integer)  # the push API token that sent it


class AppendOnlyError(RuntimeError):
    """Check-ins are never changed in place: record a new revision or a retraction instead."""


@event.listens_for(Session, "before_flush")
def _refuse_checkin_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, Checkin):
            raise AppendOnlyError("check-ins are never deleted: insert a retraction row")
    for obj in session.dirty:
        if isinstance(obj, Checkin) and session.is_modified(obj):
            raise AppendOnlyError("check-ins are never updated: insert a new revision")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_checkin_changes(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == Checkin.__tablename__:
            raise AppendOnlyError("check-ins are append-only: no UPDATE or DELETE")
