"""Workspaces (Slack teams), their ref counters and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict
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

WORKSPACE_STATES = ("active", "paused", "uninstalled")
REF_KINDS = ("O", "KR")


class Workspace(Base):
    __tablename__ = "workspace"
    __table_args__ = (
        UniqueConstraint("slack_team_id"),
        one_of("state", WORKSPACE_STATES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # MutableDict: `workspace.settings["x"] = 1` is saved like any other change.
    settings: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    state: Mapped[str] = mapped_column(String(16), default="active")
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class RefCounter(Base):
    """The last number handed out per workspace and kind: refs are never reused."""

    __tablename__ = "ref_counter"
    __table_args__ = (one_of("kind", REF_KINDS),)

    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Audit(Base):
    """Who changed what, when, from where. Written by every service that changes OKR data."""

    __tablename__ = "audit"
    __table_args__ = (
        scoped_fk("actor_person_id", "person"),
        Index("ix_audit_workspace_at", "workspace_id", "at"),
        Index("ix_audit_entity", "workspace_id", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    actor_person_id: Mapped[int | None] = mapped_column(Integer)
    actor_slack_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = created_column()
