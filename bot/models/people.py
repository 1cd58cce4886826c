"""People, their away periods, and OKR teams (never the Slack workspace)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, created_column, one_of, scoped_fk, updated_column, workspace_fk

# The two schedule defaults are re-exported for modules that still import them from here.
from bot.okr.schedule import (
    DEFAULT_CHECKIN_TIME as DEFAULT_CHECKIN_TIME,
)
from bot.okr.schedule import (
    DEFAULT_CHECKIN_WEEKDAY as DEFAULT_CHECKIN_WEEKDAY,
)
from bot.okr.schedule import (
    DEFAULT_DIGEST_DELAY,
    DEFAULT_REMINDER_DELAY,
    whole_minutes,
)

ROLES = ("member", "facilitator", "admin")
DEFAULT_DIGEST_DELAY_MINUTES = whole_minutes(DEFAULT_DIGEST_DELAY)
DEFAULT_REMINDER_DELAY_MINUTES = whole_minutes(DEFAULT_REMINDER_DELAY)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        UniqueConstraint("workspace_id", "slack_user_id"),
        one_of("role", ROLES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    slack_user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="member")
    is_deactivated: Mapped[bool] = mapped_column(Boolean, default=False)
    # The bot's DM channel with this person, learnt from chat.postMessage's answer.
    im_channel_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class AwayPeriod(Base):
    """Days a person is away: not prompted, not reminded, not counted as missing."""

    __tablename__ = "away_period"
    __table_args__ = (
        scoped_fk("person_id", "person", ondelete="CASCADE"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_away_period_person_dates", "person_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_column()


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        scoped_fk("lead_person_id", "person"),
        scoped_fk("parent_team_id", "team"),
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint("checkin_weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("digest_delay_minutes >= 0", name="digest_delay_positive"),
        CheckConstraint("reminder_delay_minutes >= 0", name="reminder_delay_positive"),
        CheckConstraint("parent_team_id IS NULL OR parent_team_id <> id", name="not_own_parent"),
        Index("ix_team_workspace_channel", "workspace_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    parent_team_id: Mapped[int | None] = mapped_column(Integer)
    lead_person_id: Mapped[int | None] = mapped_column(Integer)
    checkin_weekday: Mapped[int] = mapped_column(Integer, default=DEFAULT_CHECKIN_WEEKDAY)
    checkin_time: Mapped[time] = mapped_column(Time, default=DEFAULT_CHECKIN_TIME)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_delay_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_DIGEST_DELAY_MINUTES)
    reminder_delay_minutes: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_REMINDER_DELAY_MINUTES
    )
    anonymous_retros: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the team needs attention (bot removed from channel, channel archived...), else NULL.
    needs_attention: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class TeamMember(Base):
    __tablename__ = "team_member"
    __table_args__ = (
        scoped_fk("person_id", "person", ondelete="CASCADE"),
        scoped_fk("team_id", "team", ondelete="CASCADE"),
        Index("ix_team_member_person", "person_id"),
    )

    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    joined_at: Mapped[datetime] = created_column()


class TeamSkippedPeriod(Base):
    """A week a team skips its check-in (holidays, offsites): no prompt, nobody missing."""

    __tablename__ = "team_skipped_period"
    __table_args__ = (scoped_fk("team_id", "team", ondelete="CASCADE"),)

    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    created_at: Mapped[datetime] = created_column()
