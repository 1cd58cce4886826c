"""Slack mrkdwn as HTML, as Slack's client shows it: bold, italic, strike, code, code
blocks, quotes, links, user and channel mentions, emoji. Everything else is escaped, so
text a person typed can never become markup on the page."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from markupsafe import Markup

EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "warning": "⚠️",
    "red_circle": "🔴",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "no_entry": "⛔",
    "tada": "🎉",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "calendar": "📅",
    "bell": "🔔",
    "palm_tree": "🌴",
    "arrow_up": "⬆️",
    "arrow_down": "⬇️",
    "eyes": "👀",
    "x": "❌",
    "hourglass": "⌛",
    "memo": "📝",
    "dart": "🎯",
    "rocket": "🚀",
    "bulb": "💡",
    "star": "⭐",
    "trophy": "🏆",
    "thumbsup": "👍",
    "+1": "👍",
}

_CONTROL = re.compile(r"<([^<>]+)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)


def emoji(name: str) -> str:
    return EMOJI.get(name, f":{name}:")


def _emojify(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _plain(text: str) -> str:
    """A run of text with no control sequence: Slack's escapes undone, then ours applied."""
    return html.escape(html.unescape(text), quote=False)


def _control(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    label = html.unescape(label)
    if target.startswith("@"):
        shown = label or names.get(target[1:], target[1:])
        return f'<span class="mention">@{html.escape(shown)}</span>'
    if target.startswith("#"):
        shown = label or names.get(target[1:], target[1:])
        return f'<span class="mention">#{html.escape(shown)}</span>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">{html.escape(label or "@group")}</span>'
    if target.startswith("!date^"):
        return html.escape(label or target)
    if target.startswith("!"):
        return f'<span class="mention">@{html.escape(target[1:])}</span>'
    url = html.unescape(target)
    if not _SAFE_URL.match(url):
        return html.escape(label or url)
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">'
        f"{html.escape(label or url)}</a>"
    )


def _styles(text: str) -> str:
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    return _STRIKE.sub(r"<s>\1</s>", text)


def _inline(text: str, names: Mapping[str, str]) -> str:
    """One line or paragraph (no code block): code spans kept literal, controls resolved."""
    out: list[str] = []
    last = 0
    for match in _CONTROL.finditer(text):
        out.append(_styles(_emojify(_code_spans(text[last : match.start()]))))
        out.append(_control(match.group(1), names))
        last = match.end()
    out.append(_styles(_emojify(_code_spans(text[last:]))))
    return "".join(out)


def _code_spans(text: str) -> str:
    parts: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        parts.append(_plain(text[last : match.start()]))
        literal = _plain(match.group(1)).replace("*", "&#42;").replace("_", "&#95;")
        parts.append(f"<code>{literal.replace('~', '&#126;').replace(':', '&#58;')}</code>")
        last = match.end()
    parts.append(_plain(text[last:]))
    return "".join(parts)


def _quotes(rendered: str) -> str:
    lines = rendered.split("\n")
    out: list[str] = []
    for line in lines:
        if line.startswith("&gt; ") or line == "&gt;":
            out.append(f'<span class="quote">{line[5:]}</span>')
        else:
            out.append(line)
    return "<br>".join(out)


def mrkdwn_html(text: str, names: Mapping[str, str] | None = None) -> Markup:
    """`text` (Slack mrkdwn) as safe HTML."""
    names = names or {}
    out: list[str] = []
    last = 0
    for match in _CODE_BLOCK.finditer(text):
        out.append(_quotes(_inline(text[last : match.start()], names)))
        out.append(f"<pre>{_plain(match.group(1).strip(chr(10)))}</pre>")
        last = match.end()
    out.append(_quotes(_inline(text[last:], names)))
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped


def plain_html(text: str) -> Markup:
    """plain_text as Slack shows it (emoji names become emoji, nothing else)."""
    return Markup(_emojify(html.escape(text, quote=False)).replace("\n", "<br>"))  # noqa: S704
