"""The one number grammar: every number a person types, in a reply, a command or a form, is
read here, and every number the bot shows in a form is written here.

Digits: `45`, `45.5`, `1.2k`, `3m`, `2b` (thousand, million, billion). A comma followed by
exactly three digits separates thousands (`12,000`, `1,234,567`, `1,234.5`); any other comma
is a decimal comma (`12,5` and `12,50` are 12.5). A currency symbol `$ € £ ¥` may come before
or after, or a `%` after. Refused: a separator after the decimal one (`1.234,5`), two signs
or two currency symbols, money and a percent together, anything over 1e15, and words.

Two columns of meaning share these digits:
- check-in values (`read_value`, used through the reply grammar in `okr/parse.py`): a sign
  means a change from the current value (`+3`, `-2`), `done` completes a milestone, a `%`
  only for percent key results and money only for currency ones (`resolve_value`);
- form fields (`read_number`): a plain number, where a sign is just a sign (a start of `-20`
  for an NPS key result), checked against the field's bounds (`START`, `TARGET`, `WEIGHT`,
  `HOURS`).
`format_number` writes a number so that reading it back gives the same float.
"""

from __future__ import annotations

import math
import re
from dataclasses import KW_ONLY, dataclass
from decimal import Decimal, InvalidOperation

from bot.okr.progress import Kind

LIMIT = 10**15  # |value|, |start|, |target|: far beyond any real measure, so no overflow
PLACES = 9  # decimal places at most: a form shows every number in full, and no start and
# target can be so close that progress overflows
CURRENCIES = "$€£¥"
END = r"(?=$|[\s—–🟢🟡🔴]|[:;,.!?](?:\s|$))"  # what may follow a value, status or confidence
VALUE = re.compile(
    rf"(?P<done>done){END}"
    rf"|(?P<s1>[+-])?(?P<c1>[{CURRENCIES}])?(?P<s2>[+-])?(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    rf"(?P<mult>[kmb])?(?:\s?(?P<c2>[{CURRENCIES}]))?(?:\s?(?P<pct>%))?{END}",
    re.IGNORECASE,
)
_POWER = {"": 0, "k": 3, "m": 6, "b": 9}
NUMBER_CHARS = 40  # a form's number box: -1,000,000,000,000,000.123456789 and a unit sign


@dataclass(frozen=True)
class Value:
    """A check-in value as typed, before it meets its key result (`resolve_value`)."""

    number: float  # done: 0.0 (meaningless); relative: the signed change
    _: KW_ONLY
    relative: bool = False
    percent: bool = False
    currency: bool = False
    done: bool = False


class NumberProblem(ValueError):
    """A number that cannot be read or used; `reason` is a sentence for the person, and
    `example` names the kind of line that would be read (see `okr/parse.py`)."""

    def __init__(self, reason: str, *, example: str = "value") -> None:
        super().__init__(reason)
        self.reason, self.example = reason, example


def value_of(m: re.Match[str], label: str) -> Value:
    """The Value of a `VALUE` match found after key result `label`."""
    if m["done"]:
        return Value(number=0.0, done=True)
    currency = bool(m["c1"] or m["c2"])
    if currency and m["pct"] or m["s1"] and m["s2"] or m["c1"] and m["c2"]:
        reason = (
            f"I could not read the value “{m[0]}” for {label}: use one sign and one currency "
            "symbol at most, and money or a percent, not both."
        )
        raise NumberProblem(reason, example="money")
    plain = _plain_number(m["num"])
    if plain is None:
        reason = (
            f"I could not read the number “{m['num']}” for {label}: use a point for decimals "
            "and commas between thousands."
        )
        raise NumberProblem(reason, example="number")
    sign = m["s1"] or m["s2"] or ""
    number = Decimal(f"{sign}{plain}E{_POWER[(m['mult'] or '').lower()]}")
    if abs(number) > LIMIT:
        raise NumberProblem(
            f"The value “{m[0]}” for {label} is too large to be real.", example="large"
        )
    if _too_precise(number):
        raise NumberProblem(
            f"The value “{m[0]}” for {label} has more than {PLACES} decimal places.",
            example="number",
        )
    return Value(float(number), relative=bool(sign), percent=bool(m["pct"]), currency=currency)


def _plain_number(text: str) -> str | None:
    """'1,234.5' -> '1234.5', '12,5' -> '12.5'; None with a separator after the decimal one."""
    parts = re.split(r"([.,])", text)
    out, decimal = parts[0], False
    for sep, digits in zip(parts[1::2], parts[2::2], strict=True):
        if decimal:
            return None
        if sep == "," and len(digits) == 3 and out != "0":  # `0,125` is an eighth
            out += digits
        else:
            out, decimal = f"{out}.{digits}", True
    return out


@dataclass(frozen=True)
class KeyResultScale:
    """What a value is checked in against: the key result's ref, kind, unit and start."""

    ref: str
    kind: str
    unit: str
    start: float
    target: float


