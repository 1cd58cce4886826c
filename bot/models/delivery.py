"""What the bot sends (outbox, prompts) and what it received (inbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
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
from bot.models.outbox_keys import DEFAULT_PRIORITY, OUTBOX_KINDS

OUTBOX_STATES = ("pending", "sending", "sent", "uncertain", "failed", "cancelled")
PROMPT_KINDS = ("round", "dm")
INBOX_ACTIONS = ("post", "edit", "delete")


class OutboxItem(Base):
    """One thing to send, exactly once, named by its idempotency key (see DESIGN.md)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        one_of("kind", OUTBOX_KINDS),
        one_of("state", OUTBOX_STATES),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        CheckConstraint("state <> 'sending' OR lease_until IS NOT NULL", name="sending_leased"),
        Index("ix_outbox_due", "state", "next_attempt_at", "priority"),
        Index("ix_outbox_workspace_kind_period", "workspace_id", "kind", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    kind: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(64))  # channel id, person id or team id
    period: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer, default=DEFAULT_PRIORITY)  # lower goes first
    state: Mapped[str] = mapped_column(String(16), default="pending")
    step: Mapped[int] = mapped_column(Integer, default=0)  # multi-step sends (digest chart)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Prompt(Base):
    """A posted round message or check-in DM, so a reply can be tied to what it answered."""

    __tablename__ = "prompt"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        scoped_fk("person_id", "person", ondelete="CASCADE"),
        scoped_fk("team_id", "team", ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "channel_id", "message_ts"),
        one_of("kind", PROMPT_KINDS),
        CheckConstraint(
            "(kind = 'round' AND team_id IS NOT NULL) OR (kind = 'dm' AND person_id IS NOT NULL)",
            name="target_matches_kind",
        ),
        Index("ix_prompt_team_period", "workspace_id", "team_id", "period"),
        Index("ix_prompt_person_period", "workspace_id", "person_id", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    kind: Mapped[str] = mapped_column(String(8))
    outbox_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("outbox.id", ondelete="SET NULL")
    )
    team_id: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))  # the round's; DM lines carry their own
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_column()


class PromptLine(Base):
    """Line `line_no` of a prompt: `#2` in a reply means this key result, in this period."""

    __tablename__ = "prompt_line"
    __table_args__ = (
        scoped_fk("key_result_id", "key_result", ondelete="CASCADE"),
        scoped_fk("prompt_id", "prompt", ondelete="CASCADE"),
        CheckConstraint("line_no > 0", name="line_positive"),
        Index("ix_prompt_line_key_result", "key_result_id"),
    )

    prompt_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    key_result_id: Mapped[int] = mapped_column(Integer, nullable=False)
    period: Mapped[str] = mapped_column(String(8))


class InboxEvent(Base):
    """A qualifying Slack event, stored before it is acknowledged so none is ever lost."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("event_id"),
        UniqueConstraint("workspace_id", "channel_id", "message_ts", "action", "edited_ts"),
        one_of("action", INBOX_ACTIONS),
        Index("ix_inbox_unprocessed", "processed_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    event_id: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    edited_ts: Mapped[str] = mapped_column(String(32), default="")
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = created_column()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
