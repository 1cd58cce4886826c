"""SQLAlchemy 2 typed models: every table of DESIGN.md's data model."""

from bot.models.base import Base
from bot.models.checkin import Checkin
from bot.models.cycle_end import (
    CarryOffer,
    CycleSummary,
    Grade,
    Retro,
    RetroParticipation,
    RetroResponse,
    RetroVote,
)
from bot.models.delivery import InboxEvent, OutboxItem, Prompt, PromptLine
from bot.models.installation import SlackBot, SlackInstallation, SlackOAuthState
from bot.models.okrs import Cycle, KeyResult, Objective, ObjectiveContributor
from bot.models.people import AwayPeriod, Person, Team, TeamMember, TeamSkippedPeriod
from bot.models.sources import ApiIdempotency, ApiToken, MetricSourceState
from bot.models.workspace import Audit, RefCounter, Workspace

__all__ = [
    "ApiIdempotency",
    "ApiToken",
    "Audit",
    "AwayPeriod",
    "Base",
    "CarryOffer",
    "Checkin",
    "Cycle",
    "CycleSummary",
    "Grade",
    "InboxEvent",
    "KeyResult",
    "MetricSourceState",
    "Objective",
    "ObjectiveContributor",
    "OutboxItem",
    "Person",
    "Prompt",
    "PromptLine",
    "RefCounter",
    "Retro",
    "RetroParticipation",
    "RetroResponse",
    "RetroVote",
    "SlackBot",
    "SlackInstallation",
    "SlackOAuthState",
    "Team",
    "TeamMember",
    "TeamSkippedPeriod",
    "Workspace",
]
