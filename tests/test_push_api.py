"""The push API over HTTP (the web front's ASGI app, FastAPI under /api/): tokens made with
`/okr token` in Slack; valid, revoked and forged tokens; replays and a reused key with a new
body; another workspace's ref; each bad body named; any JSON body answered without a 500."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import clock
from bot.models import ApiToken, Checkin, KeyResult, Person
from bot.repository.workspaces import ensure_person, ensure_workspace
from bot.sandbox.stack import SandboxStack
from bot.sandbox.world import World, build_world
from bot.services.api_checkins import prune_idempotency
from bot.web import WebApp
from tests.databases import Database

pytestmark = pytest.mark.usefixtures("monday_ten")
TOKEN = re.compile(r"okr_[A-Za-z0-9_-]{20,}")


@dataclass
class Api:
    stack: SandboxStack
    world: World
    client: httpx.AsyncClient
    token: str
    facilitator_id: str

    async def post(
        self, ref: str, body: Any, *, token: str | None = None, key: str | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:  # fmt: skip
        headers = {"Content-Type": "application/json"}
        if token if token is not None else self.token:
            headers["Authorization"] = f"Bearer {token if token is not None else self.token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        content = raw if raw is not None else json.dumps(body).encode()
        return await self.client.post(
            f"/api/v1/key-results/{ref}/checkins", content=content, headers=headers
        )

    async def rows(self) -> list[Checkin]:
        assert self.stack.app is not None
        async with self.stack.app.sessions() as session:
            found = await session.execute(select(Checkin).where(Checkin.source == "api"))
            return list(found.scalars())


async def make_token(stack: SandboxStack, user_name: str, name: str) -> tuple[str, str]:
    """A facilitator of the stack's workspace makes a token in Slack; returns it and them."""
    assert stack.app is not None and stack.ws is not None and stack.driver is not None
    user = stack.slack.add_user(stack.ws, user_name)
    async with stack.app.sessions.begin() as session:
        workspace = await ensure_workspace(session, slack_team_id=stack.ws.id)
        person = await ensure_person(
            session, workspace_id=workspace.id, slack_user_id=user.id, name=user.name
        )
        person.role = "facilitator"
    answer = await stack.driver.command(user, f"token create {name}")
    said = str((answer.json or {}).get("text"))
    assert "it is shown only this once" in said
    found = TOKEN.search(said)
    assert found is not None
    return found.group(0), user.id


