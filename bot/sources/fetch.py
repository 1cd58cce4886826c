"""Fetching a key result's value from its source: one interface (`MetricSource`), the HTTP
JSON implementation, and "none" for a key result without a source.

A fetch either gives a number or a `PullError` whose message a person can act on and which
never holds the secret (errors are written here, not copied from exceptions, and anything
that could echo the secret is masked).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from bot.sources.paths import PathProblem, number_at
from bot.sources.safety import SCHEMES, Refused

MAX_REDIRECTS = 3
URL_MAX = 2000
HEADER_NAME_MAX = 100
SECRET_MAX = 2000
MASK = "[secret]"


@dataclass(frozen=True)
class SourceSpec:
    """Where a key result's value is: a URL, a field path, and an optional header name
    whose value (the secret) is kept apart, encrypted."""

    url: str
    path: str
    header: str | None = None


@dataclass(frozen=True)
class PullResult:
    value: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None


class MetricSource(Protocol):
    """What the pull runner needs of a source: a value, or why there is none."""

    async def pull(self, spec: SourceSpec, *, secret: str | None) -> PullResult: ...


class NoSource:
    """A key result without a source (or sources switched off)."""

    async def pull(self, spec: SourceSpec, *, secret: str | None) -> PullResult:
        return PullResult(error="This key result has no source.")


def check_url(url: str) -> str:
    """`url` if a source may name it (http or https, a host, bounded); `ValueError` says why."""
    text = url.strip()
    if len(text) > URL_MAX:
        raise ValueError(f"The URL has {len(text)} characters; keep it to {URL_MAX}.")
    parts = urlsplit(text)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise ValueError("A source URL starts with http:// or https:// and names a host.")
    if parts.username or parts.password:
        raise ValueError("Put credentials in a header (`header=` and `secret=`), not the URL.")
    return text


def _mask(text: str, secret: str | None) -> str:
    return text.replace(secret, MASK) if secret and len(secret) >= 3 else text


class HttpJsonSource:
    """GET the URL (with the secret header if any), follow at most `MAX_REDIRECTS` redirects
    (each through the pinned transport), read at most `max_bytes`, and take the number at
    the field path."""

    def __init__(
        self, client: httpx.AsyncClient, *, timeout: float = 10.0, max_bytes: int = 1_000_000
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def pull(self, spec: SourceSpec, *, secret: str | None) -> PullResult:
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._get(spec, secret)
        except TimeoutError:
            return PullResult(error=f"The source did not answer within {self.timeout:g} s.")
        except Refused as refused:
            return PullResult(error=_mask(str(refused), secret))
        except _Failed as failed:
            return PullResult(error=_mask(str(failed), secret))
        except httpx.TimeoutException:
            return PullResult(error=f"The source did not answer within {self.timeout:g} s.")
        except (httpx.HTTPError, OSError) as exc:
            return PullResult(error=f"Could not reach the source ({type(exc).__name__}).")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return PullResult(error="The source's answer is not JSON.")
        try:
            return PullResult(value=number_at(document, spec.path))
        except PathProblem as problem:
            return PullResult(error=_mask(str(problem), secret))
        except RecursionError:
            return PullResult(error="The source's answer is nested too deeply.")

    async def _get(self, spec: SourceSpec, secret: str | None) -> bytes:
        headers = {"Accept": "application/json"}
        if spec.header and secret is not None:
            headers[spec.header] = secret
        url = httpx.URL(spec.url)
        origin = _origin(url)
        for _hop in range(MAX_REDIRECTS + 1):
            request = self.client.build_request("GET", url, headers=headers)
            response = await self.client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    url = url.join(location)
                    if url.scheme not in SCHEMES:
                        raise _Failed("The source redirected to a URL that is not http or https.")
                    if spec.header and _origin(url) != origin:
                        # The secret stays with its own scheme, host and port: never sent
                        # elsewhere, nor in clear text after a redirect from https to http.
                        headers.pop(spec.header, None)
                    continue
                if response.status_code >= 400:
                    raise _Failed(f"The source answered HTTP {response.status_code}.")
                return await self._body(response)
            finally:
                await response.aclose()
        raise _Failed(f"The source redirected more than {MAX_REDIRECTS} times.")

    async def _body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _Failed(f"The source's answer is over {self.max_bytes:,} bytes.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _Failed(f"The source's answer is over {self.max_bytes:,} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


class _Failed(Exception):
    """A fetch that got an answer that will not do; the message is shown to the owner."""