def resolve_value(value: Value, scale: KeyResultScale, *, current: float | None) -> float:
    """The number to store for `value` on a key result: a change counts from `current` (or
    the start when nothing is recorded yet); `done` is the milestone's target."""
    ref, kind = scale.ref, scale.kind
    if value.done:
        if kind != Kind.MILESTONE:
            raise NumberProblem(f"`done` is for milestones; {ref} needs a number.")
        return scale.target
    if kind == Kind.MILESTONE:
        if value.relative or value.percent or value.currency or value.number not in (0, 1):
            raise NumberProblem(
                f"{ref} is a milestone: reply `{ref} done` when it is done (or `{ref} 0` "
                "while it is not)."
            )
        return value.number
    if value.percent and kind != Kind.PERCENT:
        raise NumberProblem(f"{ref} is counted in {scale.unit or 'numbers'}, not in %.")
    if value.currency and kind != Kind.CURRENCY:
        raise NumberProblem(f"{ref} is counted in {scale.unit or 'numbers'}, not in money.")
    if not value.relative:
        return value.number
    base = Decimal(repr(current if current is not None else scale.start))
    total = float(base + Decimal(repr(value.number)))  # 0.1 + 0.2 is 0.3 here
    if abs(total) > LIMIT:
        raise NumberProblem(f"That change takes {ref} beyond {LIMIT:.0e}.", example="large")
    return total


@dataclass(frozen=True)
class Bounds:
    """Where a form field's number may lie, and how to say so."""

    label: str
    low: float
    high: float
    low_open: bool = False  # the low end itself is not allowed

    def admits(self, number: float) -> bool:
        above = number > self.low if self.low_open else number >= self.low
        return math.isfinite(number) and above and number <= self.high

    def explain(self) -> str:
        if self.low_open:
            return f"The {self.label} must be above {format_number(self.low)} and at most " + (
                f"{format_number(self.high)}."
            )
        return (
            f"The {self.label} must be from {format_number(self.low)} to "
            f"{format_number(self.high)}."
        )


START = Bounds("start", -LIMIT, LIMIT)
TARGET = Bounds("target", -LIMIT, LIMIT)
WEIGHT = Bounds("weight", 0, 100, low_open=True)
HOURS_MAX = 7 * 24  # a reminder or digest a week after its prompt meets the next round
HOURS = Bounds("number of hours", 0, HOURS_MAX)

_FORM = re.compile(
    rf"(?P<s1>[+-])?(?P<c1>[{CURRENCIES}])?\s?(?P<s2>[+-])?(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    rf"(?P<mult>[kmb])?(?:\s?(?P<c2>[{CURRENCIES}]))?(?:\s?(?P<pct>%))?",
    re.IGNORECASE,
)


def read_number(text: str, bounds: Bounds) -> float:
    """A number typed in a form field (`-20`, `12,000`, `2,5`, `1.2k`, `$1,200`, `45%`)."""
    typed = text.strip()
    m = _FORM.fullmatch(typed)
    money = m is not None and (m["c1"] or m["c2"])
    if m is None or (m["s1"] and m["s2"]) or (m["c1"] and m["c2"]) or (m["pct"] and money):
        raise NumberProblem(
            f"The {bounds.label} must be a number, like 42, -20, 3.5 or 12,000; "
            f"“{typed[:40]}” is not one."
        )
    plain = _plain_number(m["num"])
    if plain is None:
        raise NumberProblem(
            f"The {bounds.label} “{typed[:40]}” has a separator after its decimal one: use a "
            "point for decimals and commas between thousands, like 1,234.5."
        )
    try:
        number = Decimal(f"{m['s1'] or m['s2'] or ''}{plain}E{_POWER[(m['mult'] or '').lower()]}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise NumberProblem(f"The {bounds.label} must be a number.") from None
    if abs(number) > LIMIT or not bounds.admits(float(number)):
        raise NumberProblem(bounds.explain())
    if _too_precise(number):
        raise NumberProblem(f"The {bounds.label} has more than {PLACES} decimal places.")
    return float(number)


def _too_precise(number: Decimal) -> bool:
    exponent = number.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < -PLACES


def format_number(number: float) -> str:
    """`1,234,567`, `12.5`, `-20`: the shortest text that reads back as the same float."""
    if number == 0:
        return "0"
    if not math.isfinite(number):
        return str(number)
    return format(Decimal(repr(number)).normalize(), ",f")


def format_value(value: Value, *, currency: str = "$") -> str:
    """`+3`, `45%`, `$1,200`, `done`: what the reply grammar reads back as the same Value.

    `currency` is the key result's symbol, one of `$ € £ ¥` for the text to read back.
    """
    if value.done:
        return "done"
    digits = format_number(abs(value.number))
    text = (currency if value.currency else "") + digits + ("%" if value.percent else "")
    return ("-" if value.number < 0 else "+") + text if value.relative else text
