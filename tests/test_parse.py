"""Reading check-in replies (bot/okr/parse.py): every grammar form, every rejection, properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.okr.numbers import Value, format_value
from bot.okr.parse import (
    KeyResultName,
    ParsedReply,
    ReplyLine,
    Status,
    Unreadable,
    parse_reply,
)

KR12 = KeyResultName(ref="KR12")
LINE2 = KeyResultName(line_no=2)
ON, AT, OFF = Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK


def ok(
    text: str,
    *,
    name: KeyResultName = KR12,
    value: Value | None = None,
    status: Status | None = None,
    conf: int | None = None,
    note: str | None = None,
) -> Any:
    expected = {"name": name, "value": value, "status": status, "confidence": conf, "note": note}
    return pytest.param(text, expected, id=text)


def bad(text: str, *fragments: str) -> Any:
    return pytest.param(text, fragments, id=text)


READ = [
    # How a key result is named.
    ok("KR12 45", value=Value(45.0)),
    ok("kr12 45", value=Value(45.0)),
    ok("Kr-12 45", value=Value(45.0)),
    ok("KR 12 45", value=Value(45.0)),
    ok("KR012 45", value=Value(45.0)),
    ok("KR12:45", value=Value(45.0)),
    ok("KR12: 45", value=Value(45.0)),
    ok("KR12 : 45", value=Value(45.0)),
    ok("KR12 - 45", value=Value(45.0)),
    ok("#2 45", name=LINE2, value=Value(45.0)),
    ok("#2: 45", name=LINE2, value=Value(45.0)),
    ok("2) 45", name=LINE2, value=Value(45.0)),
    ok("2): 45", name=LINE2, value=Value(45.0)),
    ok("2)45", name=LINE2, value=Value(45.0)),
    # List markers and bold or italic names.
    ok("• KR12 45", value=Value(45.0)),
    ok("•KR12 45", value=Value(45.0)),
    ok("- KR12 45", value=Value(45.0)),
    ok("* KR12 45", value=Value(45.0)),
    ok("> KR12 45", value=Value(45.0)),
    ok("&gt; KR12 45", value=Value(45.0)),
    ok("> • KR12 45", value=Value(45.0)),
    ok("  KR12 45  ", value=Value(45.0)),
    ok("*KR12* 45", value=Value(45.0)),
    ok("_KR12_ 45", value=Value(45.0)),
    ok("*KR12*: 45", value=Value(45.0)),
    ok("*KR12:* 45", value=Value(45.0)),
    ok("*#2* 45", name=LINE2, value=Value(45.0)),
    ok("*KR12 45*", value=Value(45.0)),
    ok("• *KR12*: 45 🟢", value=Value(45.0), status=ON),
    # Values.
    ok("KR12 45.5", value=Value(45.5)),
    ok("KR12 0", value=Value(0.0)),
    ok("KR12 45%", value=Value(45.0, percent=True)),
    ok("KR12 45.5 %", value=Value(45.5, percent=True)),
    ok("KR12 1.2k", value=Value(1200.0)),
    ok("KR12 1.2K", value=Value(1200.0)),
    ok("KR12 3m", value=Value(3_000_000.0)),
    ok("KR12 2B", value=Value(2_000_000_000.0)),
    ok("KR12 $12,000", value=Value(12000.0, currency=True)),
    ok("KR12 12,000$", value=Value(12000.0, currency=True)),
    ok("KR12 12 €", value=Value(12.0, currency=True)),
    ok("KR12 12€", value=Value(12.0, currency=True)),
    ok("KR12 £5.50", value=Value(5.5, currency=True)),
    ok("KR12 ¥300", value=Value(300.0, currency=True)),
    ok("KR12 €1.5k", value=Value(1500.0, currency=True)),
    ok("KR12 12,5", value=Value(12.5)),
    ok("KR12 12,50", value=Value(12.5)),
    ok("KR12 0,5", value=Value(0.5)),
    ok("KR12 12,000", value=Value(12000.0)),
    ok("KR12 1,234,567", value=Value(1234567.0)),
    ok("KR12 1,234.5", value=Value(1234.5)),
    ok("KR12 12,5000", value=Value(12.5)),
    ok("KR12 done", value=Value(0.0, done=True)),
    ok("KR12 Done!", value=Value(0.0, done=True)),
    ok("KR12 +3", value=Value(3.0, relative=True)),
    ok("KR12 -2", value=Value(-2.0, relative=True)),
    ok("KR12 +1.5k", value=Value(1500.0, relative=True)),
    ok("KR12 +0", value=Value(0.0, relative=True)),
    ok("KR12 -5%", value=Value(-5.0, relative=True, percent=True)),
    ok("KR12 +$300", value=Value(300.0, relative=True, currency=True)),
    ok("KR12 $-300", value=Value(-300.0, relative=True, currency=True)),
    ok("KR12 1000000000000000", value=Value(1e15)),
    # Statuses, alone or with a value, in any order.
    ok("KR12 on track", status=ON),
    ok("KR12 On Track", status=ON),
    ok("KR12 on-track", status=ON),
    ok("KR12 at risk", status=AT),
    ok("KR12 AT-RISK", status=AT),
    ok("KR12 off track", status=OFF),
    ok("KR12 off-track", status=OFF),
    ok("KR12 🟢", status=ON),
    ok("KR12 🟡", status=AT),
    ok("KR12 🔴", status=OFF),
    ok("KR12 :large_green_circle:", status=ON),
    ok("KR12 :large_yellow_circle:", status=AT),
    ok("KR12 :red_circle:", status=OFF),
    ok("KR12 45 at risk", value=Value(45.0), status=AT),
    ok("KR12 at risk 45", value=Value(45.0), status=AT),
    ok("KR12 45🔴", value=Value(45.0), status=OFF),
    # Confidence.
    ok("KR12 45 conf 7", value=Value(45.0), conf=7),
    ok("KR12 45 conf: 7", value=Value(45.0), conf=7),
    ok("KR12 45 conf:7", value=Value(45.0), conf=7),
    ok("KR12 45 confidence 7", value=Value(45.0), conf=7),
    ok("KR12 45 Confidence: 7", value=Value(45.0), conf=7),
    ok("KR12 45 7/10", value=Value(45.0), conf=7),
    ok("KR12 45 conf 7/10", value=Value(45.0), conf=7),
    ok("KR12 45 conf 0", value=Value(45.0), conf=0),
    ok("KR12 45 10/10", value=Value(45.0), conf=10),
    ok("KR12 conf 7", conf=7),
    ok("KR12 conf 7 45", value=Value(45.0), conf=7),
    ok("KR12 45, on track, conf 7", value=Value(45.0), status=ON, conf=7),
    ok("KR12 on track 45 conf 7", value=Value(45.0), status=ON, conf=7),
    # Notes.
    ok("KR12 45 — shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45 – shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45 - shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45—shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45: shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45 : shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 on track: shipped", status=ON, note="shipped"),
    ok("KR12 45 shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45, shipped the beta", value=Value(45.0), note="shipped the beta"),
    ok("KR12 45. Shipped the beta.", value=Value(45.0), note="Shipped the beta."),
    ok("KR12 45 conf 7 — shipped", value=Value(45.0), conf=7, note="shipped"),
    ok("KR12 45 on track conf 7: a - b", value=Value(45.0), status=ON, conf=7, note="a - b"),
    ok("KR12 45 — ", value=Value(45.0)),
    ok("KR12 45 —", value=Value(45.0)),
    ok("KR12 45:", value=Value(45.0)),
    ok("KR12 45 — conf was low", value=Value(45.0), note="conf was low"),
    ok("KR12 45 confirmed by QA", value=Value(45.0), note="confirmed by QA"),
    ok("KR12 45 on track 50 users", value=Value(45.0), status=ON, note="50 users"),
    ok("KR12 45 3rd week", value=Value(45.0), note="3rd week"),
    ok("KR12 45 EUR", value=Value(45.0), note="EUR"),
    ok("KR12 45 — see <https://x.io/a|doc>", value=Value(45.0), note="see <https://x.io/a|doc>"),
    ok("KR12 45 — Q&amp;A &lt;soon&gt;", value=Value(45.0), note="Q&A <soon>"),
    # Mentions are stripped anywhere.
    ok("<@U123ABC> KR12 45", value=Value(45.0)),
    ok("KR12 <@U123ABC|bob> 45", value=Value(45.0)),
    ok("KR12 45 — with <@U123ABC>", value=Value(45.0), note="with"),
]


@pytest.mark.parametrize(("text", "expected"), READ)
def test_reads_a_line(text: str, expected: dict[str, Any]) -> None:
    reply = parse_reply(text)
    assert reply.unreadable == ()
    assert len(reply.lines) == 1
    line = reply.lines[0]
    assert line.line == 1
    got = {k: getattr(line, k) for k in expected}
    assert got == expected
    assert reply.is_checkin


REJECTED = [
    bad("KR12", "could not find a value after KR12"),
    bad("KR12:", "could not find a value after KR12"),
    bad("*KR12*", "could not find a value after KR12"),
    bad("KR12 forty", "“forty”", "KR12"),
    bad("KR12: shipped the beta", "“shipped”", "KR12"),
    bad("KR12 — shipped the beta", "“shipped”", "KR12"),
    bad("#2 soon", "“soon”", "#2"),
    bad("2) soon", "“soon”", "#2"),
    bad("KR12 1e5", "“1e5”"),
    bad("KR12 inf", "“inf”"),
    bad("KR12 nan", "“nan”"),
    bad("KR12 45 50", "two values", "KR12", "“45”", "“50”"),
    bad("KR12 45, 50", "two values"),
    bad("KR12 45 done", "two values"),
    bad("KR12 45 +3", "two values"),
    bad("KR12 conf 11", "confidence for KR12", "0 to 10", "11"),
    bad("KR12 45 conf 11", "confidence for KR12", "0 to 10"),
    bad("KR12 45 11/10", "confidence for KR12", "0 to 10"),
    bad("KR12 45 conf 7.5", "confidence for KR12", "whole number"),
    bad("KR12 45 conf -1", "confidence for KR12", "whole number"),
    bad("KR12 45 conf high", "confidence for KR12", "number from 0 to 10"),
    bad("KR12 45 confidence", "confidence for KR12"),
    bad("KR12 45 conf 7 conf 8", "KR12 has two confidences"),
    bad("KR12 45 7/10 conf 7", "KR12 has two confidences"),
    bad("KR12 🟢 at risk", "KR12 has two statuses"),
    bad("KR12 45 on track :red_circle:", "KR12 has two statuses"),
    bad("KR12 1.234,5", "“1.234,5”", "KR12", "a point for decimals"),
    bad("KR12 1.2.3", "“1.2.3”"),
    bad("KR12 12,50,000", "“12,50,000”"),
    bad("KR12 2000000b", "too large", "KR12"),
    bad("KR12 1000000000000001", "too large"),
    bad("KR12 -2000000000000000", "too large"),
    bad("KR12 $45%", "“$45%”", "KR12", "not both"),
    bad("KR12 $5€", "one currency"),
    bad("KR12 +$-5", "one sign"),
    bad("#0 45", "counted from 1"),
    bad("0) 45", "counted from 1"),
]


@pytest.mark.parametrize(("text", "fragments"), REJECTED)
def test_rejects_a_line_saying_why(text: str, fragments: tuple[str, ...]) -> None:
    reply = parse_reply(text)
    assert reply.lines == ()
    assert len(reply.unreadable) == 1
    problem = reply.unreadable[0]
    assert (problem.line, problem.text) == (1, text)
    for fragment in fragments:
        assert fragment in problem.reason
    assert reply.is_checkin
    # The suggested line is itself a good line.
    fixed = parse_reply(problem.example)
    assert fixed.unreadable == () and len(fixed.lines) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "Here's my update:",
        "1. KR12 45",
        "Update on KR12: 45",
        "KR12abc 45",
        "#two 45",
        "<@U123ABC>",
        "thanks!\n  \nall good",
    ],
)
def test_lines_that_name_no_key_result_are_not_a_checkin(text: str) -> None:
    assert parse_reply(text) == ParsedReply(lines=(), unreadable=())
    assert not parse_reply(text).is_checkin


def test_a_whole_reply() -> None:
    text = (
        "<@UBOT> Here's my update:\n"
        "KR12 45 — shipped\n"
        "the beta went out &lt;Tuesday&gt;\n"
        "\n"
        "• *KR13* on track\n"
        "KR14 forty\n"
        "this continues a line that was not read\n"
        "#3 done: launched\n"
        "- and announced\n"
        "KR15 +2"
    )
    reply = parse_reply(text)
    assert [(r.line, r.name, r.note) for r in reply.lines] == [
        (2, KR12, "shipped\nthe beta went out <Tuesday>"),
        (5, KeyResultName(ref="KR13"), None),
        (8, KeyResultName(line_no=3), "launched\n- and announced"),
        (10, KeyResultName(ref="KR15"), None),
    ]
    assert reply.lines[0].text == "KR12 45 — shipped"
    assert reply.lines[1].status is ON
    assert [(u.line, u.text) for u in reply.unreadable] == [(6, "KR14 forty")]
    assert "KR14" in reply.unreadable[0].reason
    assert reply.unreadable[0].example == "KR14 45 on track conf 7 — shipped the beta"


def test_a_continuation_starts_a_missing_note() -> None:
    (line,) = parse_reply("KR1 4\n  shipped the beta  \n\nand the docs").lines
    assert line.note == "shipped the beta\nand the docs"


def test_the_same_key_result_twice_keeps_both_lines() -> None:
    reply = parse_reply("KR1 4\nkr-1 5")
    assert [(r.name.ref, r.value) for r in reply.lines] == [
        ("KR1", Value(4.0)),
        ("KR1", Value(5.0)),
    ]


def test_line_numbers_count_every_line_and_any_line_break() -> None:
    reply = parse_reply("\r\nKR1 4\r\n\nKR2 5\rKR3 6")
    assert [r.line for r in reply.lines] == [2, 4, 5]


def test_text_is_the_line_as_typed_after_unescaping() -> None:
    (line,) = parse_reply("&gt; <@U1> KR1 4 &amp; more").lines
    assert line.text == "> <@U1> KR1 4 & more"
    assert line.note == "& more"


def test_only_unreadable_lines_still_make_a_checkin() -> None:
    reply = parse_reply("hi\nKR1 soon")
    assert reply.lines == () and reply.is_checkin


def test_results_are_frozen() -> None:
    line = parse_reply("KR1 4").lines[0]
    with pytest.raises(AttributeError):
        line.note = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Value(45.0), "45"),
        (Value(45.5), "45.5"),
        (Value(0.1), "0.1"),
        (Value(1e-7), "0.0000001"),
        (Value(45.0, percent=True), "45%"),
        (Value(1200.0), "1,200"),
        (Value(1234567.5), "1,234,567.5"),
        (Value(3.0, relative=True), "+3"),
        (Value(-2.0, relative=True), "-2"),
        (Value(0.0, relative=True), "+0"),
        (Value(-1500.0, relative=True, currency=True), "-$1,500"),
        (Value(12000.0, currency=True), "$12,000"),
        (Value(5.0, relative=True, percent=True), "+5%"),
        (Value(0.0, done=True), "done"),
    ],
)
def test_format_value(value: Value, text: str) -> None:
    assert format_value(value) == text


def test_format_value_takes_the_key_results_currency_symbol() -> None:
    assert format_value(Value(12000.0, currency=True), currency="€") == "€12,000"


# Properties ---------------------------------------------------------------------------

FRAGMENTS = [
    "KR1", "kr-2", "#3", "4)", "*KR5*", "_KR6_:", "•", "-", "—", "–", ":", ",", ".", "45",
    "+3", "-2", "1.2k", "3M", "$12,000", "12 €", "12,5", "1,234.5", "45%", "done", "on track",
    "at-risk", "🟢", "🔴", ":red_circle:", "conf", "conf 7", "confidence: 11", "7/10", "&lt;",
    "&gt;", "&amp;", "<@U1>", "<https://x|y>", "1e999", "9" * 40, "\n", "\r\n", " ",
]  # fmt: skip
glued = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=30).map("".join)
spaced = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join)
grammarish = glued | spaced


def _check_shape(text: str, reply: ParsedReply) -> None:
    numbers = [r.line for r in reply.lines] + [u.line for u in reply.unreadable]
    assert len(numbers) == len(set(numbers))
    assert all(1 <= n <= len(text) + 1 for n in numbers)
    for line in reply.lines:
        assert line.value or line.status or line.confidence is not None
        assert line.note is None or (line.note and line.note == line.note.strip())
        assert line.confidence is None or 0 <= line.confidence <= 10
        assert line.value is None or abs(line.value.number) <= 1e15
    for problem in reply.unreadable:
        assert problem.reason and problem.example


@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    _check_shape(text, parse_reply(text))


@given(grammarish)
def test_never_raises_on_grammar_like_text(text: str) -> None:
    _check_shape(text, parse_reply(text))


decimals = st.integers(0, 6).flatmap(
    lambda places: st.decimals(min_value=0, max_value=10**15, places=places)
)


@given(st.integers(0, 10**9), decimals, st.sampled_from(["", "+", "-"]), st.data())
def test_numbers_round_trip(n: int, number: Decimal, sign: str, data: st.DataObject) -> None:
    forms = [format(number, "f"), format(number, ",f")]
    whole, _, fraction = format(number, "f").partition(".")
    if fraction and len(fraction) != 3:
        forms.append(f"{whole},{fraction}")  # a decimal comma
    typed = data.draw(st.sampled_from(forms))
    reply = parse_reply(f"KR{n} {sign}{typed}")
    assert reply.unreadable == ()
    (line,) = reply.lines
    assert line.name == KeyResultName(ref=f"KR{n}")
    signed = -number if sign == "-" else number
    assert line.value == Value(float(signed), relative=bool(sign))
    assert Decimal(line.value.number) == Decimal(float(signed))


no_breaks = st.text(st.characters(blacklist_characters="\r\n"))
named_line = st.tuples(st.integers(0, 999), no_breaks).map(lambda t: f"KR{t[0]} {t[1]}")
other_line = st.text("abcdefghij ,.!?'", max_size=20)


@given(st.lists(st.tuples(st.booleans(), named_line, other_line), max_size=12))
def test_every_named_line_is_read_or_refused(rows: list[tuple[bool, str, str]]) -> None:
    lines = [named if is_named else other for is_named, named, other in rows]
    reply = parse_reply("\n".join(lines))
    named = {i for i, (is_named, _, _) in enumerate(rows, start=1) if is_named}
    read = [r.line for r in reply.lines]
    refused = [u.line for u in reply.unreadable]
    assert sorted(read + refused) == sorted(named)
    assert not set(read) & set(refused)
    assert reply.is_checkin == bool(named)


@st.composite
def values(draw: st.DrawFn) -> Value:
    if draw(st.integers(0, 9)) == 0:
        return Value(0.0, done=True)
    relative = draw(st.booleans())
    low = -1e15 if relative else 0.0
    number = round(draw(st.floats(min_value=low, max_value=1e15, allow_nan=False)), 9)
    flag = draw(st.sampled_from(["", "percent", "currency"]))
    return Value(number, relative=relative, percent=flag == "percent", currency=flag == "currency")


@given(values(), st.sampled_from("$€£¥"))
def test_format_value_reads_back(value: Value, symbol: str) -> None:
    reply = parse_reply(f"KR1 {format_value(value, currency=symbol)}")
    assert reply.unreadable == ()
    assert reply.lines[0].value == value


def test_reply_line_and_unreadable_are_plain_data() -> None:
    line = ReplyLine(
        line=1, text="KR1 4", name=KeyResultName(ref="KR1"), value=Value(4.0),
        status=None, confidence=None, note=None,
    )  # fmt: skip
    assert parse_reply("KR1 4").lines == (line,)
    problem = Unreadable(line=1, text="x", reason="r", example="e")
    assert problem.reason == "r"


def test_a_reply_over_the_caps_is_not_read_and_says_why() -> None:
    from bot.okr.parse import MAX_REPLY_CHARS, MAX_REPLY_LINES

    many = parse_reply("\n".join(f"KR{i} {i}" for i in range(MAX_REPLY_LINES + 1)))
    assert many.is_checkin and many.lines == () and many.too_long is not None
    assert "101 lines" in many.too_long and "nothing of it was recorded" in many.too_long
    chatter = parse_reply("lorem ipsum " * (MAX_REPLY_CHARS // 10))
    assert chatter.too_long is not None and not chatter.is_checkin  # no key result: ignored
    at_cap = parse_reply("\n".join(f"KR{i} {i}" for i in range(1, MAX_REPLY_LINES + 1)))
    assert len(at_cap.lines) == MAX_REPLY_LINES and at_cap.too_long is None


def test_mentions_with_labels_are_dropped_without_eating_the_line() -> None:
    reply = parse_reply("<@U1|ana> KR1 45 <@a|<@b|x> — thanks <@U2>")
    [line] = reply.lines
    assert line.value == Value(45.0) and line.note == "<@a| — thanks"  # not a mention: text
