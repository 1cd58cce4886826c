"""The foundation tests' Slack: the project's emulator, with a fixed token and team id."""

from __future__ import annotations

from bot.sandbox.emulator import SlackEmulator, Workspace
from bot.sandbox.emulator.server import RecordedCall


class FakeSlack(SlackEmulator):
    workspace: Workspace

    def add_workspace_with(self, *, token: str, team_id: str, team: str = "Acme") -> Workspace:
        self.workspace = self.add_workspace(team, team_id=team_id, bot_token=token)
        return self.workspace

    @property
    def url(self) -> str:
        return self.api_url

    @property
    def response_url_for_commands(self) -> str:
        return self.response_url(team_id=self.workspace.id, channel_id="C0GENERAL", user_id="U0PAT")

    def called(self, method: str) -> list[RecordedCall]:
        return self.recorded(method)
