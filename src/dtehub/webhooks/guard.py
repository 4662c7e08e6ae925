"""Where webhooks may go: ``http``/``https`` URLs of public addresses only.

Loopback, private, link-local, multicast, reserved and other non-global addresses (IPv4 and IPv6,
IPv4-mapped IPv6 included) are refused unless ``DTEHUB_WEBHOOKS_ALLOW_PRIVATE`` is on. The rule is
checked when a webhook is created and again on every connection: :class:`GuardedBackend` resolves the
host itself, checks every address and connects to a vetted one, so a name that later resolves to a
private address (DNS rebinding) is refused too. TLS still verifies the URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": 80, "https": 443}
MAX_URL_CHARS = 2048


class AddressRefused(Exception):
    """The URL or the address it resolves to is not one webhooks may reach (the message says why)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    """Without brackets for an IPv6 literal."""
    port: int
    target: str
    """Path and query, as sent in the request line."""


def parse_url(url: str) -> Target:
    if len(url) > MAX_URL_CHARS:
        raise AddressRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise AddressRefused("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise AddressRefused("only http and https URLs are accepted")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("credentials in the URL are not accepted; check the signature instead")
    host = parts.hostname
    if not host:
        raise AddressRefused("the URL has no host")
    if not host.isascii():
        raise AddressRefused("give the host name in its ASCII (punycode) form")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], target=target)


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_allowed(address: IPAddress) -> bool:
    """Only globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_allowed(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def _is_local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or "." not in name


def resolve(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(f"the host {host} does not resolve") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused(f"the host {host} does not resolve")
    return addresses


def vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """The addresses ``host`` resolves to, all of them allowed, or :class:`AddressRefused`."""
    if not allow_private and literal_address(host) is None and _is_local_name(host):
        raise AddressRefused(f"{host} is a local name; webhooks go to public addresses")
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not address_allowed(address):
                raise AddressRefused(
                    f"{host} is or resolves to a loopback, private or reserved address; "
                    "webhooks go to public addresses"
                )
    return addresses


def check_url(url: str, *, allow_private: bool) -> Target:
    """The checks of createWebhook: scheme, form and (unless allowed) public addresses only."""
    target = parse_url(url)
    if not allow_private:
        vetted_addresses(target.host, target.port, allow_private=False)
    return target


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, connecting only to vetted addresses of the host asked for."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = vetted_addresses(host, port, allow_private=self._allow_private)
        except AddressRefused as refused:
            raise httpcore.ConnectError(str(refused)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks connect over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
