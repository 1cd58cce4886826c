"""Never a 200 without a record: when authorization cannot tell whether a workspace is ours
(the database is away, a stored token no longer decrypts), an event is spooled and stored
later, a command gets one clear line, and /readyz says what is wrong."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.config import load_settings
from bot.listeners.unavailable import TRY_AGAIN
from bot.models import InboxEvent
from bot.sandbox.stack import SandboxStack
from bot.services import inbox
from bot.web import WebApp
from tests.databases import Database

pytestmark = pytest.mark.usefixtures("monday_ten")


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def database_away(stack: SandboxStack, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stack.app is not None

    async def away(**_kwargs: object) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("database is away"))

    monkeypatch.setattr(stack.app.store, "_find_stored_bot", away)


async def test_an_event_during_an_outage_is_spooled_then_stored(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    ana = stack.slack.add_user(stack.ws, "ana")
    database_away(stack, monkeypatch)
    await stack.driver.say(ana, "KR1 45")  # a DM to the bot
    assert stack.driver.last_answers[0].status == 200  # acknowledged: it is on disk
    assert stack.app.spool.pending() == 1
    monkeypatch.undo()
    sessions = stack.app.sessions

    async def keep(record: dict[str, object]) -> None:
        await inbox.keep_spooled(sessions, record)

    assert await stack.app.spool.drain(keep) == 1
    async with sessions() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
    assert row.payload["event"]["text"] == "KR1 45" and row.processed_at is None


async def test_a_command_during_an_outage_says_try_again(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    ana = stack.slack.add_user(stack.ws, "ana")
    database_away(stack, monkeypatch)
    answer = await stack.driver.command(ana, "mine")
    assert answer.status == 200 and TRY_AGAIN in answer.body
    assert stack.app.spool.pending() == 0  # a command is not spooled: the person retries


async def test_readyz_says_when_stored_tokens_no_longer_decrypt(database: Database) -> None:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with SandboxStack(database_url=url, over_http=False) as stack:
        assert stack.app is not None and stack.ws is not None
        from slack_sdk.oauth.installation_store import Bot

        keyed = load_settings(
            database_url=url,
            token_encryption_key=old,
            slack_client_id="111.222",
            slack_client_secret="s",
            slack_signing_secret="x",
        )
        from bot.app import build_app

        app = build_app(keyed)
        await app.store.async_save_bot(
            Bot(
                app_id="A1", enterprise_id=None, team_id=stack.ws.id, bot_token="xoxb-9",
                bot_id="B9", bot_user_id="U9", installed_at=1.0,
            )
        )  # fmt: skip
        rotated_away = build_app(keyed.model_copy(update={"token_encryption_key": SecretStr(new)}))
        for candidate, ready in ((app, True), (rotated_away, False)):
            transport = httpx.ASGITransport(app=WebApp(candidate))
            async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
                answer = await http.get("/readyz")
            assert (answer.status_code == 200) is ready, answer.text
            if not ready:
                assert "does not decrypt" in answer.text
            await candidate.engine.dispose()


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("INSERT", {}, ConnectionResetError("server closed the connection")),
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),  # all connections busy
    ],
)
async def test_a_database_lost_mid_command_says_try_again(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Authorized, then the database goes: the person is asked to try again, not shown an
    error (Bolt's own answer would be a 500)."""
    from bot.services import intake

    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    ana = stack.slack.add_user(stack.ws, "ana")

    async def lost(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(intake, "check_in", lost)
    answer = await stack.driver.command(ana, "update KR1 5")
    assert answer.status == 200 and TRY_AGAIN in answer.body


async def test_a_database_blip_after_a_reply_was_acknowledged_leaves_its_row_for_the_retry(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The reply's inbox row was stored and Slack answered; processing it then finds no free
    connection. Nothing is answered twice, no background task fails unseen, and the row waits
    for the clock's inbox retry."""
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    ana = stack.slack.add_user(stack.ws, "ana")

    async def no_connection(*_args: object, **_kwargs: object) -> None:
        raise PoolTimeout("QueuePool limit reached, connection timed out")

    monkeypatch.setattr("bot.listeners.replies.process_row", no_connection)
    with caplog.at_level(logging.WARNING):
        await stack.driver.say(ana, "KR1 45")
        await asyncio.sleep(0.1)
        gc.collect()
    assert stack.driver.last_answers[0].status == 200
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if "never retrieved" in m], messages
    assert "database unavailable after the ack; the clock retries the inbox row" in messages
    async with stack.app.sessions() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
    assert row.processed_at is None
