"""The installation store: tokens encrypted at rest, keys rotate, uninstall forgets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import make_sessionmaker
from bot.models import Person, SlackBot, SlackInstallation, Workspace
from bot.slack.installation_store import DatabaseInstallationStore
from bot.slack.seed import SingleTokenSeeder, TokenRejected
from bot.slack.tokens import TokenCipher, TokenCipherError
from tests.fake_slack import FakeSlack

KEY_OLD, KEY_NEW = Fernet.generate_key(), Fernet.generate_key()


def installation(
    team_id: str = "T1", bot_token: str = "xoxb-111-secret", **extra: object
) -> Installation:
    return Installation(
        app_id="AOKR",
        team_id=team_id,
        team_name="Acme",
        bot_token=bot_token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes=["commands", "chat:write"],
        user_id="UINSTALLER",
        user_token="xoxp-222-secret",
        user_scopes=["identify"],
        installed_at=time.time(),
        **extra,  # type: ignore[arg-type]
    )


def store(engine: AsyncEngine, keys: list[bytes], **kwargs: object) -> DatabaseInstallationStore:
    return DatabaseInstallationStore(
        sessions=make_sessionmaker(engine),
        client_id="111.222",
        cipher=TokenCipher(keys),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_tokens_are_encrypted_at_rest_and_round_trip(engine: AsyncEngine) -> None:
    s = store(engine, [KEY_OLD])
    await s.async_save(installation())
    async with engine.connect() as connection:
        raw = (await connection.execute(text("SELECT bot_token FROM slack_bot"))).scalar_one()
        raw_install = (
            await connection.execute(text("SELECT bot_token, user_token FROM slack_installation"))
        ).one()
    assert not raw.startswith("xox") and "secret" not in raw
    assert all(not value.startswith("xox") for value in raw_install)
    bot = await s.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-111-secret" and bot.bot_user_id == "UBOT"
    found = await s.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.user_token == "xoxp-222-secret"
    assert await s.async_find_bot(enterprise_id=None, team_id="T2") is None


async def test_installing_makes_nobody_an_admin(engine: AsyncEngine) -> None:
    """Whoever completes the install is an admin only if Slack says so, when first seen."""
    for _ in range(2):  # a reinstall neither
        await store(engine, [KEY_OLD]).async_save(installation())
    async with make_sessionmaker(engine)() as session:
        ws = (await session.execute(select(Workspace))).scalar_one()
        people = (await session.execute(select(Person))).scalars().all()
    assert (ws.slack_team_id, ws.name) == ("T1", "Acme")
    assert people == []


async def test_keys_rotate_by_prepending_a_new_one(engine: AsyncEngine) -> None:
    await store(engine, [KEY_OLD]).async_save(installation())
    rotated = store(engine, [KEY_NEW, KEY_OLD])
    bot = await rotated.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-111-secret"
    await rotated.async_save(installation(bot_token="xoxb-333-newer"))
    newest = await store(engine, [KEY_NEW]).async_find_bot(enterprise_id=None, team_id="T1")
    assert newest is not None and newest.bot_token == "xoxb-333-newer"  # newest install wins
    with pytest.raises(TokenCipherError, match="does not decrypt"):
        await store(engine, [Fernet.generate_key()]).async_find_bot(
            enterprise_id=None, team_id="T1"
        )


async def test_single_token_mode_without_a_key_stores_no_token(
    engine: AsyncEngine, fake: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    seeder = SingleTokenSeeder(client=AsyncWebClient(base_url=fake.url), token="xoxb-env")
    s = store(engine, [], fallback_bot_token="xoxb-env", seeder=seeder)
    await s.ensure_seeded()
    async with engine.connect() as connection:
        raw = (await connection.execute(text("SELECT team_id, bot_token FROM slack_bot"))).one()
    assert tuple(raw) == ("T7", None)
    bot = await s.async_find_bot(enterprise_id=None, team_id="T7")
    assert bot is not None and bot.bot_token == "xoxb-env"
    with pytest.raises(TokenCipherError):  # any other token would need a key
        await s.async_save_bot(installation(bot_token="xoxb-another").to_bot())


async def test_the_env_token_is_never_handed_out_for_another_workspace(
    engine: AsyncEngine, fake: FakeSlack
) -> None:
    """SLACK_BOT_TOKEN was switched to workspace T7; T1's old row (no token stored) must not
    get T7's token."""
    from slack_sdk.web.async_client import AsyncWebClient

    earlier = store(engine, [], fallback_bot_token="xoxb-old")
    await earlier.async_save_bot(installation("T1", bot_token="xoxb-old").to_bot())
    seeder = SingleTokenSeeder(client=AsyncWebClient(base_url=fake.url), token="xoxb-env")
    now = store(engine, [], fallback_bot_token="xoxb-env", seeder=seeder)
    assert await now.async_find_bot(enterprise_id=None, team_id="T1") is None
    found = await now.async_find_bot(enterprise_id=None, team_id="T7")
    assert found is not None and found.bot_token == "xoxb-env"


