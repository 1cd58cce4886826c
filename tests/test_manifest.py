"""The Slack app manifests agree with the code, and validate against Slack's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.app import BOT_SCOPES, build_app
from bot.config import load_settings
from bot.listeners.registry import EVENT_SCOPES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"
MANIFESTS = ["manifest.yml", "manifest.http.yml"]


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def registry() -> Any:
    app = build_app(
        load_settings(
            slack_bot_token="xoxb-1", slack_signing_secret="s", database_url="sqlite:///unused.db"
        )
    )
    return app.registry


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_matches_the_code_both_ways(name: str, registry: Any) -> None:
    manifest = load(name)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    bot_events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert commands == registry.commands
    assert bot_events == registry.events
    # Every listener on the app went through the registry, so nothing escapes this check.
    assert len(registry.app._async_listeners) == registry.listener_count
    for event in bot_events:
        if event in EVENT_SCOPES:
            assert EVENT_SCOPES[event] in scopes, f"{event} needs {EVENT_SCOPES[event]}"
    assert scopes == set(BOT_SCOPES)  # what OAuth installs ask for is what the manifest lists
    assert "chat:write.public" not in scopes  # the bot joins team channels instead
    # The digest chart's reconciliation reads the digest's thread (conversations.replies) in
    # public and private team channels; the DM sweep reads DMs.
    assert {"channels:history", "groups:history", "im:history"} <= scopes


@pytest.mark.parametrize("name", MANIFESTS)
def test_okr_escapes_mentions(name: str) -> None:
    (okr,) = [c for c in load(name)["features"]["slash_commands"] if c["command"] == "/okr"]
    assert okr["should_escape"] is True


def _urls(node: Any, path: str = "") -> list[str]:
    if isinstance(node, dict):
        return [u for k, v in node.items() for u in _urls(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [u for v in node for u in _urls(v, path)]
    return [path] if isinstance(node, str) and node.startswith(("http://", "https://")) else []


def test_request_urls_only_in_the_http_manifest() -> None:
    socket, http = load("manifest.yml"), load("manifest.http.yml")
    assert _urls(socket) == []
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert set(_urls(http)) == {
        ".features.slash_commands.url",
        ".oauth_config.redirect_urls",
        ".settings.event_subscriptions.request_url",
        ".settings.interactivity.request_url",
        ".settings.interactivity.message_menu_options_url",
    }


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_against_slacks_schema(name: str) -> None:
    if not SCHEMA.exists():
        pytest.skip("schema not beside the repo")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(load(name), schema)


def test_schema_check_catches_a_bad_manifest() -> None:
    if not SCHEMA.exists():
        pytest.skip("schema not beside the repo")
    broken = load("manifest.yml")
    broken["features"]["slash_commands"][0]["command"] = "okr"  # no leading slash
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))
