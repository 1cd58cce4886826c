"""The whole bot against the emulator in one process: emulator, app, HTTP server, driver.

Used by conversation tests, the benchmarks and the sandbox. The database must be migrated.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from bot.app import OkrApp, build_app
from bot.config import Mode, load_settings
from bot.listeners import home_refresh
from bot.sandbox.delivery import Delivery, HttpDelivery, InProcessDelivery
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emulator import SlackEmulator, Workspace
from bot.web import SLACK_EVENTS_PATH, WebApp


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SandboxStack:
    def __init__(
        self,
        *,
        database_url: str,
        over_http: bool = True,
        slack: SlackEmulator | None = None,
        workspace_name: str = "Acme",
        **settings: Any,
    ) -> None:
        self.database_url = database_url
        self.over_http = over_http
        self.slack = slack or SlackEmulator()
        self.workspace_name = workspace_name
        # Each stack spools into a folder of its own (never the working directory's var/).
        self._spool_dir: str | None = None
        if "spool_path" not in settings:
            self._spool_dir = tempfile.mkdtemp(prefix="okr-spool-")
            settings["spool_path"] = Path(self._spool_dir) / "slack-events.jsonl"
        self.extra_settings = settings
        self.signing_secret = secrets.token_hex(16)
        self.ws: Workspace | None = None
        self.app: OkrApp | None = None
        self.driver: SlackDriver | None = None
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._delivery: Delivery | None = None

    async def start(self) -> SandboxStack:
        if not self.slack.base_url:
            await self.slack.start()
        self.ws = self.slack.add_workspace(self.workspace_name)
        settings = load_settings(
            slack_bot_token=self.ws.bot_token,
            slack_signing_secret=self.signing_secret,
            slack_api_url=self.slack.api_url,
            database_url=self.database_url,
            **self.extra_settings,
        )
        self.app = build_app(settings, mode=Mode.SERVE)
        await self.app.store.ensure_seeded()
        if self.over_http:
            port = free_port()
            config = uvicorn.Config(
                WebApp(self.app),
                host="127.0.0.1",
                port=port,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
            self._server = uvicorn.Server(config)
            self._task = asyncio.create_task(self._server.serve())
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.01)
            self.url = f"http://127.0.0.1:{port}{SLACK_EVENTS_PATH}"
            self._delivery = HttpDelivery(self.url)
        else:
            self._delivery = InProcessDelivery(self.app)
        self.driver = SlackDriver(
            self.slack, self.ws, signing_secret=self.signing_secret, deliver=self._delivery
        )
        return self

    async def stop(self) -> None:
        await home_refresh.drain()
        if self.app is not None:
            await self.app.http.close()
        if isinstance(self._delivery, HttpDelivery):
            await self._delivery.close()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self.app is not None:
            await self.app.engine.dispose()
        await self.slack.stop()
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)

    async def __aenter__(self) -> SandboxStack:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