async def test_new_workspaces_take_the_default_time_zone(engine: AsyncEngine) -> None:
    s = store(engine, [KEY_OLD], default_timezone="Europe/Berlin")
    await s.async_save(installation("T3"))
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Workspace.timezone)) == "Europe/Berlin"


async def test_org_wide_installs_are_found_by_enterprise(engine: AsyncEngine) -> None:
    s = store(engine, [KEY_OLD])
    org = installation(team_id=None, enterprise_id="E1", is_enterprise_install=True)  # type: ignore[arg-type]
    await s.async_save(org)
    bot = await s.async_find_bot(enterprise_id="E1", team_id="T9", is_enterprise_install=True)
    assert bot is not None and bot.enterprise_id == "E1" and bot.team_id is None


async def test_uninstall_deletes_every_token_of_the_workspace_only(engine: AsyncEngine) -> None:
    s = store(engine, [KEY_OLD])
    await s.async_save(installation("T1"))
    await s.async_save(installation("T2"))
    await s.async_delete_all(enterprise_id=None, team_id="T1")
    async with make_sessionmaker(engine)() as session:
        bots = (await session.execute(select(SlackBot.team_id))).scalars().all()
        installs = (await session.execute(select(SlackInstallation.team_id))).scalars().all()
        states = dict(
            (await session.execute(select(Workspace.slack_team_id, Workspace.state))).all()
        )
    assert bots == ["T2"] and installs == ["T2"]
    assert states == {"T1": "uninstalled", "T2": "active"}
    await s.async_save(installation("T1"))  # reinstalling brings the workspace back
    async with make_sessionmaker(engine)() as session:
        assert (
            await session.scalar(select(Workspace.state).where(Workspace.slack_team_id == "T1"))
            == "active"
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_workspace_with(token="xoxb-env", team_id="T7")
    await fake.start()
    yield fake
    await fake.stop()


async def test_seeding_learns_the_workspace_once_and_saves_it(
    engine: AsyncEngine, fake: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    seeder = SingleTokenSeeder(client=AsyncWebClient(base_url=fake.url), token="xoxb-env")
    s = store(engine, [], fallback_bot_token="xoxb-env", seeder=seeder)
    first = await s.ensure_seeded()
    again = await s.ensure_seeded()
    assert (
        first is not None
        and first.team_id == "T7"
        and first.bot_scopes == fake.state.tokens["xoxb-env"].scopes
    )
    assert again is first and len(fake.called("auth.test")) == 1
    async with make_sessionmaker(engine)() as session:
        assert len((await session.execute(select(SlackBot))).scalars().all()) == 1


async def test_a_rejected_token_is_a_clear_error(engine: AsyncEngine, fake: FakeSlack) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    seeder = SingleTokenSeeder(client=AsyncWebClient(base_url=fake.url), token="xoxb-wrong")
    with pytest.raises(
        TokenRejected, match=r"SLACK_BOT_TOKEN was rejected by Slack \(invalid_auth\)"
    ):
        await store(engine, [], fallback_bot_token="xoxb-wrong", seeder=seeder).ensure_seeded()


async def test_unreachable_slack_is_retried_on_the_next_lookup(
    engine: AsyncEngine, fake: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    url = fake.url
    await fake.stop()
    client = AsyncWebClient(base_url=url, timeout=1)
    seeder = SingleTokenSeeder(client=client, token="xoxb-env")
    s = store(engine, [], fallback_bot_token="xoxb-env", seeder=seeder)
    assert await s.ensure_seeded() is None  # start-up goes on without Slack
    await fake.start()
    client.base_url = fake.url
    bot = await s.async_find_bot(enterprise_id=None, team_id="T7")
    assert bot is not None and bot.bot_token == "xoxb-env"


async def test_after_uninstall_a_revoked_env_token_is_not_reinstalled(
    engine: AsyncEngine, fake: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    seeder = SingleTokenSeeder(client=AsyncWebClient(base_url=fake.url), token="xoxb-env")
    s = store(engine, [], fallback_bot_token="xoxb-env", seeder=seeder)
    assert await s.ensure_seeded() is not None
    fake.revoke_tokens(fake.workspace)
    await s.async_delete_all(enterprise_id=None, team_id="T7")
    assert await s.async_find_bot(enterprise_id=None, team_id="T7") is None
    async with make_sessionmaker(engine)() as session:
        assert (await session.execute(select(SlackBot))).scalars().all() == []


async def test_oauth_states_of_abandoned_installs_are_dropped_once_expired(
    engine: AsyncEngine,
) -> None:
    from datetime import timedelta

    from bot import clock
    from bot.models import SlackOAuthState
    from bot.slack.oauth_state import DatabaseOAuthStateStore

    store = DatabaseOAuthStateStore(sessions=make_sessionmaker(engine), expiration_seconds=600)
    before = clock.offset()
    try:
        for _ in range(3):  # three visits of /slack/install, never finished
            await store.async_issue()
        clock.set_offset(before + timedelta(minutes=11))
        latest = await store.async_issue()
        async with make_sessionmaker(engine)() as session:
            left = (await session.execute(select(SlackOAuthState.state))).scalars().all()
        assert left == [latest]
        assert await store.async_consume(latest)
    finally:
        clock.set_offset(before)


async def test_a_revoked_bot_token_is_not_kept_at_rest(engine: AsyncEngine) -> None:
    """`tokens_revoked` deletes the bot row; the install rows held the same token, encrypted."""
    s = store(engine, [KEY_OLD])
    await s.async_save(installation())
    await s.async_delete_bot(enterprise_id=None, team_id="T1")
    async with engine.connect() as connection:
        bots = (await connection.execute(text("SELECT count(*) FROM slack_bot"))).scalar_one()
        kept = (
            await connection.execute(text("SELECT bot_token, user_token FROM slack_installation"))
        ).one()
    assert bots == 0 and kept[0] is None and kept[1] is not None  # the user token is another's
    assert await s.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_an_org_wide_install_serves_each_workspace_of_the_org(engine: AsyncEngine) -> None:
    """Enterprise Grid: the install has no team id; a workspace first seen without its org id
    learns it from a later request, and the clock then finds the org's bot token for it."""
    from bot.config import load_settings
    from bot.db import make_reader_sessionmaker
    from bot.repository.workspaces import ensure_workspace
    from bot.services.actors import note_enterprise
    from bot.slack.clients import WorkspaceClients

    s = store(engine, [KEY_OLD])
    org = installation(team_id=None, enterprise_id="E1", is_enterprise_install=True)  # type: ignore[arg-type]
    await s.async_save(org)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        workspace = await ensure_workspace(session, slack_team_id="T9")  # a command, first
    clients = WorkspaceClients(
        settings=load_settings(database_url="sqlite:///unused.db"),
        store=s,
        readers=make_reader_sessionmaker(engine),
    )
    assert await clients.get(workspace.id) is None  # its org is not known yet
    await note_enterprise(sessions, slack_team_id="T9", enterprise_id="E1")
    client = await clients.get(workspace.id)
    assert client is not None and client.token == "xoxb-111-secret"
