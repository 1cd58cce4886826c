"""Metric sources and the push API: how key results update themselves.

A key result's source settings that may be shown (URL, field path, header name) live in
`key_result.metric_source`; the header's secret and the last pull's outcome live here, so
an export of key results never carries a secret. API tokens are kept as hashes only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, created_column, scoped_fk, workspace_fk


class MetricSourceState(Base):
    """A sourced key result's secret (encrypted) and what its last pulls gave."""

    __tablename__ = "metric_source_state"
    __table_args__ = (
        scoped_fk("key_result_id", "key_result", ondelete="CASCADE"),
        scoped_fk("set_by_person_id", "person"),
    )

    key_result_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    set_by_person_id: Mapped[int | None] = mapped_column(Integer)
    secret: Mapped[str | None] = mapped_column(Text)  # encrypted with TOKEN_ENCRYPTION_KEY
    last_value: Mapped[float | None] = mapped_column(Double)
    last_good_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A workspace's push API token: its name, who made it, and only the hash of it. The
    rate window's counter lives on the row, so several web processes share one limit."""

    __tablename__ = "api_token"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        UniqueConstraint("token_hash"),
        UniqueConstraint("workspace_id", "name"),
        scoped_fk("created_by_person_id", "person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by_person_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_column()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_window: Mapped[int] = mapped_column(Integer, default=0)  # minute number (epoch / 60)
    rate_count: Mapped[int] = mapped_column(Integer, default=0)


class ApiIdempotency(Base):
    """The first answer to a request sent with an `Idempotency-Key`, replayed to repeats."""

    __tablename__ = "api_idempotency"
    __table_args__ = (
        UniqueConstraint("token_id", "key"),
        Index("ix_api_idempotency_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    token_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("api_token.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_column()
