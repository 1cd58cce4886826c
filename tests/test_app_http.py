"""The Bolt app through the real HTTP endpoint: signed requests in, answers and Web API
calls out. Slack's side is the project's emulator; Bolt, slack_sdk and the database are real."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import OkrApp, build_app
from bot.config import Mode, load_settings
from bot.models import SlackBot, SlackOAuthState, Workspace
from bot.sandbox.emulator import User
from bot.web import WebApp
from tests import slack_requests
from tests import slack_requests as slack
from tests.databases import Database
from tests.fake_slack import FakeSlack

TOKEN = "xoxb-test-1234-abcdef"
TEAM = "T0ACME"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_workspace_with(token=TOKEN, team_id=TEAM)
    await fake.start()
    yield fake
    await fake.stop()


def _settings(database: Database, fake: FakeSlack, **extra: Any) -> Any:
    return load_settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=slack.SIGNING_SECRET,
        slack_api_url=fake.url,
        database_url=database.urls.sync_url.render_as_string(hide_password=False),
        slack_http_timeout_seconds=2,
        **extra,
    )


@pytest.fixture
async def bot(database: Database, fake_slack: FakeSlack) -> AsyncIterator[OkrApp]:
    app = build_app(_settings(database, fake_slack))
    yield app
    await app.engine.dispose()


@pytest.fixture
async def http(bot: OkrApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=WebApp(bot))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client


async def post_command(
    http: httpx.AsyncClient, fake: FakeSlack, text: str, **kwargs: Any
) -> httpx.Response:
    body = slack.slash_command(
        text, team_id=kwargs.pop("team_id", TEAM), response_url=fake.response_url_for_commands
    )
    headers = slack.signed_headers(body, **kwargs)
    return await http.post("/slack/events", content=body, headers=headers)


async def post_event(
    http: httpx.AsyncClient, event: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    body = slack.event(event, team_id=TEAM, **kwargs)
    headers = slack.signed_headers(body, content_type="application/json")
    return await http.post("/slack/events", content=body, headers=headers)


def rendered(blocks: list[dict[str, Any]]) -> str:
    """The text a person reads in these blocks."""
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            label = element.get("text", "")
            out.append(label["text"] if isinstance(label, dict) else label)
    return "\n".join(out)


async def eventually(check: Callable[[], Any], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("typed", "answer_contains"),
    [
        ("help", ["*Commands*", "`/okr help`", "Key results"]),
        ("", ["*Commands*", "`/okr help`"]),
        ("  HELP  ", ["*Commands*"]),
        ("hepl", ["I don't know the command `hepl`", "Did you mean `/okr help`?"]),
        ("frobnicate", ["I don't know the command `frobnicate`", "Type `/okr help`"]),
        ("<!channel> <@U2>", ["`&lt;!channel&gt;`"]),
    ],
)
async def test_okr_command_answers(
    http: httpx.AsyncClient, fake_slack: FakeSlack, typed: str, answer_contains: list[str]
) -> None:
    response = await post_command(http, fake_slack, typed)
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    text = rendered(body["blocks"])
    for expected in answer_contains:
        assert expected in text
    assert "<!channel>" not in json.dumps(body)  # nothing a person typed can ping anyone


async def test_forged_or_stale_requests_get_401_and_change_nothing(
    http: httpx.AsyncClient, fake_slack: FakeSlack, bot: OkrApp
) -> None:
    forged = await post_command(http, fake_slack, "help", secret="not-the-secret")
    stale = await post_command(http, fake_slack, "help", timestamp=int(time.time()) - 301)
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert fake_slack.calls == []
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Workspace)) == 0


async def test_single_token_mode_learns_its_workspace_and_stores_no_token(
    http: httpx.AsyncClient, fake_slack: FakeSlack, bot: OkrApp
) -> None:
    assert (await post_command(http, fake_slack, "help")).status_code == 200
    assert (await post_command(http, fake_slack, "help")).status_code == 200
    assert len(fake_slack.called("auth.test")) == 2  # once to seed, once for the cached authorize
    async with bot.sessions() as session:
        rows = (await session.execute(select(SlackBot))).scalars().all()
        assert [(r.team_id, r.bot_token, r.bot_user_id) for r in rows] == [
            (TEAM, None, fake_slack.workspace.bot_user_id)
        ]
        ws = (await session.execute(select(Workspace))).scalar_one()
        assert (ws.slack_team_id, ws.name) == (TEAM, "Acme")


async def test_a_request_from_an_unknown_workspace_runs_nothing(
    http: httpx.AsyncClient, fake_slack: FakeSlack
) -> None:
    response = await post_command(http, fake_slack, "help", team_id="T0OTHER")
    assert response.status_code == 200
    assert "blocks" not in response.text  # no listener ran
    await eventually(lambda: fake_slack.called("response_url"))
    told = fake_slack.called("response_url")[0].args
    assert "not installed" in told["text"] or "installation" in told["text"].lower()


async def test_app_home_is_published(http: httpx.AsyncClient, fake_slack: FakeSlack) -> None:
    fake_slack.state.users["U7"] = User("U7", TEAM, "pat")
    response = await post_event(
        http, {"type": "app_home_opened", "user": "U7", "channel": "D1", "tab": "home"}
    )
    assert response.status_code == 200
    await eventually(lambda: fake_slack.called("views.publish"))
    call = fake_slack.called("views.publish")[0]
    assert call.args["user_id"] == "U7" and call.token == TOKEN
    view = (
        call.args["view"] if isinstance(call.args["view"], dict) else json.loads(call.args["view"])
    )
    assert view["type"] == "home" and "/okr help" in rendered(view["blocks"])


async def test_uninstall_forgets_the_token(
    http: httpx.AsyncClient, fake_slack: FakeSlack, bot: OkrApp
) -> None:
    await post_command(http, fake_slack, "help")  # seeds the installation
    response = await post_event(http, {"type": "app_uninstalled"}, event_id="Ev9")
    assert response.status_code == 200

    async def gone() -> bool:
        async with bot.sessions() as session:
            left = await session.scalar(select(func.count()).select_from(SlackBot))
            state = await session.scalar(select(Workspace.state))
            return left == 0 and state == "uninstalled"

    await eventually(gone)


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"ok": True}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ok"] is True


async def test_not_ready_before_migrations(empty_database: Database, fake_slack: FakeSlack) -> None:
    app = build_app(_settings(empty_database, fake_slack))
    transport = httpx.ASGITransport(app=WebApp(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/readyz")
    await app.engine.dispose()
    assert response.status_code == 503
    assert "not migrated" in response.json()["detail"]


async def test_oauth_install_page_issues_a_state(database: Database, fake_slack: FakeSlack) -> None:
    settings = load_settings(
        slack_client_id="111.222",
        slack_client_secret="client-secret-value",
        slack_signing_secret=slack.SIGNING_SECRET,
        token_encryption_key=Fernet.generate_key().decode(),
        slack_api_url=fake_slack.url,
        database_url=database.urls.sync_url.render_as_string(hide_password=False),
    )
    settings.require(Mode.SERVE)
    app = build_app(settings)
    transport = httpx.ASGITransport(app=WebApp(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/slack/install")
    async with app.sessions() as session:
        states = (await session.execute(select(SlackOAuthState.state))).scalars().all()
    await app.engine.dispose()
    assert response.status_code == 200
    authorize = fake_slack.url.removesuffix("api/") + "oauth/v2/authorize?"
    assert authorize in response.text  # the Slack the bot talks to, not a hard-coded one
    assert f"state={states[0]}" in response.text and len(states) == 1
    assert "client_id=111.222" in response.text and "chat:write,commands" in response.text


async def test_oauth_install_end_to_end(database: Database) -> None:
    """/slack/install -> Slack's authorize page -> /slack/oauth_redirect -> an encrypted
    installation, a workspace whose /okr works, and an installer who is an admin because
    Slack says so (asked when they first act)."""
    import html
    import re

    from sqlalchemy import text

    from bot.models import Person

    key = Fernet.generate_key().decode()
    async with FakeSlack() as slack:
        ws = slack.add_workspace("Globex", installed=False)
        installer = slack.add_user(ws, "hank", admin=True)
        slack.add_oauth_client(
            "111.222", "client-secret-value", redirect_uri="https://bot/slack/oauth_redirect"
        )
        settings = load_settings(
            slack_client_id="111.222",
            slack_client_secret="client-secret-value",
            slack_signing_secret=slack_requests.SIGNING_SECRET,
            token_encryption_key=key,
            slack_api_url=slack.api_url,
            database_url=database.urls.sync_url.render_as_string(hide_password=False),
        )
        app = build_app(settings)
        transport = httpx.ASGITransport(app=WebApp(app))
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="https://bot"
            ) as bot_side,  # Secure cookie
            httpx.AsyncClient() as browser,
        ):
            page = await bot_side.get("/slack/install")
            link = html.unescape(re.search(r'href="(http[^"]+authorize[^"]+)"', page.text).group(1))  # type: ignore[union-attr]
            to_slack = await browser.get(link)
            assert to_slack.status_code == 302
            back = httpx.URL(to_slack.headers["location"])
            done = await bot_side.get(back.raw_path.decode())
            assert done.status_code == 200, done.text
            slack_requests_body = slack_requests.slash_command(
                "mine",
                team_id=ws.id,
                user_id=installer.id,
                response_url=slack.response_url(
                    team_id=ws.id, channel_id="C1", user_id=installer.id
                ),
            )
            command = await bot_side.post(
                "/slack/events",
                content=slack_requests_body,
                headers=slack_requests.signed_headers(slack_requests_body),
            )
        async with app.engine.connect() as connection:
            stored = (
                await connection.execute(text("SELECT team_id, bot_token FROM slack_bot"))
            ).one()
        async with app.sessions() as session:
            person = (await session.execute(select(Person))).scalar_one()
        await app.engine.dispose()
    assert stored[0] == ws.id and not stored[1].startswith("xox")
    assert (person.slack_user_id, person.role) == (installer.id, "admin")  # Slack says so
    assert command.status_code == 200 and "Your OKRs" in command.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"x" * (1024 * 1024 + 1), "application/json", 413),  # refused before the signature
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded", 400),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded", 400),
        (b'{"type": "url_verification", "challenge": "c"}', "application/json", 200),
    ],
)
async def test_oversized_and_malformed_bodies_are_refused_before_bolt(
    http: httpx.AsyncClient, body: bytes, content_type: str, status: int
) -> None:
    answer = await http.post(
        "/slack/events",
        content=body,
        headers=slack_requests.signed_headers(body.decode("latin-1"), content_type=content_type),
    )
    assert answer.status_code == status, answer.text


async def test_a_huge_body_announced_by_its_length_is_not_read(http: httpx.AsyncClient) -> None:
    read = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(400):  # 400 MB if anyone read it all
            read += 1
            yield b"x" * (1024 * 1024)

    answer = await http.post(
        "/slack/events",
        content=stream(),
        headers={"content-type": "application/json", "content-length": str(400 * 1024 * 1024)},
    )
    assert answer.status_code == 413 and read <= 2


@pytest.mark.parametrize("owns_engine", [True, False])
async def test_shutdown_leaves_a_shared_engine_to_its_owner(bot: OkrApp, owns_engine: bool) -> None:
    """`make run` serves and runs the clock on one engine: the server's shutdown must not
    dispose of it while the clock may still be mid-tick (the clock's owner does, after)."""
    from sqlalchemy import event

    disposed: list[bool] = []
    event.listen(bot.engine.sync_engine, "engine_disposed", lambda _e: disposed.append(True))
    web = WebApp(bot, owns_engine=owns_engine)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await web({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]
    assert sent[-1] == "lifespan.shutdown.complete"
    assert disposed == ([True] if owns_engine else [])
