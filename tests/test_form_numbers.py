"""Numbers typed in forms: the key-result form (new and edit) and the team form read start,
target, weight and hours with the one grammar, where a sign is just a sign; and every number
a form shows comes back unchanged when the form is sent as it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import Checkin, KeyResult, Team
from bot.sandbox.emulator import User
from bot.sandbox.emulator.state import View
from bot.sandbox.stack import SandboxStack
from tests.databases import Database
from tests.test_okr_modals import kr_values, objective_values
from tests.test_team_commands import setup_values


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[SandboxStack]:
    url = database.urls.sync_url.render_as_string(hide_password=False)
    async with SandboxStack(database_url=url, over_http=False) as running:
        yield running


# (field, typed, what is stored, or the words of the field's error)
KEY_RESULT_FIELDS: list[tuple[str, str, float | str]] = [
    ("start", "-20", -20.0),  # an NPS key result may start below zero
    ("start", "2,5", 2.5),  # a decimal comma, never 25
    ("start", "12,000", 12000.0),
    ("start", "1.2k", 1200.0),
    ("start", "thirty", "The start must be a number, like 42, -20, 3.5 or 12,000"),
    ("start", "1e400", "The start must be a number"),
    ("start", "nan", "The start must be a number"),
    ("start", "2000000b", "The start must be from -1,000,000,000,000,000 to"),
    ("target", "1,234,567.5", 1234567.5),
    ("target", "$90,000", 90000.0),
    ("target", "1.234,5", "has a separator after its decimal one"),
    ("weight", "0,5", 0.5),
    ("weight", "3", 3.0),
    ("weight", "12,000", "The weight must be above 0 and at most 100."),
    ("weight", "0", "The weight must be above 0 and at most 100."),
    ("weight", "1e308", "The weight must be a number"),
]


def entries(values: dict[str, str]) -> dict[str, Any]:
    return {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}


def shown_inputs(view: View) -> dict[str, Any]:
    """What the form shows in each input: its initial value, option, user or time."""
    out: dict[str, Any] = {}
    for block in view.view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input":
            continue
        action = element.get("action_id")
        kind = element.get("type")
        if "initial_value" in element:
            out[block["block_id"]] = {action: {"type": kind, "value": element["initial_value"]}}
        elif "initial_option" in element:
            picked = {"type": kind, "selected_option": element["initial_option"]}
            out[block["block_id"]] = {action: picked}
        elif "initial_user" in element:
            out[block["block_id"]] = {
                action: {"type": kind, "selected_user": element["initial_user"]}
            }
        elif "initial_users" in element:
            users = {"type": kind, "selected_users": element["initial_users"]}
            out[block["block_id"]] = {action: users}
        elif "initial_conversation" in element:
            chosen = {"type": kind, "selected_conversation": element["initial_conversation"]}
            out[block["block_id"]] = {action: chosen}
        elif "initial_time" in element:
            out[block["block_id"]] = {
                action: {"type": kind, "selected_time": element["initial_time"]}
            }
    return out


async def objective_with_form(stack: SandboxStack) -> tuple[User, View]:
    """pat writes O1; the form goes on to O1's key results."""
    assert stack.driver is not None and stack.ws is not None
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    await stack.driver.command(pat, "new")
    modal = await stack.driver.modal(pat)
    saved = await stack.driver.submit(pat, modal, objective_values("We delight", "company", pat))
    assert saved.json is not None and saved.json["response_action"] == "update"
    return pat, modal


async def latest_key_result(stack: SandboxStack) -> KeyResult:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = await session.scalar(select(KeyResult).order_by(KeyResult.id.desc()).limit(1))
    assert found is not None
    return found


@pytest.mark.parametrize("form", ["new", "edit"])
async def test_key_result_numbers_are_read_the_same_in_new_and_edit(
    stack: SandboxStack, form: str
) -> None:
    assert stack.driver is not None
    d = stack.driver
    pat, modal = await objective_with_form(stack)
    if form == "edit":  # KR1 to edit
        await d.submit(pat, modal, kr_values("Sign-ups", "0", "100", pat))
    for number, (field, typed, wanted) in enumerate(KEY_RESULT_FIELDS):
        values = {"start": "0", "target": "100000", "weight": "1"}
        values[field] = typed
        if field == "start" and isinstance(wanted, float) and wanted >= 100000:
            values["target"] = "1000000"
        while (open_view := stack.slack.open_modal(pat.id)) is not None:
            await d.close(pat, open_view)
        await d.command(pat, "kr add O1" if form == "new" else "edit KR1")
        shown = await d.modal(pat)
        filled = kr_values(f"Measure {number}", "0", "1", pat) | entries(values)
        inputs = {b.get("block_id") for b in shown.view["blocks"] if b.get("type") == "input"}
        filled = {block: value for block, value in filled.items() if block in inputs}
        answer = await d.submit(pat, shown, filled)
        body = answer.json or {}
        where = f"{form} {field}={typed!r}: {body}"
        if isinstance(wanted, str):
            assert body.get("response_action") == "errors", where
            assert wanted in body["errors"][field], where
        else:
            assert body.get("response_action") != "errors", where
            kr = await latest_key_result(stack) if form == "new" else await _kr1(stack)
            stored = {"start": kr.start_value, "target": kr.target_value, "weight": kr.weight}
            assert stored[field] == wanted, where


