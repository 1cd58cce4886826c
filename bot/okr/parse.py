"""Reading a person's threaded reply to the weekly check-in prompt. Pure: text in, facts out.

How to write a check-in reply
-----------------------------
One line per key result; blank lines are skipped. Mentions (`@okrbot`) are ignored anywhere.
A line may start with a list marker (`•`, or `-`, `*` or `>` and a space; `1.` is not one),
and the name may be bold or italic (`*KR12*`, `_KR12_`, or the whole line, `*KR12 45*`).

The line starts with its key result: `KR12` (also `kr12`, `KR-12`, `KR 12`), or `#2` or `2)`
for the key result on line 2 of the check-in message. A colon after the name is fine:
`KR12: 45`, `#2: 45`, `2): 45`. So is a dash: `KR12 - 45`.

Then, in any order, at least one of a value, a status and a confidence:
- Value (the one number grammar, `okr/numbers.py`): `45`, `45.5`, `45%`, `1.2k`, `3m`, `2b`
  (thousand, million, billion), money with `$ € £ ¥` before or after (`$12,000`, `12 €`), or
  `done` for a milestone. A comma followed by exactly three digits separates thousands
  (`12,000`, `1,234,567`, `1,234.5`); any other comma is a decimal comma (`12,5` and `12,50`
  are 12.5). A sign means a change from the current value: `+3`, `-2`, `+1.5k`, `-5%`; so
  there is no way to type a negative value. `/okr update KR12 …` and the check-in form's
  value box (`KR12 <what you typed>`) are read as such a line too.
- Status: `on track`, `at risk`, `off track` (also `on-track`...), 🟢 🟡 🔴, or
  `:large_green_circle:` `:large_yellow_circle:` `:red_circle:`.
- Confidence, a whole number from 0 to 10: `conf 7`, `conf: 7`, `confidence 7`,
  `confidence: 7`, `conf 7/10` or `7/10`.
Commas, semicolons and a full stop between them are fine: `KR12 45, on track, conf 7`.

Then a note, if you like, after ` — `, ` – ` or ` - ` (an em or en dash needs no spaces), or
after a colon and a space (`KR12 45: shipped the beta`). Anything else that is not a value,
status or confidence also starts the note: `KR12 45 shipped the beta`, and a number that does
not come straight after the value is note too: `KR12 45 on track 50 users signed up`.

Examples:
    KR12 45 conf 7 — shipped the beta
    • *KR3*: 1.2k 🟢
    #2 done: launched on Monday
    2) +3 at risk 6/10 - waiting on legal

A line that does not start with a key result adds a line to the note of the line above it (as
typed, list marker and all), or is ignored when it comes before any key result line (a
greeting like "Here's my update:"). After a line that could not be read, it is dropped.
The same key result may appear on two lines; both are kept, and the caller decides.

A line is not read, and the reply says why and shows a line that would be, when:
- nothing follows the name, or what follows is not a value, status or confidence
  (`KR12 forty`, `KR12 — shipped`);
- a second value comes straight after the first (`KR12 45 50`, `KR12 45, done`);
- it has two statuses, or two confidences, or `conf` without a whole number from 0 to 10;
- a number has another separator after its decimal one (`1.234,5`), is over 1e15, has two
  signs or two currency symbols, or is both money and a percent (`$45%`);
- it names line 0 of the check-in message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.okr.numbers import END as _END
from bot.okr.numbers import VALUE as _VALUE
from bot.okr.numbers import NumberProblem, Value, value_of
from bot.okr.progress import Status

__all__ = ["KeyResultName", "ParsedReply", "ReplyLine", "Status", "Unreadable", "Value"]
__all__ += ["parse_reply"]


@dataclass(frozen=True)
class KeyResultName:
    ref: str | None = None  # "KR12": upper-case, no separator, no leading zeros
    line_no: int | None = None  # 2 for "#2" or "2)": a line of the check-in message


@dataclass(frozen=True, kw_only=True)
class ReplyLine:
    line: int  # 1-based line number in the reply
    text: str  # the line as typed, after unescaping
    name: KeyResultName
    value: Value | None
    status: Status | None
    confidence: int | None
    note: str | None


@dataclass(frozen=True, kw_only=True)
class Unreadable:
    line: int
    text: str
    reason: str  # a sentence that names the key result and says what to change
    example: str  # a line for the same key result that would be read


@dataclass(frozen=True, kw_only=True)
class ParsedReply:
    lines: tuple[ReplyLine, ...]
    unreadable: tuple[Unreadable, ...]
    too_long: str | None = None  # a check-in over the caps: why nothing of it was read
    names: bool = False  # some line names a key result (only looked at when too long)

    @property
    def is_checkin(self) -> bool:
        """True when any line named a key result, whether it could be read or not."""
        return bool(self.lines or self.unreadable or self.names)


_NUM = r"[+-]?[0-9]+(?:[.,][0-9]+)*"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MENTION = re.compile(r"<@[A-Za-z0-9]+(?:\|[^<>\n]*)?>")  # no `<` inside: linear time
_MARKERS = re.compile(r"(?:•\s*|[-*>]\s+)+")
_NAME = re.compile(
    r"(?P<wrap>[*_]{1,2})?"
    r"(?:KR[-\s]?(?P<kr>[0-9]+)(?![^\W_])|#(?P<hash>[0-9]+)(?![^\W_])|(?P<paren>[0-9]+)\))"
    r"(?P<close>[*_]{1,2})?(?:\s*:(?![a-z_]+:)(?:[*_]{1,2})?)?",
    re.IGNORECASE,
)
_SEP = re.compile(r"\s*[—–]\s*|\s+-(?:\s+|$)")
_COLON = re.compile(r"\s*:(?:\s+|$)")
_SKIP = re.compile(r"(?:[\s,;]|[.!?](?=\s|$))*")
_STATUS = re.compile(
    rf"(?P<on_track>on[\s-]track{_END}|🟢|:large_green_circle:)"
    rf"|(?P<at_risk>at[\s-]risk{_END}|🟡|:large_yellow_circle:)"
    rf"|(?P<off_track>off[\s-]track{_END}|🔴|:red_circle:)",
    re.IGNORECASE,
)
_CONF = re.compile(
    rf"conf(?:idence)?(?![^\W\d_])\s*:?\s*(?P<a>{_NUM})(?:/10(?![0-9]))?{_END}"
    rf"|(?P<b>{_NUM})/10{_END}",
    re.IGNORECASE,
)
_CONF_WORD = re.compile(r"conf(?:idence)?(?![^\W\d_])", re.IGNORECASE)
_EXAMPLES = {
    "value": "{name} 45 on track conf 7 — shipped the beta",
    "conf": "{name} 45 conf 7",
    "number": "{name} 1,234.5",
    "large": "{name} 1.2m",
    "money": "{name} $1,200",
    "two": "{name} 45 — 50 more sign-ups expected",
    "status": "{name} 45 at risk — waiting on legal",
    "line": "#1 45",
}


class _Reject(Exception):
    """A line that can't be read: why, and a line for its key result that could be."""

    def __init__(self, kind: str, reason: str, label: str) -> None:
        super().__init__(reason)
        self.reason, self.example = reason, _EXAMPLES[kind].format(name=label)


