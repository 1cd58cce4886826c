"""The sandbox page's routes (FastAPI): the page, its parts for live updates, and what a
person does there (type, click, fill a modal, open App Home, travel in time). Each action
goes through the driver, so the bot gets exactly what Slack would send."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, StringConstraints

from bot.sandbox.emulator.images import shown_files
from bot.sandbox.emulator.state import ApiError, Channel, User
from bot.sandbox.interactions import DriverError
from bot.sandbox.web import forms
from bot.sandbox.web.mrkdwn import emoji, mrkdwn_html, plain_html
from bot.sandbox.web.screen import Screen, screen

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

HERE = Path(__file__).parent
ID = Field(min_length=1, max_length=64)
TEXT_LIMIT = 4000  # the composer's bound: far above any command or check-in reply
PARTS = ("sidebar", "main", "thread", "modal", "clock")


class Person(BaseModel):
    person: str = ID


class Compose(Person):
    channel: str = ID
    thread_ts: str | None = Field(default=None, max_length=32)
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)


class Edit(Person):
    channel: str = ID
    ts: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)


VALUE_MAX = 3000  # Slack's longest text input
Key = Annotated[str, StringConstraints(max_length=255)]
Value = Annotated[str, StringConstraints(max_length=VALUE_MAX)]
Values = Annotated[list[Value], Field(max_length=100)]


class Click(Person):
    action_id: str = Field(min_length=1, max_length=255)
    block_id: str = Field(default="", max_length=255)
    value: str | None = Field(default=None, max_length=2000)
    choice: list[Value] | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=32)
    view_id: str | None = Field(default=None, max_length=64)


class Suggest(Person):
    view_id: str = ID
    block_id: str = Field(min_length=1, max_length=255)
    action_id: str = Field(min_length=1, max_length=255)
    query: str = Field(default="", max_length=200)


class Submit(Person):
    view_id: str = ID
    values: dict[Key, Values] = Field(default_factory=dict, max_length=100)


class Travel(BaseModel):
    to: Literal["checkin", "day", "week", "cycle_end"]


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mrkdwn"] = mrkdwn_html
    env.filters["plain"] = plain_html
    env.filters["emoji"] = emoji
    return env


def page_app(sandbox: Sandbox) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    env = templates()

    def file_id(ref: object) -> str:
        """The uploaded file an image's `slack_file` names (by id or by URL), as Slack finds it."""
        image = {"type": "image", "slack_file": ref, "alt_text": ""}
        found = shown_files(sandbox.slack.state, [image])
        return found[0].id if found else "missing"

    env.globals["file_id"] = file_id
    app.mount("/sandbox/static", StaticFiles(directory=HERE / "static"), name="static")

    def user(person_id: str) -> User:
        for person in sandbox.people():
            if person.id == person_id:
                return person
        raise HTTPException(404, "no such person in the sandbox")

    def channel_for(viewer: User, channel_id: str | None) -> Channel:
        state = sandbox.slack.state
        found = state.channels.get(channel_id or "")
        if found is None or found.team_id != sandbox.ws.id or viewer.id not in found.members:
            raise HTTPException(404, "no such channel for this person")
        return found

    def seen(viewer: User, channel: str | None, thread: str | None) -> Screen:
        return screen(
            sandbox.slack.state,
            sandbox.ws,
            viewer,
            sandbox.people(),
            current=channel,
            thread_ts=thread,
        )

    def parts(view: Screen) -> dict[str, str]:
        context = {"s": view, "errors": sandbox.errors, "company": sandbox.company}
        return {name: env.get_template(f"{name}.html").render(context) for name in PARTS}

    def done(note: str = "") -> JSONResponse:
        sandbox.actions += 1
        return JSONResponse({"ok": True, "note": note})

    @app.get("/", response_class=HTMLResponse)
    async def page(
        person: str | None = None, channel: str | None = None, thread: str | None = None
    ) -> HTMLResponse:
        view = seen(sandbox.person(person), channel, thread)
        html = env.get_template("page.html").render(
            s=view, parts=parts(view), version=sandbox.version(), company=sandbox.company
        )
        return HTMLResponse(html)

    @app.get("/sandbox/ui")
    async def ui(
        person: str = Query(max_length=64),
        channel: str | None = Query(default=None, max_length=64),
        thread: str | None = Query(default=None, max_length=32),
        since: str = Query(default="", max_length=100),
    ) -> dict[str, Any]:
        version = sandbox.version()
        if since == version:
            return {"version": version}
        view = seen(user(person), channel, thread)
        return {"version": version, "current": view.current, "parts": parts(view)}

    @app.post("/sandbox/compose")
    async def compose(body: Compose) -> JSONResponse:
        viewer = user(body.person)
        where = channel_for(viewer, body.channel)
        text = body.text.strip()
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command != "/okr":
                return done(f"{command} is not a command here: try /okr help")
            await sandbox.driver.command(viewer, rest.strip(), channel=where)
            return done()
        try:
            await sandbox.driver.say(viewer, text, channel=where, thread_ts=body.thread_ts)
        except ApiError:
            raise HTTPException(404, "no such thread") from None
        return done()

    @app.post("/sandbox/edit")
    async def edit(body: Edit) -> JSONResponse:
        viewer = user(body.person)
        where = channel_for(viewer, body.channel)
        try:
            message = sandbox.slack.state.message(where.id, body.ts)
        except ApiError:
            raise HTTPException(404, "no such message") from None
        if message.user != viewer.id:
            raise HTTPException(403, "you can only edit your own messages")
        await sandbox.driver.edit(viewer, message, body.text)
        return done()

    @app.post("/sandbox/click")
    async def click(body: Click) -> JSONResponse:
        viewer = user(body.person)
        state = sandbox.slack.state
        message = view = None
        if body.view_id:
            view = state.views.get(body.view_id)
            if view is None or view.user_id != viewer.id:
                view = sandbox.slack.home(viewer.id)
                if view is None or view.id != body.view_id:
                    raise HTTPException(404, "no such view")
        else:
            where = channel_for(viewer, body.channel)
            message = _message(sandbox, viewer, where.id, body.ts or "")
        if view is not None:
            shown = list(view.view.get("blocks") or [])
        else:
            shown = message.blocks if message is not None else []
        element = _element(shown, body.block_id, body.action_id)
        chosen = forms.selected(element, body.choice[0]) if body.choice else None
        try:
            await sandbox.driver.click(
                viewer,
                action_id=body.action_id,
                block_id=body.block_id,
                value=body.value,
                message=message,
                view=view,
                chosen=chosen,
            )
        except DriverError as exc:
            return done(str(exc))
        return done()

    @app.post("/sandbox/suggest")
    async def suggest(body: Suggest) -> dict[str, Any]:
        viewer = user(body.person)
        view = sandbox.slack.state.views.get(body.view_id)
        if view is None or view.user_id != viewer.id:
            raise HTTPException(404, "no such view")
        answer = await sandbox.driver.suggest(
            viewer, action_id=body.action_id, value=body.query, view=view, block_id=body.block_id
        )
        data = answer.json or {}
        options = list(data.get("options") or [])
        for group in data.get("option_groups") or []:
            options += list(group.get("options") or [])
        return {
            "options": [
                {"label": o["text"]["text"], "value": o["value"], "text": o["text"]}
                for o in options
            ]
        }

    @app.post("/sandbox/submit")
    async def submit(body: Submit) -> JSONResponse:
        viewer = user(body.person)
        view = sandbox.slack.state.views.get(body.view_id)
        if view is None or view.user_id != viewer.id or view.closed:
            raise HTTPException(404, "no such open modal")
        values = forms.state_values(view.view, body.values)
        try:
            answer = await sandbox.driver.submit(viewer, view, values)
        except DriverError as exc:
            return done(str(exc))
        data = answer.json or {}
        if data.get("response_action") == "errors":
            sandbox.errors[view.id] = {
                str(k): str(v) for k, v in (data.get("errors") or {}).items()
            }
        else:
            sandbox.errors.pop(view.id, None)
        if answer.status != 200 or answer.late:
            return done("The app did not answer in time; Slack keeps the modal open.")
        return done()

    @app.post("/sandbox/close")
    async def close(body: Submit) -> JSONResponse:
        viewer = user(body.person)
        view = sandbox.slack.state.views.get(body.view_id)
        if view is None or view.user_id != viewer.id:
            raise HTTPException(404, "no such modal")
        await sandbox.driver.close(viewer, view)
        return done()

    @app.post("/sandbox/home")
    async def home(body: Person) -> JSONResponse:
        await sandbox.driver.open_home(user(body.person))
        return done()

    @app.post("/sandbox/travel")
    async def travel(body: Travel) -> JSONResponse:
        machine = sandbox.machine
        if body.to == "day":
            journey = await machine.travel(timedelta(days=1))
        elif body.to == "week":
            journey = await machine.travel(timedelta(weeks=1))
        else:
            target = await (machine.next_checkin() if body.to == "checkin" else machine.cycle_end())
            if target is None:
                return done("Nothing to travel to: no round is scheduled, or no cycle is open.")
            journey = await machine.travel_to(target)
        return done(f"Arrived; stopped at {journey.stops} instants on the way.")

    @app.get("/sandbox/files/{file_id}")
    async def file(file_id: str) -> Response:
        found = sandbox.slack.state.files.get(file_id)
        if (
            found is None
            or found.deleted
            or found.content is None
            or found.team_id != sandbox.ws.id
        ):
            raise HTTPException(404, "no such file")
        kind = (
            "image/png" if found.filename.lower().endswith(".png") else "application/octet-stream"
        )
        return Response(found.content, media_type=kind)

    return app


def _message(sandbox: Sandbox, viewer: User, channel: str, ts: str) -> Any:
    state = sandbox.slack.state
    for ephemeral in state.ephemerals:
        if ephemeral.user == viewer.id and ephemeral.message.ts == ts:
            return ephemeral.message
    try:
        return state.message(channel, ts)
    except ApiError:
        raise HTTPException(404, "no such message") from None


def _element(blocks: list[dict[str, Any]], block_id: str, action_id: str) -> dict[str, Any]:
    for block in blocks:
        candidates = list(block.get("elements") or [])
        candidates += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return {}
