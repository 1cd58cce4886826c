"""The network rules of every metric fetch: http or https only; the host resolved once and
the connection pinned to that address; no loopback, link-local (the cloud metadata range),
private or otherwise non-public address unless an allow-list names it; every redirect goes
through the same transport, so it is checked the same way.

Pinning is what defeats DNS rebinding: the address checked is the address connected to (a
second lookup is never made for the same request). TLS still verifies the certificate
against the host name (sent as SNI), not the address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]  # host, port -> addresses
SCHEMES = ("http", "https")


class Refused(Exception):
    """A request the rules do not allow; the message says why, and never holds a secret."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The operating system's answer for `host` (every address it gives)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


def parse_allow_list(text: str) -> tuple[IpNetwork, ...]:
    """`METRIC_SOURCE_ALLOW`: comma-separated addresses or networks (`127.0.0.1`,
    `10.0.0.0/8`, `::1`); `ValueError` names the first that is neither."""
    networks: list[IpNetwork] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or network like 10.0.0.0/8") from None
    return tuple(networks)


def _plain(address: IpAddress) -> IpAddress:
    """An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is checked as the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class AddressPolicy:
    """Which addresses a fetch may connect to: public ones, and those the allow-list names."""

    def __init__(self, allow: Iterable[IpNetwork] = ()) -> None:
        self.allow = tuple(allow)

    def check(self, host: str, address: str) -> IpAddress:
        try:
            found = _plain(ipaddress.ip_address(address.split("%", 1)[0]))
        except ValueError:
            raise Refused(f"{host} resolved to something that is not an address.") from None
        if any(found in network for network in self.allow if found.version == network.version):
            return found
        embedded = _embedded_ipv4(found)
        if embedded is not None and not any(
            embedded in network for network in self.allow if network.version == 4
        ):
            if not embedded.is_global or embedded.is_multicast:
                raise Refused(
                    f"{host} is an IPv6 address ({found}) that reaches the {_kind(embedded)} "
                    f"address {embedded}, which sources may not reach; ask an admin to add it "
                    "to METRIC_SOURCE_ALLOW if it is meant to be."
                )
        if not found.is_global or found.is_multicast:
            raise Refused(
                f"{host} is a {_kind(found)} address ({found}), which sources may not reach; "
                "ask an admin to add it to METRIC_SOURCE_ALLOW if it is meant to be."
            )
        return found


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix: the IPv4 in its low 32 bits
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # the old IPv4-compatible form


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through (NAT64, 6to4, Teredo, IPv4-compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _kind(address: IpAddress) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_private:
        return "private"
    return "non-public"


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host once, checks the address, and sends the request to that
    address (Host header and TLS name unchanged)."""

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in SCHEMES:
            raise Refused(f"Only http and https sources are fetched, not {url.scheme}.")
        host = url.host
        if not host:
            raise Refused("The source URL has no host.")
        port = url.port or (443 if url.scheme == "https" else 80)
        pinned = await self._pin(host, port)
        request.url = url.copy_with(host=str(pinned))
        request.headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def _pin(self, host: str, port: int) -> IpAddress:
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            return self.policy.check(host, str(literal))
        try:
            addresses = list(await self.resolver(host, port))
        except OSError:
            raise Refused(f"{host} could not be resolved.") from None
        if not addresses:
            raise Refused(f"{host} could not be resolved.")
        checked = [self.policy.check(host, address) for address in addresses]
        return checked[0]

    async def aclose(self) -> None:
        await self.inner.aclose()


def source_client(
    *,
    policy: AddressPolicy,
    resolver: Resolver = system_resolver,
    timeout: float = 10.0,
    max_connections: int = 100,
) -> httpx.AsyncClient:
    """The one HTTP client metric fetches use: pinned, no redirects followed by httpx itself
    (`fetch` follows them one hop at a time, each through the pinned transport)."""
    inner = httpx.AsyncHTTPTransport(
        retries=0, limits=httpx.Limits(max_connections=max_connections)
    )
    return httpx.AsyncClient(
        transport=PinnedTransport(policy=policy, resolver=resolver, inner=inner),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
    )