@pytest.fixture
async def api(ceremony_stack: SandboxStack) -> AsyncIterator[Api]:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None
    world = await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    token, facilitator = await make_token(stack, "fac", "ci-signups")
    transport = httpx.ASGITransport(app=WebApp(stack.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield Api(stack, world, client, token, facilitator)


async def test_a_valid_token_records_a_check_in_as_the_token(api: Api) -> None:
    answer = await api.post("KR1", {"value": 45, "confidence": 7, "note": "from CI"})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "key_result": "KR1", "period": "2026-W49", "value": 45.0, "confidence": 7,
        "status": None, "note": "from CI", "source": "api", "token": "ci-signups",
    }  # fmt: skip
    answer = await api.post("kr1", {"value": "1.2k", "status": "at risk"})
    assert answer.status_code == 201 and answer.json()["value"] == 1200.0
    assert answer.json()["status"] == "at_risk"
    [first, second] = sorted(await api.rows(), key=lambda r: r.id)
    assert api.stack.app is not None
    async with api.stack.app.sessions() as session:
        token = (await session.execute(select(ApiToken))).scalar_one()
        author = await session.get(Person, first.author_person_id)
    assert author is not None and author.slack_user_id == api.facilitator_id
    assert first.api_token_id == token.id and second.api_token_id == token.id
    assert token.token_hash != api.token and api.token not in token.token_hash


async def test_the_openapi_document_is_published(api: Api) -> None:
    answer = await api.client.get("/api/v1/openapi.json")
    document = answer.json()
    operation = document["paths"]["/api/v1/key-results/{ref}/checkins"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"value", "confidence", "status", "note"}
    assert {"201", "401", "404", "422", "429"} <= set(operation["responses"])


@pytest.mark.parametrize(
    "token", ["", "okr_forged-0000000000000000000000000000000000", "xoxb-123", "okr_" + "x" * 300]
)
async def test_forged_or_missing_tokens_are_401(api: Api, token: str) -> None:
    answer = await api.post("KR1", {"value": 45}, token=token)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert "not valid" in answer.json()["error"]
    assert await api.rows() == []


async def test_a_revoked_token_is_401(api: Api) -> None:
    assert (await api.post("KR1", {"value": 45})).status_code == 201
    stack = api.stack
    assert stack.driver is not None
    fac = stack.slack.state.users[api.facilitator_id]
    answer = await stack.driver.command(fac, "token revoke ci-signups")
    assert "is revoked" in str((answer.json or {}).get("text"))
    listed = await stack.driver.command(fac, "token list")
    assert "`ci-signups` made by" in str((listed.json or {}).get("text"))
    assert api.token not in str(listed.json)
    assert (await api.post("KR1", {"value": 46})).status_code == 401


@pytest.mark.parametrize(
    "change", [{"role": "member"}, {"is_deactivated": True}], ids=["demoted", "deactivated"]
)
async def test_a_token_stops_when_its_creator_loses_their_say(
    api: Api, change: dict[str, object]
) -> None:
    """A token acts with its creator's say: demoted or deactivated, it is refused (401), and
    made a facilitator again, it works again."""
    assert api.stack.app is not None
    assert (await api.post("KR1", {"value": 45})).status_code == 201

    async def creator(**values: object) -> None:
        async with api.stack.app.sessions.begin() as session:  # type: ignore[union-attr]
            person = (
                await session.execute(
                    select(Person).where(Person.slack_user_id == api.facilitator_id)
                )
            ).scalar_one()
            for name, value in values.items():
                setattr(person, name, value)

    await creator(**change)
    assert (await api.post("KR1", {"value": 46})).status_code == 401
    await creator(role="facilitator", is_deactivated=False)
    assert (await api.post("KR1", {"value": 47})).status_code == 201
    assert [r.value for r in await api.rows()] == [45, 47]


async def test_revoking_a_token_by_a_name_echoes_it_escaped(api: Api) -> None:
    assert api.stack.driver is not None
    fac = api.stack.slack.state.users[api.facilitator_id]
    answer = await api.stack.driver.command(fac, "token revoke <!channel>")
    said = str((answer.json or {}).get("text"))
    assert "There is no token named" in said and "<!channel>" not in said


async def test_only_facilitators_manage_tokens(api: Api) -> None:
    assert api.stack.driver is not None
    owner = api.world.teams[0].owners[0]
    answer = await api.stack.driver.command(owner, "token create mine")
    assert "made and revoked by facilitators" in str((answer.json or {}).get("text"))


async def test_a_replay_gets_the_first_answer_and_records_once(api: Api) -> None:
    first = await api.post("KR1", {"value": 45}, key="run-812")
    again = await api.post("KR1", {"value": 45}, key="run-812")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(await api.rows()) == 1
    reused = await api.post("KR1", {"value": 50}, key="run-812")
    assert reused.status_code == 422
    assert reused.json() == {
        "error": "This Idempotency-Key was used with a different request.",
        "field": "Idempotency-Key",
    }
    other_ref = await api.post("KR2", {"value": 45}, key="run-812")
    assert other_ref.status_code == 422
    assert [r.value for r in await api.rows()] == [45.0]


async def test_another_workspaces_ref_is_404(api: Api, database: Database) -> None:
    """A second workspace in the same database, with more key results than the first."""
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(
        database_url=url, over_http=False, slack=api.stack.slack, workspace_name="Other"
    ) as other:
        assert other.app is not None and other.ws is not None
        await build_world(other.app.sessions, other.slack, other.ws, owners_per_team=3)
        other_token, _ = await make_token(other, "fac2", "other-ci")
        assert (await api.post("KR3", {"value": 45})).status_code == 404
        answer = await api.post("KR3", {"value": 45}, token=other_token)
        assert answer.status_code == 201
        # The same ref in each workspace is each workspace's own key result.
        assert (await api.post("KR1", {"value": 11}, token=other_token)).status_code == 201
        assert (await api.post("KR1", {"value": 12})).status_code == 201
        assert api.stack.app is not None
        async with api.stack.app.sessions() as session:
            rows = await session.execute(
                select(Checkin.value, KeyResult.workspace_id, KeyResult.ref_number)
                .join(KeyResult, KeyResult.id == Checkin.key_result_id)
                .where(Checkin.source == "api")
                .order_by(Checkin.id)
            )
            found = [(value, ref) for value, _ws, ref in rows.all()]
        assert found == [(45.0, 3), (11.0, 1), (12.0, 1)]


BAD_BODIES: list[tuple[bytes, str, str]] = [
    (b"not json", "body", "not JSON"),
    (b"[1, 2]", "body", "JSON object"),
    (b"{}", "value", "value is missing"),
    (b'{"value": true}', "value", "a number, or text"),
    (b'{"value": {"n": 1}}', "value", "a number, or text"),
    (b'{"value": "forty"}', "value", "could not read"),
    (b'{"value": "45 conf 7"}', "value", "could not read"),
    (b'{"value": "+3"}', "value", "not a change"),
    (b'{"value": -3}', "value", "negative"),
    (b'{"value": 1e300}', "value", "over 1e15"),
    (b'{"value": 4, "confidence": 11}', "confidence", "0 to 10"),
    (b'{"value": 4, "confidence": 7.5}', "confidence", "0 to 10"),
    (b'{"value": 4, "status": "great"}', "status", "on_track, at_risk or off_track"),
    (b'{"value": 4, "note": 5}', "note", "The note is text"),
    (b'{"value": 4, "note": "' + b"n" * 2001 + b'"}', "note", "keep it to 2000"),
    (b'{"value": 4, "colour": "red"}', "colour", "Unknown field"),
    (b'{"value": "' + b"9" * 41 + b'"}', "value", "at most 40 characters"),
    (b"{" * 20000, "body", "over 16,384 bytes"),
    # A lone surrogate, escaped so the JSON is valid: no text can hold or store it.
    (b'{"value": 1, "\\ud800": 1}', "body", "not valid Unicode"),
    (b'{"value": 1, "note": "\\ud800"}', "body", "not valid Unicode"),
    (b'{"value": "\\udfff45"}', "body", "not valid Unicode"),
]


@pytest.mark.parametrize(
    ("raw", "field", "says"), BAD_BODIES, ids=[b[1] + ":" + b[2] for b in BAD_BODIES]
)
async def test_a_bad_body_is_422_naming_the_field(
    api: Api, raw: bytes, field: str, says: str
) -> None:
    answer = await api.post("KR1", None, raw=raw)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field and says in answer.json()["error"]
    assert await api.rows() == []


async def test_a_milestone_takes_done_and_an_archived_key_result_says_so(api: Api) -> None:
    assert api.stack.app is not None
    async with api.stack.app.sessions.begin() as session:
        kr = await session.get(KeyResult, api.world.teams[0].key_result_ids[0])
        assert kr is not None
        kr.state = "archived"
    answer = await api.post("KR1", {"value": 45})
    assert answer.status_code == 422 and "KR1 is archived" in answer.json()["error"]


async def test_the_rate_limit_is_kept_per_token(ceremony_stack: SandboxStack) -> None:
    stack = ceremony_stack
    assert stack.app is not None and stack.ws is not None
    await build_world(stack.app.sessions, stack.slack, stack.ws, owners_per_team=1)
    token, _ = await make_token(stack, "fac", "ci")
    # A second web process shares the limit: two front ends, one database.
    fronts = [WebApp(stack.app), WebApp(stack.app)]
    limit = stack.app.settings.api_requests_per_minute
    codes = []
    for n in range(limit + 2):
        transport = httpx.ASGITransport(app=fronts[n % 2])
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
            answer = await client.post(
                "/api/v1/key-results/KR1/checkins", json={"value": n},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            codes.append(answer.status_code)
    assert codes[:limit] == [201] * limit and codes[limit:] == [429, 429]


# Any code point, lone surrogates included (JSON can escape them: "\ud800").
any_text = st.text(st.characters(exclude_categories=()), max_size=50)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
bodies = json_values | st.dictionaries(
    st.sampled_from(["value", "confidence", "status", "note", "other"]) | any_text,
    json_values,
    max_size=5,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
async def test_no_json_body_gives_a_500(api: Api, body: object) -> None:
    answer = await api.post("KR1", body)
    assert answer.status_code in (201, 422), answer.text
    assert "error" in answer.json() or answer.json()["source"] == "api"


async def test_idempotency_keys_are_forgotten_after_thirty_days(api: Api) -> None:
    assert (await api.post("KR1", {"value": 45}, key="old")).status_code == 201
    assert api.stack.app is not None
    async with api.stack.app.sessions.begin() as session:
        assert await prune_idempotency(session, now=clock.now() + timedelta(days=29)) == 0
        assert await prune_idempotency(session, now=clock.now() + timedelta(days=31)) == 1
    again = await api.post("KR1", {"value": 50}, key="old")
    assert again.status_code == 201 and again.json()["value"] == 50.0
