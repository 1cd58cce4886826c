"""The key-result form's source fields: a URL and a field path checked as `/okr source`
checks them, each error on its own field and nothing saved; a good pair gives the new key
result its source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import KeyResult
from bot.sandbox.render import render_view
from bot.sandbox.stack import SandboxStack
from tests.databases import Database
from tests.test_okr_modals import kr_values, objective_values, text


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


def with_source(values: dict[str, Any], url: str | None, path: str | None) -> dict[str, Any]:
    if url is not None:
        values["source_url"] = {"source_url": text(url)}
    if path is not None:
        values["source_path"] = {"source_path": text(path)}
    return values


@pytest.mark.parametrize(
    ("url", "path", "field", "says"),
    [
        ("https://bi.example/x", None, "source_path", "Give both the source URL and the field"),
        (None, "data.total", "source_url", "Give both the source URL and the field"),
        ("gopher://bi.example/x", "a", "source_url", "starts with http:// or https://"),
        ("https://bi.example/x", "a..b", "source_path", "I could not read that field path"),
    ],
)
async def test_bad_source_fields_are_named(
    stack: SandboxStack, url: str | None, path: str | None, field: str, says: str
) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    refused = await d.submit(
        pat, modal, with_source(kr_values("Signups", "0", "500", pat), url, path)
    )
    assert refused.json is not None and refused.json["response_action"] == "errors"
    assert says in refused.json["errors"][field]
    async with stack.app.sessions() as session:
        assert (await session.execute(select(KeyResult))).first() is None


async def test_a_source_from_the_form(stack: SandboxStack) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    values = with_source(
        kr_values("Signups", "0", "500", pat), "https://bi.example/signups", "results[0].value"
    )
    await d.submit(pat, modal, values)
    assert "Added KR1." in render_view(modal.view).text
    async with stack.app.sessions() as session:
        kr = (await session.execute(select(KeyResult))).scalar_one()
    assert kr.metric_source == {
        "url": "https://bi.example/signups", "path": "results[0].value", "header": None,
    }  # fmt: skip
    answer = await d.command(pat, "source KR1")
    assert "*KR1* is pulled from `https://bi.example/signups`" in str((answer.json or {})["text"])


async def test_the_edit_form_shows_changes_and_clears_a_source(stack: SandboxStack) -> None:
    """`/okr edit KR1` shows the source (never its secret); a new path on the same host keeps
    the secret header, another host drops it (a secret never follows a source elsewhere),
    half a pair is refused on its field, and both fields emptied stop the pulls."""
    from bot.models import MetricSourceState
    from tests.test_form_numbers import shown_inputs

    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    await d.command(pat, "new")
    modal = await d.modal(pat)
    await d.submit(pat, modal, objective_values("Customers love onboarding", "company", pat))
    await d.submit(
        pat,
        modal,
        with_source(kr_values("Signups", "0", "500", pat), "https://bi.example/signups", "total"),
    )
    async with stack.app.sessions.begin() as session:  # as `/okr source … header= secret=` does
        kr = (await session.execute(select(KeyResult))).scalar_one()
        kr.metric_source = {**kr.metric_source, "header": "Authorization"}
        state = await session.get(MetricSourceState, kr.id)
        assert state is not None
        state.secret = "sealed-secret"

    last = [modal]

    async def edit(url: str, path: str) -> Any:
        await d.command(pat, "edit KR1")
        form = await d.modal(pat, other_than=last[-1])
        last.append(form)
        shown = render_view(form.view).text
        assert "sealed-secret" not in str(form.view)
        return form, shown, await d.submit(pat, form, with_source(shown_inputs(form), url, path))

    async def kept() -> tuple[dict[str, Any] | None, str | None]:
        async with stack.app.sessions() as session:  # type: ignore[union-attr]
            kr = (await session.execute(select(KeyResult))).scalar_one()
            state = await session.get(MetricSourceState, kr.id)
            return kr.metric_source, state.secret if state else None

    _, shown, sent = await edit("https://bi.example/signups", "data.total")
    assert "Source URL: https://bi.example/signups" in shown and "Field path: total" in shown
    assert sent.json is None or sent.json.get("response_action") != "errors", sent.json
    source, secret = await kept()
    assert source == {
        "url": "https://bi.example/signups", "path": "data.total", "header": "Authorization",
    }  # fmt: skip
    assert secret == "sealed-secret"

    _, _, half = await edit("https://bi.example/signups", "")
    assert half.json is not None and "Give both" in half.json["errors"]["source_path"]

    await edit("https://other.example/signups", "data.total")
    source, secret = await kept()
    assert source == {"url": "https://other.example/signups", "path": "data.total", "header": None}
    assert secret is None

    await edit("", "")
    source, _ = await kept()
    assert not source