async def _kr1(stack: SandboxStack) -> KeyResult:
    assert stack.app is not None
    async with stack.app.sessions() as session:
        found = await session.scalar(select(KeyResult).where(KeyResult.ref_number == 1))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [("36", 36 * 60), ("1,5", 90), ("0", 0), ("-3", "from 0 to 168"), ("2,000", "from 0 to 168"),
     ("soon", "must be a number")],
)  # fmt: skip
async def test_team_hours_are_read_with_the_same_grammar(
    stack: SandboxStack, typed: str, wanted: int | str
) -> None:
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat = stack.slack.add_user(stack.ws, "pat", admin=True)
    growth = stack.slack.add_channel(stack.ws, "growth", members=[pat])
    await d.command(pat, "team setup", channel=growth)
    modal = await d.modal(pat)
    answer = await d.submit(
        pat, modal, setup_values(growth.id, pat, [], reminder=typed, digest="100")
    )
    body = answer.json or {}
    if isinstance(wanted, str):
        assert wanted in body["errors"]["reminder"], body
        return
    async with stack.app.sessions() as session:
        team = await session.scalar(select(Team))
    assert team is not None and team.reminder_delay_minutes == wanted


async def test_every_number_a_form_shows_comes_back_unchanged(stack: SandboxStack) -> None:
    """The edit form, the team form and the check-in form, each sent just as shown."""
    assert stack.driver is not None and stack.ws is not None and stack.app is not None
    d = stack.driver
    pat, modal = await objective_with_form(stack)
    values = kr_values("NPS", "-20", "1,234,567.891", pat) | entries({"weight": "0,25"})
    await d.submit(pat, modal, values)
    before = await _kr1(stack)
    assert (before.start_value, before.target_value, before.weight) == (-20, 1234567.891, 0.25)
    await d.command(pat, "update KR1 1,234,567")
    await d.command(pat, "edit KR1")
    edit = await d.modal(pat, other_than=modal)
    sent = await d.submit(pat, edit, shown_inputs(edit))
    assert sent.json is not None and sent.json.get("response_action") != "errors", sent.json
    after = await _kr1(stack)
    assert (after.start_value, after.target_value, after.weight) == (-20, 1234567.891, 0.25)

    await d.command(pat, "kr add O1")
    nps = await d.modal(pat, other_than=edit)
    await d.submit(pat, nps, kr_values("NPS of new users", "-20", "40", pat))
    await d.command(pat, "update KR2 +5")  # -15: a value no one can type, only reach
    await d.command(pat, "checkin")
    form = await d.modal(pat, other_than=nps)
    shown = shown_inputs(form)
    assert shown["value:KR1"]["value"]["value"] == "1,234,567"
    assert shown["value:KR2"]["value"]["value"] == "-15"
    sent = await d.submit(pat, form, shown)
    assert sent.json is not None and sent.json.get("response_action") != "errors", sent.json
    async with stack.app.sessions() as session:
        rows = (
            await session.execute(
                select(KeyResult.ref_number, Checkin.value)
                .join(KeyResult, KeyResult.id == Checkin.key_result_id)
                .order_by(Checkin.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, 1234567.0), (2, -15.0), (1, 1234567.0), (2, -15.0)]

    growth = stack.slack.add_channel(stack.ws, "growth", members=[pat])
    await d.command(pat, "team setup", channel=growth)
    team_form = await d.modal(pat, other_than=form)
    await d.submit(pat, team_form, setup_values(growth.id, pat, [], reminder="1,5", digest="36"))
    await d.command(pat, "team setup", channel=growth)
    again = await d.modal(pat, other_than=team_form)
    shown = shown_inputs(again)
    assert shown["reminder"]["reminder"]["value"] == "1.5"
    sent = await d.submit(pat, again, shown)
    assert sent.json is not None and sent.json.get("response_action") != "errors", sent.json
    async with stack.app.sessions() as session:
        team = await session.scalar(select(Team))
    assert team is not None
    assert (team.reminder_delay_minutes, team.digest_delay_minutes) == (90, 36 * 60)
