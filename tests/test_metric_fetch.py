"""Fetching a key result's value from its JSON source, with the network faked at the
transport (httpx MockTransport): each failure mode gives a clear error that never holds the
source's secret, and a good answer gives the number at the field path."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import httpx
import pytest

from bot.sources.fetch import MAX_REDIRECTS, HttpJsonSource, NoSource, SourceSpec, check_url
from bot.sources.paths import PathProblem, number_at, parse_path

SECRET = "Bearer s3cr3t-value-9f8e7d"
URL = "https://metrics.example/signups"


def source(handler: Callable[[httpx.Request], httpx.Response], **kwargs: float) -> HttpJsonSource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpJsonSource(client, **kwargs)  # type: ignore[arg-type]


def answer(body: object, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == SECRET
        return httpx.Response(status, json=body)

    return handler


SPEC = SourceSpec(URL, "data.total", "Authorization")


async def test_the_number_at_the_field_path() -> None:
    result = await source(answer({"data": {"total": 1240}})).pull(SPEC, secret=SECRET)
    assert result.ok and result.value == 1240.0
    spec = SourceSpec(URL, "results[0].value", "Authorization")
    result = await source(answer({"results": [{"value": 12.5}, {"value": 3}]})).pull(
        spec, secret=SECRET
    )
    assert result.value == 12.5


def slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def sleepy_handler(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(5)
    return httpx.Response(200, json={"data": {"total": 1}})


def text_of(content: bytes, status: int = 200, **headers: str) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(status, content=content, headers=headers)


def redirect_loop(request: httpx.Request) -> httpx.Response:
    return httpx.Response(302, headers={"Location": f"{URL}?hop={len(str(request.url))}"})


FAILURES: list[tuple[str, Callable[..., object], str]] = [
    ("timeout", slow, "did not answer within"),
    ("non-JSON", text_of(b"<html>" + SECRET.encode() + b"</html>"), "is not JSON"),
    ("missing field", answer({"data": {"count": 3}}), "has no field `data.total`"),
    ("missing item", answer({"data": []}), "has no field `data.total`"),
    ("text", answer({"data": {"total": SECRET}}), "`data.total` is text, not a number"),
    ("null", answer({"data": {"total": None}}), "`data.total` is null, not a number"),
    ("true/false", answer({"data": {"total": True}}), "is true/false, not a number"),
    ("object", answer({"data": {"total": {"v": 1}}}), "is an object, not a number"),
    ("redirect loop", redirect_loop, f"redirected more than {MAX_REDIRECTS} times"),
    (
        "redirect to another scheme",
        lambda request: httpx.Response(302, headers={"Location": "file:///etc/passwd"}),
        "redirected to a URL that is not http or https",
    ),
    ("over the size cap", text_of(b'{"data": {"total": 1}, "pad": "' + b"x" * 5000 + b'"}'),
     "is over 2,000 bytes"),
    ("declared over the size cap", text_of(b"{}", **{"Content-Length": "999999"}),
     "is over 2,000 bytes"),
    ("server error", text_of(SECRET.encode(), status=500), "answered HTTP 500"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "handler", "says"), FAILURES, ids=[f[0] for f in FAILURES])
async def test_each_failure_is_a_clear_error_without_the_secret(
    name: str, handler: Callable[..., httpx.Response], says: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = await source(handler, max_bytes=2000, timeout=2.0).pull(SPEC, secret=SECRET)
    assert not result.ok and result.value is None
    assert result.error is not None and says in result.error
    assert SECRET not in result.error and "s3cr3t" not in caplog.text


async def test_a_slow_source_is_cut_at_the_timeout() -> None:
    result = await source(sleepy_handler, timeout=0.2).pull(SPEC, secret=SECRET)
    assert result.error == "The source did not answer within 0.2 s."


async def test_the_secret_is_not_sent_to_another_host_on_redirect() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        if request.url.host == "metrics.example":
            return httpx.Response(302, headers={"Location": "https://other.example/x"})
        return httpx.Response(200, json={"data": {"total": 7}})

    result = await source(handler).pull(SPEC, secret=SECRET)
    assert result.value == 7.0
    assert seen[0]["authorization"] == SECRET and "authorization" not in seen[1]


@pytest.mark.parametrize(
    ("location", "keeps"),
    [
        ("http://metrics.example/x", False),  # https to http: never in clear text
        ("https://metrics.example:8443/x", False),  # another port is another server
        ("https://METRICS.example:443/y", True),  # the same origin, spelled otherwise
        ("/elsewhere", True),  # a path on the same origin
    ],
)
async def test_the_secret_follows_a_redirect_only_to_its_own_origin(
    location: str, keeps: bool
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, json={"data": {"total": 7}})

    result = await source(handler).pull(SPEC, secret=SECRET)
    assert result.value == 7.0
    assert seen[0].headers["authorization"] == SECRET
    assert ("authorization" in seen[1].headers) is keeps


async def test_no_source_says_so() -> None:
    assert (await NoSource().pull(SPEC, secret=None)).error == "This key result has no source."


@pytest.mark.parametrize(
    ("path", "document", "value"),
    [
        ("a", {"a": 1}, 1.0),
        ("a.b.c", {"a": {"b": {"c": 2.5}}}, 2.5),
        ("items[-1].n", {"items": [{"n": 1}, {"n": 9}]}, 9.0),
        ("m[1][0]", {"m": [[1], [4]]}, 4.0),
        ("[0]", [3], 3.0),
    ],
)
def test_field_paths(path: str, document: object, value: float) -> None:
    assert number_at(json.loads(json.dumps(document)), path) == value


@pytest.mark.parametrize("path", ["", "a..b", "a[x]", "a.", "a b", "x" * 201])
def test_unreadable_paths_are_refused(path: str) -> None:
    with pytest.raises(PathProblem):
        parse_path(path)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://metrics.example/x", "starts with http:// or https://"),
        ("metrics.example/x", "starts with http:// or https://"),
        ("https://user:pw@metrics.example/x", "not the URL"),
        ("https://metrics.example/" + "x" * 2000, "keep it to 2000"),
    ],
)
def test_source_urls_are_checked(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_url(url)
