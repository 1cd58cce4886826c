"""The emulator's HTTP server: `/api/<method>`, response URLs, upload URLs and the OAuth
authorize page, on a loopback port of its own (port 0 picks a free one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sandbox.emulator.blockkit import validate_message
from bot.sandbox.emulator.faults import Fault, FaultPlan, Planned
from bot.sandbox.emulator.http import (
    basic_client,
    bearer_token,
    drop_connection,
    read_arguments,
    read_upload,
)
from bot.sandbox.emulator.limits import RateLimiter
from bot.sandbox.emulator.methods import METHODS, Call
from bot.sandbox.emulator.methods.oauth import Grant, OAuthClient, issue_code
from bot.sandbox.emulator.queries import Queries
from bot.sandbox.emulator.setup import Setup
from bot.sandbox.emulator.state import ApiError, Ephemeral, Message, ResponseUrl, SlackState


@dataclass
class RecordedCall:
    """One Web API call as it arrived, and what the emulator answered."""

    method: str
    args: dict[str, Any]
    token: str | None
    team_id: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


class SlackEmulator(Setup, Queries):
    """A stateful Slack for tests, benchmarks and the sandbox."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        self.state = SlackState(clock)
        self.limits = RateLimiter(clock=clock, enabled=rate_limits, time_scale=time_scale)
        self.faults = FaultPlan()
        self.calls: list[RecordedCall] = []
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.oauth_grants: dict[str, Grant] = {}
        self.authorize_as: tuple[str, str] | None = None  # (team, user) the browser "is"
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be set to."""
        return f"{self.base_url}api/"

    # --- lifecycle ---------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        return app

    async def start(self, *, host: str = "127.0.0.1", port: int = 0) -> SlackEmulator:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://{host}:{bound}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # --- the Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        args = await read_arguments(request)
        token_value = bearer_token(request, args)
        record = RecordedCall(name, args, token_value, at=self.state.clock())
        self.calls.append(record)
        spec = METHODS.get(name)
        if spec is None:
            return self._answer(record, {"ok": False, "error": "unknown_method"})
        await self.faults.wait_if_held(name)
        try:
            call = self._authenticate(spec.name, spec.auth, spec.scopes, token_value, args, request)
        except ApiError as exc:
            return self._answer(record, {"ok": False, "error": exc.code, **exc.extra})
        record.team_id = call.workspace.id if call.workspace else None
        if call.workspace is not None:
            retry_after = self.limits.check(
                team_id=call.workspace.id,
                method=name,
                tier=spec.tier,
                channel=str(args.get("channel") or "") or None,
            )
            if retry_after:  # refused before any planned fault is used up
                return self._answer(record, {"ok": False, "error": "ratelimited"}, 429, retry_after)
        fault = self.faults.next_fault(name)
        refused = self._fault_before(record, fault, request)
        if refused is not None:
            return refused
        try:
            body = {"ok": True, **await spec.handler(call)}
        except ApiError as exc:
            body = {"ok": False, "error": exc.code, **exc.extra}
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Slack answers malformed arguments; it does not fail with a server error.
            body = {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {type(exc).__name__}: {exc}"]},
            }
        cut = await self._fault_after(record, fault, request, body)
        return cut if cut is not None else self._answer(record, body)

    def _fault_before(
        self, record: RecordedCall, fault: Planned | None, request: web.Request
    ) -> web.StreamResponse | None:
        """The answer of a planned fault that refuses a call before anything is done."""
        if fault is None:
            return None
        if fault.fault is Fault.DROP:
            record.status = 0
            return drop_connection(request)
        if fault.fault in (Fault.HTTP_500, Fault.HTTP_503):
            record.status = 500 if fault.fault is Fault.HTTP_500 else 503
            return web.Response(status=record.status, text="upstream failure")
        if fault.fault is Fault.RATELIMITED:
            return self._answer(
                record, {"ok": False, "error": "ratelimited"}, 429, fault.retry_after
            )
        if fault.fault is Fault.FATAL_ERROR:
            return self._answer(record, {"ok": False, "error": "fatal_error"})
        return None

    async def _fault_after(
        self,
        record: RecordedCall,
        fault: Planned | None,
        request: web.Request,
        body: dict[str, Any],
    ) -> web.StreamResponse | None:
        """A planned fault once the call is done: the connection cut, or a late answer."""
        if fault is not None and fault.fault is Fault.ACCEPT_THEN_DROP:
            record.response, record.status = body, 0
            return drop_connection(request)
        if fault is not None and fault.fault is Fault.SLOW:
            await asyncio.sleep(fault.delay)  # done already; only the answer is late
        return None

    def _authenticate(
        self,
        name: str,
        auth: str,
        scopes: tuple[str, ...],
        token_value: str | None,
        args: dict[str, Any],
        request: web.Request,
    ) -> Call:
        if auth == "client":
            basic_client(request, args)
            return Call(name, self.state, args, None, None, self.base_url, self)
        if not token_value:
            raise ApiError("not_authed")
        token = self.state.tokens.get(token_value)
        if token is None:
            raise ApiError("invalid_auth")
        if token.revoked:
            raise ApiError("token_revoked")
        if scopes and not any(s in token.scopes for s in scopes):
            raise ApiError(
                "missing_scope", needed=",".join(scopes), provided=",".join(token.scopes)
            )
        workspace = self.state.workspaces[token.team_id]
        return Call(name, self.state, args, token, workspace, self.base_url, self)

    def _answer(
        self, record: RecordedCall, body: dict[str, Any], status: int = 200, retry_after: int = 0
    ) -> web.Response:
        record.response, record.status = body, status
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        if record.method == "auth.test" and body.get("ok") and record.token in self.state.tokens:
            headers["x-oauth-scopes"] = ",".join(self.state.tokens[record.token].scopes)
        return web.json_response(body, status=status, headers=headers)

    # --- response URLs, uploads, OAuth -------------------------------------------------------

    def response_url(
        self, *, team_id: str, channel_id: str, user_id: str, message_ts: str | None = None
    ) -> str:
        key = self.state.new_id("R")
        self.state.response_urls[key] = ResponseUrl(
            team_id, channel_id, user_id, self.state.clock(), message_ts
        )
        return f"{self.base_url}respond/{key}"

    async def _respond(self, request: web.Request) -> web.Response:
        entry = self.state.response_urls.get(request.match_info["key"])
        if entry is None:
            return web.Response(status=404, text="invalid_url")
        if self.state.clock() - entry.issued_at > ResponseUrl.LIFETIME:
            return web.Response(status=404, text="expired_url")
        if entry.uses_left <= 0:
            return web.Response(status=404, text="used_url")
        entry.uses_left -= 1
        body = await read_arguments(request)
        self.calls.append(
            RecordedCall("response_url", body, None, entry.team_id, at=self.state.clock())
        )
        original = self._original(entry)
        if body.get("delete_original") and original is not None:
            original.deleted = True
            self.state.ephemerals = [e for e in self.state.ephemerals if e.message is not original]
            return web.Response(text="ok")
        try:
            text, blocks = validate_message(body)
        except ApiError as exc:
            return web.Response(status=400, text=exc.code)
        ws = self.state.workspaces[entry.team_id]
        if body.get("replace_original") and original is not None:
            original.text, original.blocks = text, blocks
            original.edited_ts = self.state.new_ts()
            return web.Response(text="ok")
        message = Message(
            entry.channel_id, self.state.new_ts(), text, bot_id=ws.bot_id, blocks=blocks
        )
        if body.get("response_type") == "in_channel":
            message.user = ws.bot_user_id
            self.state.messages.setdefault(entry.channel_id, []).append(message)
        else:
            self.state.ephemerals.append(
                Ephemeral(entry.channel_id, entry.user_id, message, "response_url")
            )
        return web.Response(text="ok")

    def _original(self, entry: ResponseUrl) -> Message | None:
        """The message a response_url came from: in the channel, or only the person's."""
        if entry.message_ts is None:
            return None
        for ephemeral in self.state.ephemerals:
            if ephemeral.message.ts == entry.message_ts and ephemeral.user == entry.user_id:
                return ephemeral.message
        try:
            return self.state.message(entry.channel_id, entry.message_ts)
        except ApiError:
            return None

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL: the bytes of one file, until it is completed. Faults are planned
        as for methods, under the name `upload` (`faults.fail("upload", Fault.HTTP_500)`)."""
        file_id = request.match_info["file_id"]
        content = await read_upload(request)
        record = RecordedCall("upload", {"file_id": file_id, "bytes": len(content)}, None)
        record.at = self.state.clock()
        self.calls.append(record)
        file = self.state.files.get(file_id)
        if file is None or file.deleted or file.completed_at is not None:
            record.status = 404
            return web.Response(status=404, text="file not found")
        record.team_id = file.team_id
        await self.faults.wait_if_held("upload")
        fault = self.faults.next_fault("upload")
        refused = self._fault_before(record, fault, request)
        if refused is not None:
            return refused
        file.content = content
        cut = await self._fault_after(record, fault, request, {"ok": True})
        if cut is not None:
            return cut
        record.response = {"ok": True}
        return web.Response(text=f"OK - {len(content)}")

    async def _authorize(self, request: web.Request) -> web.Response:
        client = self.oauth_clients.get(request.query.get("client_id", ""))
        if client is None:
            return web.Response(status=400, text="invalid_client_id")
        if self.authorize_as is None:
            return web.Response(status=400, text="no workspace to install into")
        redirect = request.query.get("redirect_uri") or client.redirect_uri
        if not redirect:
            return web.Response(status=400, text="no redirect_uri")
        team_id, user_id = self.authorize_as
        code = issue_code(
            self.state,
            self.oauth_grants,
            client=client,
            team_id=team_id,
            user_id=user_id,
            scopes=[s for s in request.query.get("scope", "").split(",") if s],
            redirect_uri=request.query.get("redirect_uri"),
        )
        query = urlencode({"code": code, "state": request.query.get("state", "")})
        raise web.HTTPFound(f"{redirect}?{query}")
