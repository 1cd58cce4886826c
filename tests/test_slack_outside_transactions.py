"""No Slack Web API call is made while a write transaction is open: SQLite's write lock would
be held across the network. Each test holds the Slack call in the emulator and, while it
waits, counts the database's open write transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, SessionTransaction

from bot.db import WRITER_OPTION
from bot.models import Objective, Person, Team
from bot.sandbox.stack import SandboxStack
from tests.databases import Database


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


class OpenWriters:
    """Write units of work open on the app's engine right now: counted when a writer session's
    transaction is created (`sessions.begin()`), before any SQL is sent, so a Slack call made
    inside `async with sessions.begin()` counts even when no statement has run yet."""

    def __init__(self, stack: SandboxStack) -> None:
        assert stack.app is not None
        self.engine = stack.app.engine.sync_engine
        self.open = 0

    def _ours(self, session: Session, transaction: SessionTransaction) -> bool:
        bind = session.bind
        return (
            transaction.parent is None
            and isinstance(bind, Engine)
            and bind.url == self.engine.url
            and bool(bind.get_execution_options().get(WRITER_OPTION))
        )

    def _created(self, session: Session, transaction: SessionTransaction) -> None:
        if self._ours(session, transaction):
            self.open += 1

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if self._ours(session, transaction):
            self.open -= 1

    def __enter__(self) -> OpenWriters:
        event.listen(Session, "after_transaction_create", self._created)
        event.listen(Session, "after_transaction_end", self._ended)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Session, "after_transaction_create", self._created)
        event.remove(Session, "after_transaction_end", self._ended)


async def open_writers_during(
    stack: SandboxStack, method: str, request: Awaitable[Any]
) -> tuple[int, Any]:
    """Send `request`, hold its first `method` call, and count open write transactions then."""
    hold = stack.slack.faults.hold(method)
    with OpenWriters(stack) as writers:
        sent = asyncio.ensure_future(request)
        await asyncio.wait_for(hold.arrived.wait(), timeout=10)
        during = writers.open
        hold.release()
        answer = await asyncio.wait_for(sent, timeout=10)
    return during, answer


async def test_first_run_joins_the_channel_before_the_transaction(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d, slack = stack.driver, stack.slack
    pat = slack.add_user(stack.ws, "pat")
    design = slack.add_channel(stack.ws, "design", members=[pat], bot_member=False)
    await d.command(pat, "new", channel=design)
    modal = await d.modal(pat)
    values = {
        "title": {"title": {"type": "plain_text_input", "value": "Design feels effortless"}},
        "level": {"level": {"type": "static_select", "selected_option": {"value": "team"}}},
        "owner": {"owner": {"type": "users_select", "selected_user": pat.id}},
        "team": {
            "team": {"type": "static_select", "selected_option": {"value": f"new:{design.id}"}}
        },
    }
    during, saved = await open_writers_during(
        stack, "conversations.join", d.submit(pat, modal, values)
    )
    assert during == 0
    assert saved.json is not None and saved.json["response_action"] == "update", saved.json
    assert stack.ws.bot_user_id in design.members
    async with stack.app.sessions() as session:
        team = (await session.execute(select(Team))).scalar_one()
        objective = (await session.execute(select(Objective))).scalar_one()
    assert (team.channel_id, objective.team_id) == (design.id, team.id)


async def test_a_new_person_is_looked_up_before_the_transaction(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    boss = stack.slack.add_user(stack.ws, "boss", admin=True)
    during, answer = await open_writers_during(
        stack, "users.info", stack.driver.command(boss, "mine")
    )
    assert during == 0
    assert answer.status == 200
    async with stack.app.sessions() as session:
        person = (await session.execute(select(Person))).scalar_one()
    assert (person.slack_user_id, person.role) == (boss.id, "admin")  # what users.info said