MAX_REPLY_LINES = 100  # a check-in message lists at most 60 key results
MAX_REPLY_CHARS = 10_000


def parse_reply(text: str) -> ParsedReply:
    """Read a check-in reply (Slack message text) line by line; see the module docstring.
    A reply over the caps is not read: work per reply stays small whatever is sent."""
    raw_lines = _LINE_BREAK.split(text)
    if len(raw_lines) > MAX_REPLY_LINES or len(text) > MAX_REPLY_CHARS:
        return _too_long(raw_lines, len(text))
    out: list[ReplyLine | Unreadable] = []
    for number, raw in enumerate(raw_lines, start=1):
        body = _unescape(_MENTION.sub("", raw)).strip()
        if not body:
            continue
        read = _read_line(number, _unescape(raw), body)
        if read is not None:
            out.append(read)
        elif out and isinstance(prev := out[-1], ReplyLine):
            note = body if prev.note is None else f"{prev.note}\n{body}"
            out[-1] = replace(prev, note=note)
    return ParsedReply(
        lines=tuple(r for r in out if isinstance(r, ReplyLine)),
        unreadable=tuple(r for r in out if isinstance(r, Unreadable)),
    )


def _too_long(raw_lines: list[str], chars: int) -> ParsedReply:
    names = any(_NAME.match(_MARKERS.sub("", line.strip(), count=1)) for line in raw_lines)
    reason = (
        f"That reply has {len(raw_lines):,} lines and {chars:,} characters: I read check-ins "
        f"of up to {MAX_REPLY_LINES} lines and {MAX_REPLY_CHARS:,} characters, so nothing of "
        "it was recorded. Send one line per key result, with a short note after each."
    )
    return ParsedReply(lines=(), unreadable=(), too_long=reason, names=names)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


