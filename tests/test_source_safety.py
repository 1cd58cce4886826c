"""The network rules of metric sources, through the production transport against real
servers on loopback, with the resolver injected: loopback, IPv6 loopback, the cloud metadata
address and private addresses are refused, directly, through a host name and after a
redirect, unless the allow-list names them; a host name is resolved once per request and the
connection pinned to that answer (DNS rebinding finds nothing to rebind)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from bot.sources.fetch import HttpJsonSource, SourceSpec
from bot.sources.safety import AddressPolicy, Refused, parse_allow_list, source_client
from tests.metric_server import MetricServer, metric_server

FORBIDDEN = ["127.0.0.1", "::1", "169.254.169.254", "10.0.0.1"]


@dataclass
class FakeDns:
    """Answers from a table; a list of answers is served in turn (rebinding)."""

    table: dict[str, list[list[str]]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        answers = self.table[host]
        return answers[0] if len(answers) == 1 else answers.pop(0)


def fetcher(dns: FakeDns, allow: str = "") -> HttpJsonSource:
    client = source_client(policy=AddressPolicy(parse_allow_list(allow)), resolver=dns, timeout=2)
    return HttpJsonSource(client, timeout=2)


@pytest.fixture
async def target() -> AsyncIterator[MetricServer]:
    """The server a refused request must never reach (127.0.0.1, as a metadata or internal
    service would be)."""
    async with metric_server("127.0.0.1") as server:
        yield server


@pytest.fixture
async def edge() -> AsyncIterator[MetricServer]:
    """An allowed server that redirects (127.0.0.2: loopback too, allow-listed by itself)."""
    async with metric_server("127.0.0.2") as server:
        yield server


def _at(address: str, port: int) -> str:
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


@pytest.mark.parametrize("address", FORBIDDEN)
async def test_a_forbidden_address_is_refused_directly(address: str, target: MetricServer) -> None:
    result = await fetcher(FakeDns({})).pull(
        SourceSpec(f"{_at(address, target.port)}/metric", "data.total"), secret=None
    )
    assert result.error is not None and "sources may not reach" in result.error
    assert target.requests == []


@pytest.mark.parametrize("address", FORBIDDEN)
async def test_a_host_name_resolving_to_a_forbidden_address_is_refused(
    address: str, target: MetricServer
) -> None:
    dns = FakeDns({"metrics.example": [[address]]})
    result = await fetcher(dns).pull(
        SourceSpec(f"http://metrics.example:{target.port}/metric", "data.total"), secret=None
    )
    assert result.error is not None and "metrics.example is a" in result.error
    assert target.requests == []


async def test_one_forbidden_address_among_several_refuses(target: MetricServer) -> None:
    dns = FakeDns({"metrics.example": [["93.184.216.34", "10.0.0.1"]]})
    result = await fetcher(dns).pull(
        SourceSpec(f"http://metrics.example:{target.port}/metric", "data.total"), secret=None
    )
    assert result.error is not None and "private address (10.0.0.1)" in result.error


@pytest.mark.parametrize("address", FORBIDDEN)
async def test_a_redirect_to_a_forbidden_address_is_refused(
    address: str, target: MetricServer, edge: MetricServer
) -> None:
    dns = FakeDns({"edge.example": [["127.0.0.2"]]})
    to = f"{_at(address, target.port)}/metric"
    spec = SourceSpec(f"http://edge.example:{edge.port}/redirect?to={to}", "data.total")
    result = await fetcher(dns, allow="127.0.0.2").pull(spec, secret=None)
    assert result.error is not None and "sources may not reach" in result.error
    assert len(edge.requests) == 1 and target.requests == []


async def test_a_redirect_to_a_host_name_of_a_forbidden_address_is_refused(
    target: MetricServer, edge: MetricServer
) -> None:
    dns = FakeDns({"edge.example": [["127.0.0.2"]], "inside.example": [["169.254.169.254"]]})
    to = f"http://inside.example:{target.port}/metric"
    spec = SourceSpec(f"http://edge.example:{edge.port}/redirect?to={to}", "data.total")
    result = await fetcher(dns, allow="127.0.0.2").pull(spec, secret=None)
    assert result.error is not None and "link-local (cloud metadata)" in result.error
    assert target.requests == []


async def test_allow_listed_addresses_are_reached(target: MetricServer, edge: MetricServer) -> None:
    dns = FakeDns({"metrics.example": [["127.0.0.1"]], "edge.example": [["127.0.0.2"]]})
    allowed = fetcher(dns, allow="127.0.0.1, 127.0.0.2/32")
    direct = await allowed.pull(SourceSpec(f"{target.url}/metric", "data.total"), secret=None)
    named = await allowed.pull(
        SourceSpec(f"http://metrics.example:{target.port}/metric", "data.total"), secret=None
    )
    redirected = await allowed.pull(
        SourceSpec(
            f"http://edge.example:{edge.port}/redirect?to={target.url}/metric", "data.total"
        ),
        secret=None,
    )
    assert (direct.value, named.value, redirected.value) == (1240.0, 1240.0, 1240.0)
    # Pinned to the address, the request still names its host.
    assert target.requests[1] == f"metrics.example:{target.port} /metric"


async def test_dns_rebinding_finds_the_connection_pinned(
    target: MetricServer, edge: MetricServer
) -> None:
    """The host resolves to an allowed address, then to a forbidden one: each request looks
    it up once and connects to what it checked; the second answer is refused."""
    dns = FakeDns({"rebind.example": [["127.0.0.2"], ["127.0.0.1"]]})
    allowed = fetcher(dns, allow="127.0.0.2")
    first = await allowed.pull(
        SourceSpec(f"http://rebind.example:{edge.port}/metric", "data.total"), secret=None
    )
    assert first.value == 1240.0 and dns.asked == ["rebind.example"]
    second = await allowed.pull(
        SourceSpec(f"http://rebind.example:{target.port}/metric", "data.total"), secret=None
    )
    assert second.error is not None and "loopback address (127.0.0.1)" in second.error
    assert dns.asked == ["rebind.example", "rebind.example"] and target.requests == []


async def test_a_redirect_back_to_a_rebound_host_is_checked_again(
    target: MetricServer, edge: MetricServer
) -> None:
    dns = FakeDns({"rebind.example": [["127.0.0.2"], ["127.0.0.1"]]})
    to = f"http://rebind.example:{target.port}/metric"
    spec = SourceSpec(f"http://rebind.example:{edge.port}/redirect?to={to}", "data.total")
    result = await fetcher(dns, allow="127.0.0.2").pull(spec, secret=None)
    assert result.error is not None and "loopback" in result.error
    assert target.requests == [] and len(edge.requests) == 1


@pytest.mark.parametrize("url", ["ftp://127.0.0.2/x", "file:///etc/passwd"])
async def test_only_http_and_https(url: str) -> None:
    result = await fetcher(FakeDns({})).pull(SourceSpec(url, "a"), secret=None)
    assert result.error is not None and "http" in result.error


def test_the_allow_list_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="not an address or network"):
        parse_allow_list("10.0.0.0/8, intranet")


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("64:ff9b::a9fe:a9fe", True),  # NAT64 to 169.254.169.254
        ("64:ff9b::a00:1", True),  # NAT64 to 10.0.0.1
        ("2002:a9fe:a9fe::1", True),  # 6to4 from 169.254.169.254
        ("::a9fe:a9fe", True),  # IPv4-compatible 169.254.169.254
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("64:ff9b::808:808", False),  # NAT64 to a public address
        ("2606:4700::1111", False),  # a public IPv6 address
    ],
)
def test_an_ipv6_address_is_judged_by_the_ipv4_address_it_reaches(
    address: str, refused: bool
) -> None:
    policy = AddressPolicy()
    if refused:
        with pytest.raises(Refused):
            policy.check("metrics.example", address)
    else:
        policy.check("metrics.example", address)


def test_an_allow_listed_ipv4_network_admits_its_nat64_form() -> None:
    policy = AddressPolicy(parse_allow_list("10.0.0.0/8"))
    policy.check("metrics.internal", "64:ff9b::a00:1")
