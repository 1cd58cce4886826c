"""Learning people's time zones from Slack, so each DM comes at their own local time.

People are first seen through a command, a form or a team's member list, none of which says
where they are. Before each tick works out what is due, the clock asks Slack (`users.info`)
about owners of active key results whose zone is not known yet, a few at a time; the
`user_change` event keeps it current afterwards.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Cycle, KeyResult, Objective, Person
from bot.services.people import apply_profile
from bot.slack.clients import WorkspaceClients

log = logging.getLogger(__name__)
GONE = ("user_not_found", "account_inactive", "user_disabled")


async def learn_time_zones(
    sessions: async_sessionmaker[AsyncSession], clients: WorkspaceClients, *, limit: int = 50
) -> int:
    """Ask Slack about up to `limit` owners with no known zone; returns how many were asked."""
    async with sessions() as session:
        unknown = (
            await session.execute(
                select(Person.id, Person.workspace_id, Person.slack_user_id)
                .join(KeyResult, KeyResult.owner_person_id == Person.id)
                .join(Objective, Objective.id == KeyResult.objective_id)
                .join(Cycle, Cycle.id == Objective.cycle_id)
                .where(
                    Person.timezone.is_(None),
                    Person.is_deactivated.is_(False),
                    KeyResult.workspace_id == Person.workspace_id,
                    KeyResult.state == "active",
                    Cycle.state == "active",
                )
                .distinct()
                .limit(limit)
            )
        ).all()
    asked = 0
    for person_id, workspace_id, slack_user_id in unknown:
        client = await clients.get(workspace_id)
        if client is None:
            continue
        try:
            answer = await client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in GONE:
                log.info("time zone not learnt", extra={"error": error})
                break  # rate-limited or worse: the next tick tries again
            answer = None
        except Exception:  # noqa: BLE001 - Slack unreachable: the next tick tries again
            break
        asked += 1
        async with sessions.begin() as session:
            person = await session.get(Person, person_id)
            if person is None:
                continue
            if answer is None:
                person.is_deactivated = True
            else:
                apply_profile(person, dict(answer.get("user") or {}))
                if person.timezone is None:
                    person.timezone = "UTC"  # Slack knows none: stop asking
    return asked
