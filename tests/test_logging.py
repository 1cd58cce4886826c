"""Logs carry workspace and request ids; tokens, secrets and message bodies never appear."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logs
from bot.app import build_app
from bot.config import load_settings
from bot.db import make_sessionmaker
from bot.web import WebApp
from tests import slack_requests as slack
from tests.databases import Database
from tests.fake_slack import FakeSlack

TOKEN = "xoxb-4242-supersecret"
KEY = Fernet.generate_key().decode()
PRIVATE_TEXT = "our-secret-acquisition-plan"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    logs.configure("DEBUG", secrets=[TOKEN, slack.SIGNING_SECRET, KEY], stream=stream)
    yield stream
    root.handlers[:] = before[0]
    root.setLevel(before[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_workspace_with(token=TOKEN, team_id="T1")
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_debug_run_leaks_nothing(
    captured: io.StringIO, database: Database, fake: FakeSlack
) -> None:
    settings = load_settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=slack.SIGNING_SECRET,
        token_encryption_key=KEY,
        slack_api_url=fake.url,
        database_url=database.urls.sync_url.render_as_string(hide_password=False),
        log_level="DEBUG",
    )
    app = build_app(settings)
    transport = httpx.ASGITransport(app=WebApp(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        for secret in (slack.SIGNING_SECRET, "wrong-secret"):
            body = slack.slash_command(
                f"help {PRIVATE_TEXT}", team_id="T1", response_url=fake.response_url_for_commands
            )
            await client.post(
                "/slack/events", content=body, headers=slack.signed_headers(body, secret=secret)
            )
    logging.getLogger("bot.test").warning("explicit %s and %s", TOKEN, KEY)
    await app.engine.dispose()
    output = captured.getvalue()
    assert output, "nothing was logged: the test would prove nothing"
    assert "Invalid request signature" in output  # the forged request was logged, without its body
    for leaked in (TOKEN, slack.SIGNING_SECRET, KEY, PRIVATE_TEXT, "xoxb-"):
        assert leaked not in output
    for line in output.splitlines():
        json.loads(line)  # every line is one JSON object


def test_lines_carry_workspace_and_request_ids(captured: io.StringIO) -> None:
    with logs.bound(workspace_id="T9", request_id="r-1"):
        logging.getLogger("bot.test").info("inside", extra={"count": 3})
    logging.getLogger("bot.test").info("outside")
    inside, outside = (json.loads(line) for line in captured.getvalue().splitlines())
    assert (inside["workspace_id"], inside["request_id"], inside["count"]) == ("T9", "r-1", 3)
    assert "workspace_id" not in outside and "request_id" not in outside


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("token xoxb-1-2-abc in a sentence", "xoxb-1-2-abc"),
        ("app token xapp-1-A1-123-abc", "xapp-1-A1-123-abc"),
        ("user token xoxp-9-9", "xoxp-9-9"),
        ("Invalid request (signature: v0=1, timestamp: 1, body: text=hello+world)", "hello"),
        ("Unhandled request ({'type': 'message', 'text': 'the plan'})", "the plan"),
        ('{"note": "private note", "value": 42}', "private note"),
    ],
)
def test_redaction(message: str, hidden: str) -> None:
    assert hidden not in logs.redact_bodies(logs.Redactor()(message))


async def test_a_database_error_logs_no_bound_values(
    captured: io.StringIO, engine: AsyncEngine
) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.models import Person

    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            session.add(Person(workspace_id=424242, slack_user_id=PRIVATE_TEXT, name=PRIVATE_TEXT))
    except IntegrityError:
        logging.getLogger("bot.test").exception(
            "could not save", extra={"detail": f"text={PRIVATE_TEXT}"}
        )
    output = captured.getvalue()
    assert "could not save" in output and "IntegrityError" in output
    assert PRIVATE_TEXT not in output
