"""The sandbox page's pure parts: mrkdwn as HTML (escaped, whatever a person typed), what a
modal's inputs become in `view.state.values`, and which requests the page takes and which
fall through to the bot's own routes."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from bot.sandbox.web import forms
from bot.sandbox.web.front import SandboxFront, is_page_path
from bot.sandbox.web.mrkdwn import mrkdwn_html, plain_html

NAMES = {"U1": "Pat Lee", "C1": "platform"}


@pytest.mark.parametrize(
    ("mrkdwn", "html"),
    [
        ("*bold* and _italic_ and ~gone~", "<b>bold</b> and <i>italic</i> and <s>gone</s>"),
        ("`KR12 45` in code", "<code>KR12 45</code> in code"),
        ("`*not bold*`", "<code>&#42;not bold&#42;</code>"),
        (
            "<@U1> in <#C1>",
            '<span class="mention">@Pat Lee</span> in <span class="mention">#platform</span>',
        ),
        ("<@U9|someone>", '<span class="mention">@someone</span>'),
        (
            "<https://example.org/a_b|the *docs*>",
            '<a href="https://example.org/a_b" target="_blank" rel="noopener noreferrer">'
            "the *docs*</a>",
        ),
        ("<javascript:alert(1)|click>", "click"),
        (":white_check_mark: done :nope:", "✅ done :nope:"),
        ("line one\nline two", "line one<br>line two"),
        ("&gt; quoted", '<span class="quote">quoted</span>'),
        ("```a < b\n*c*```", "<pre>a &lt; b\n*c*</pre>"),
    ],
)
def test_mrkdwn_shows_as_slack_shows_it(mrkdwn: str, html: str) -> None:
    assert str(mrkdwn_html(mrkdwn, NAMES)) == html


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        "&lt;img src=x onerror=alert(1)&gt;",
        '<a href="x" onclick="alert(1)">',
        "<@U1|<img src=x>>",
    ],
)
def test_nothing_a_person_typed_becomes_markup(typed: str) -> None:
    for shown in (str(mrkdwn_html(typed, NAMES)), str(plain_html(typed))):
        tags = Tags()
        tags.feed(shown)
        assert tags.found <= {("span", "class"), ("br", "")}, shown


class Tags(HTMLParser):
    """Every (tag, attribute) in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found |= {(tag, name) for name, _ in attrs} or {(tag, "")}


VIEW: dict[str, Any] = {
    "type": "modal",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},
        {
            "type": "input",
            "block_id": "title",
            "element": {"type": "plain_text_input", "action_id": "t"},
        },
        {
            "type": "input",
            "block_id": "level",
            "element": {
                "type": "static_select",
                "action_id": "l",
                "options": [{"text": {"type": "plain_text", "text": "Team"}, "value": "team"}],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "element": {"type": "users_select", "action_id": "o"},
        },
        {
            "type": "input",
            "block_id": "who",
            "element": {"type": "multi_users_select", "action_id": "w"},
        },
        {"type": "input", "block_id": "at", "element": {"type": "timepicker", "action_id": "a"}},
        {
            "type": "input",
            "block_id": "parent",
            "element": {"type": "external_select", "action_id": "p"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "element": {
                "type": "checkboxes",
                "action_id": "f",
                "options": [{"text": {"type": "plain_text", "text": "Anonymous"}, "value": "anon"}],
            },
        },
        {
            "type": "input",
            "block_id": "channel",
            "element": {"type": "conversations_select", "action_id": "c"},
        },
    ],
}


def test_a_modal_s_inputs_become_slack_s_state_values() -> None:
    parent = '{"text": {"type": "plain_text", "text": "O1 Grow"}, "value": "1"}'
    values = forms.state_values(
        VIEW,
        {
            "title": ["Grow"],
            "level": ["team"],
            "owner": ["U1"],
            "who": ["U1", "U2"],
            "at": ["09:30"],
            "parent": [parent],
            "flags": ["anon"],
            "channel": ["C1"],
        },
    )
    assert values == {
        "title": {"t": {"type": "plain_text_input", "value": "Grow"}},
        "level": {
            "l": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Team"},
                    "value": "team",
                },
            }
        },
        "owner": {"o": {"type": "users_select", "selected_user": "U1"}},
        "who": {"w": {"type": "multi_users_select", "selected_users": ["U1", "U2"]}},
        "at": {"a": {"type": "timepicker", "selected_time": "09:30"}},
        "parent": {
            "p": {
                "type": "external_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "O1 Grow"},
                    "value": "1",
                },
            }
        },
        "flags": {
            "f": {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Anonymous"}, "value": "anon"}
                ],
            }
        },
        "channel": {"c": {"type": "conversations_select", "selected_conversation": "C1"}},
    }


def test_empty_inputs_and_options_the_bot_never_offered_are_sent_as_nothing() -> None:
    values = forms.state_values(
        VIEW, {"level": ["company"], "parent": ["not json"], "flags": ["x"]}
    )
    assert values["title"] == {"t": {"type": "plain_text_input", "value": None}}
    assert values["level"]["l"]["selected_option"] is None
    assert values["parent"]["p"]["selected_option"] is None
    assert values["flags"]["f"]["selected_options"] == []
    long = forms.state_values(VIEW, {"title": ["x" * 5000]})
    assert len(long["title"]["t"]["value"]) == forms.MAX_FIELD


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", True),
        ("/sandbox/ui", True),
        ("/sandbox/static/sandbox.js", True),
        ("/healthz", False),
        ("/readyz", False),
        ("/slack/events", False),
        ("/api/v1/checkins", False),  # the push API, served by the bot's WebApp
        ("/sandboxes", False),
    ],
)
def test_what_the_page_does_not_serve_falls_through_to_the_bot(path: str, page: bool) -> None:
    assert is_page_path(path) is page


async def test_the_front_passes_other_requests_and_the_lifespan_to_the_web_app() -> None:
    seen: list[tuple[str, str]] = []

    async def web(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], scope.get("path", "")))
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    front = SandboxFront(object(), web)  # type: ignore[arg-type]  # the page is not asked here
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client:
        assert (await client.get("/api/v1/metrics")).status_code == 204
        script = await client.get("/sandbox/static/sandbox.js")
        rebound = await client.get("/sandbox/static/sandbox.js", headers={"host": "evil.example"})
        rebound_api = await client.get("/healthz", headers={"host": "evil.example"})
    assert seen == [("http", "/api/v1/metrics"), ("http", "/healthz")]
    assert script.status_code == 200 and "poll" in script.text
    assert rebound.status_code == 421  # a name pointed at loopback by someone else's page
    assert rebound_api.status_code == 204  # the bot's own routes check their own requests