MAX_NUMBER = 2**31 - 1  # refs and line numbers are 32-bit integers in the database


def _read_line(number: int, text: str, body: str) -> ReplyLine | Unreadable | None:
    body = body[m.end() :] if (m := _MARKERS.match(body)) else body
    found = _NAME.match(body)
    if found is None:
        return None
    rest = body[found.end() :]
    wrap = found["wrap"]
    if wrap and not found["close"] and rest.rstrip().endswith(wrap):  # "*KR12 45*"
        rest = rest.rstrip()[: -len(wrap)]
    if found["kr"] is not None:
        name = KeyResultName(ref=f"KR{int(found['kr'])}")
        label = name.ref or ""
    else:
        name = KeyResultName(line_no=int(found["hash"] or found["paren"]))
        label = f"#{name.line_no}"
    try:
        if name.line_no == 0:
            raise _Reject("line", "Lines of the check-in message are counted from 1.", label)
        if (name.line_no or 0) > MAX_NUMBER or int(found["kr"] or 0) > MAX_NUMBER:
            raise _Reject("line", f"There is no {label[:12]}: that number is far too big.", label)
        value, status, confidence, note = _read_rest(rest, label)
    except _Reject as problem:
        return Unreadable(line=number, text=text, reason=problem.reason, example=problem.example)
    return ReplyLine(
        line=number,
        text=text,
        name=name,
        value=value,
        status=status,
        confidence=confidence,
        note=(note or "").strip() or None,
    )


def _read_rest(rest: str, label: str) -> tuple[Value | None, Status | None, int | None, str | None]:
    value: Value | None = None
    status: Status | None = None
    confidence: int | None = None
    last, first, pos = "", "", 0
    while True:
        if m := _SEP.match(rest, pos):
            if last:
                return value, status, confidence, rest[m.end() :]
            pos = m.end()  # "KR12 - 45": a dash right after the name belongs to the name
        if last and (m := _COLON.match(rest, pos)):
            return value, status, confidence, rest[m.end() :]
        pos = _skip(rest, pos)
        if pos >= len(rest):
            if not last:
                raise _Reject("value", f"I could not find a value after {label}.", label)
            return value, status, confidence, None
        if m := _STATUS.match(rest, pos):
            if status is not None:
                raise _Reject("status", f"{label} has two statuses; send one.", label)
            status, last = Status(str(m.lastgroup)), "status"
        elif m := _CONF.match(rest, pos):
            if confidence is not None:
                raise _Reject("conf", f"{label} has two confidences; send one.", label)
            confidence, last = _confidence(m["a"] or m["b"], label), "conf"
        elif _CONF_WORD.match(rest, pos):
            raise _Reject("conf", f"The confidence for {label} needs a number from 0 to 10.", label)
        elif (m := _VALUE.match(rest, pos)) and value is None:
            value, last, first = _value(m, label), "value", m[0]
        elif m and last == "value":
            reason = (
                f"I found two values for {label}, “{first}” and “{m[0]}”: send one, and put "
                "anything else after “ — ”."
            )
            raise _Reject("two", reason, label)
        elif last:
            return value, status, confidence, rest[pos:]
        else:
            word = (rest[pos:].split() or [rest[pos:]])[0]
            reason = (
                f"I could not read “{word}” after {label}: start with a value (45, 45%, 1.2k, "
                "done), a status (on track) or a confidence (conf 7)."
            )
            raise _Reject("value", reason, label)
        pos = m.end()


def _skip(text: str, pos: int) -> int:
    found = _SKIP.match(text, pos)
    return found.end() if found else pos


def _confidence(text: str, label: str) -> int:
    if text.isdigit() and int(text) <= 10:
        return int(text)
    reason = f"The confidence for {label} must be a whole number from 0 to 10, not “{text}”."
    raise _Reject("conf", reason, label)


def _value(m: re.Match[str], label: str) -> Value:
    try:
        return value_of(m, label)
    except NumberProblem as problem:
        raise _Reject(problem.example, problem.reason, label) from None
