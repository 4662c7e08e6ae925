"""Where webhooks may go: ``http``/``https`` URLs of public addresses only.

Loopback, private, link-local, multicast, reserved and other non-global addresses (IPv4 and IPv6,
IPv4-mapped IPv6 included) are refused unless ``DTEHUB_WEBHOOKS_ALLOW_PRIVATE`` is on. The rule is
checked when a webhook is created and again on every connection: :class:`GuardedBackend` resolves the
host itself, checks every address and connects to a vetted one, so a name that later resolves to a
private address (DNS rebinding) is refused too. TLS still verifies the URL's host name.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore

from dtehub.kit.model import STRIPPED

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


_PORT = r"(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_HOST = r"[A-Za-z0-9._~-]+"
_URL_FORM = rf"[hH][tT][tT][pP][sS]?://{_HOST}(?::{_PORT})?(?:[/?#][!-~]*)?"
URL_PATTERN = rf"^[{STRIPPED}]*{_URL_FORM}[{STRIPPED}]*$"
"""The URLs :func:`parse_url` takes, as published and enforced: http or https, a host by name or IPv4
address (no IPv6 literal: give a name), a port up to 65535, no credentials, printable ASCII only (white
space around it is dropped, as around every text of a request body)."""
_URL = re.compile(_URL_FORM)
_HOST_NAME = re.compile(_HOST)


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
    if not _HOST_NAME.fullmatch(host):
        raise AddressRefused(
            f"the URL's host {host!r} is not a host name or an IPv4 address (letters, digits, '.', '-', "
            "'_', '~'; an IPv6 address needs a name)"
        )
    if not _URL.fullmatch(url):
        raise AddressRefused(
            "the URL is not valid: http(s)://host[:port], then /, ? or # and printable ASCII "
            "(percent-encode other characters)"
        )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], target=target)


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# NAT64 prefixes (RFC 6052's well-known one and RFC 8215's local-use one): behind a NAT64 gateway,
# 64:ff9b::a9fe:a9fe reaches 169.254.169.254, so the IPv4 address in the last 32 bits is what counts.
_NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _nat64_embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if any(address in prefix for prefix in _NAT64_PREFIXES):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress) -> bool:
    """Only globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _nat64_embedded(address)
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


_deadline = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound the whole exchange of this thread's next request (connect, TLS, send, every read) to
    ``seconds``: httpcore's timeouts bound each call, so a receiver trickling a byte at a time could
    otherwise hold a worker for as long as it likes."""
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = None


def _within_deadline(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the receiver took longer than the delivery may take")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        limit = _within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


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
                limit = _within_deadline(timeout, httpcore.ConnectTimeout)
                stream = self._inner.connect_tcp(str(address), port, limit, local_address, socket_options)
                return _DeadlineStream(stream)
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
