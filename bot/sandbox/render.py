"""Block Kit as plain text, for readable assertions and the sandbox terminal.

mrkdwn control sequences become what a person sees (`<@U1>` -> `@pat`, `<url|label>` ->
`label (url)`), escapes are undone, and buttons, selects and inputs are numbered so a test
or a person at the terminal can name them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_CONTROL = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Control:
    number: int
    kind: str  # button, static_select, external_select, plain_text_input, ...
    label: str
    action_id: str
    block_id: str
    value: str | None = None


@dataclass
class Rendered:
    text: str
    controls: list[Control] = field(default_factory=list)

    def control(self, label_or_number: str | int) -> Control:
        for control in self.controls:
            if label_or_number in (control.number, control.label, control.action_id):
                return control
        raise LookupError(f"no control {label_or_number!r} in:\n{self.text}")


def mrkdwn_to_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """What a person reads for mrkdwn `text` (names: Slack id -> display name)."""
    names = names or {}

    def control(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (label or names.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or names.get(target[1:], target[1:]))
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!date^"):
            return label or target
        if target.startswith("!"):
            return "@" + target[1:]
        return f"{label} ({target})" if label else target

    plain = _CONTROL.sub(control, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Mapping[str, str]) -> str:
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text, names) if obj.get("type") == "mrkdwn" else text


class _Renderer:
    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.lines: list[str] = []
        self.controls: list[Control] = []

    def control(self, element: dict[str, Any], block_id: str, label: str | None = None) -> str:
        kind = str(element.get("type"))
        shown = (
            label or _text(element.get("text") or element.get("placeholder"), self.names) or kind
        )
        number = len(self.controls) + 1
        self.controls.append(
            Control(
                number,
                kind,
                shown,
                str(element.get("action_id", "")),
                block_id,
                element.get("value"),
            )
        )
        if kind == "button":
            return f"[{number}: {shown}]"
        initial = element.get("initial_value") or _text(
            (element.get("initial_option") or {}).get("text"), self.names
        )
        return f"({number}) {shown}: {initial or '____'}"

    def block(self, block: dict[str, Any]) -> None:
        kind, block_id = block.get("type"), str(block.get("block_id", ""))
        if kind == "header":
            self.lines.append(f"# {_text(block.get('text'), self.names)}")
        elif kind == "section":
            parts = [_text(block.get("text"), self.names)]
            parts += [_text(f, self.names) for f in block.get("fields") or []]
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "image":
                parts.append(_image(accessory))  # a picture, not something to press
            elif isinstance(accessory, dict):
                parts.append(self.control(accessory, block_id))
            self.lines.append("\n".join(p for p in parts if p))
        elif kind == "divider":
            self.lines.append("---")
        elif kind == "context":
            texts = [_text(e, self.names) or _image(e) for e in block.get("elements") or []]
            self.lines.append("  ".join(t for t in texts if t))
        elif kind == "actions":
            self.lines.append(
                " ".join(self.control(e, block_id) for e in block.get("elements") or [])
            )
        elif kind == "input":
            label = _text(block.get("label"), self.names)
            self.lines.append(self.control(block.get("element") or {}, block_id, label))
        elif kind == "image":
            self.lines.append(_image(block))
        elif kind == "rich_text":
            self.lines.append(_rich_text(block))
        else:
            self.lines.append(f"[{kind}]")


def _image(image: dict[str, Any]) -> str:
    """An image as a person reads it without seeing it: its alt text (and title)."""
    title = _text(image.get("title"), {})
    alt = str(image.get("alt_text", ""))
    return f"[image: {title} — {alt}]" if title else f"[image: {alt}]"


def _rich_text(block: dict[str, Any]) -> str:
    out: list[str] = []
    for section in block.get("elements") or []:
        for element in section.get("elements") or []:
            out.append(str(element.get("text") or element.get("url") or ""))
    return "".join(out)


def render_blocks(blocks: list[dict[str, Any]], names: Mapping[str, str] | None = None) -> Rendered:
    renderer = _Renderer(names or {})
    for block in blocks:
        renderer.block(block)
    return Rendered("\n".join(renderer.lines), renderer.controls)


def render_message(
    text: str, blocks: list[dict[str, Any]], names: Mapping[str, str] | None = None
) -> Rendered:
    """A message as it shows: its blocks, or its text when it has none."""
    if blocks:
        return render_blocks(blocks, names)
    return Rendered(mrkdwn_to_text(text, names))


def render_view(view: dict[str, Any], names: Mapping[str, str] | None = None) -> Rendered:
    rendered = render_blocks(list(view.get("blocks") or []), names)
    title = _text(view.get("title"), names or {})
    submit = _text(view.get("submit"), names or {})
    head = f"[{title}]" if title else ""
    foot = f"<{submit}>" if submit else ""
    rendered.text = "\n".join(p for p in (head, rendered.text, foot) if p)
    return rendered
