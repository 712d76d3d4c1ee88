"""Where a webhook may post: http(s) URLs whose host resolves to public addresses only.

A subscription's host is resolved when it is created or changed, and again before every
post, so a name that later points inside the network (a private, loopback, link-local or
reserved address) is refused then too. ``CRM_WEBHOOKS_ALLOW_PRIVATE`` lifts the address
rule for receivers on the same network (and tests).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import UserErrorCode
from core.i18n import _
from core.validation import Check

MAX_URL_LENGTH = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL's host cannot be resolved or resolves to an address webhooks may not reach."""


def shape(check: Check, field: str, value: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL with a host and no credentials."""
    cleaned = check.text(field, value, max_length=MAX_URL_LENGTH)
    if cleaned is None:
        return None
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        check.fail(
            field, _("must be an http:// or https:// URL with a host"), UserErrorCode.INVALID
        )
        return None
    if (
        parts.username is not None
        or parts.password is not None
        or any(c.isspace() for c in cleaned)
    ):
        check.fail(
            field,
            _("must not contain credentials or spaces; authenticate the posts by their signature"),
            UserErrorCode.INVALID,
        )
        return None
    return cleaned


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: the last 32 bits are the IPv4 address reached."""
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
"""Local-use NAT64 (RFC 8215): translates into a private network, never public."""
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
"""IPv4-compatible addresses (``::a.b.c.d``, deprecated), and ``::``/``::1``."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: IPv4-mapped, IPv4-compatible, NAT64,
    6to4, or Teredo (its server and its client); empty for any other address."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def public(address: IPAddress) -> bool:
    """Whether ``address`` is a public one (not private, loopback, link-local, reserved,
    multicast or unspecified). An IPv6 address that carries an IPv4 address (IPv4-mapped or
    -compatible, NAT64, 6to4, Teredo) is judged by the IPv4 addresses it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in LOCAL_NAT64:
            return False
        inner = embedded_ipv4(address)
        if inner:
            return all(public(v4) for v4 in inner)
    return address.is_global and not address.is_multicast


async def resolve(url: str) -> list[IPAddress]:
    """The addresses the URL's host resolves to (an address literal is itself)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"the host name {host!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise AddressRefused(f"the host name {host!r} does not resolve")
    return addresses


async def check_reachable(url: str, *, allow_private: bool) -> list[IPAddress]:
    """The addresses the URL's host resolves to, all checked: refuse a URL whose host
    resolves to any address webhooks may not reach. A post connects to one of these (not
    to a second lookup's answer, which a rebinding name server could point elsewhere)."""
    addresses = await resolve(url)
    if allow_private:
        return addresses
    for address in addresses:
        if not public(address):
            raise AddressRefused(
                f"{urlsplit(url).hostname!r} resolves to {address}, a private, loopback, "
                "link-local or reserved address"
            )
    return addresses


async def checked_url(
    check: Check, field: str, value: str | None, *, allow_private: bool
) -> str | None:
    """The URL of a subscription, shape and addresses checked; errors name ``field``."""
    cleaned = shape(check, field, value)
    if cleaned is None:
        return None
    try:
        if not allow_private:  # allowed, any host is taken (it is resolved before each post)
            await check_reachable(cleaned, allow_private=False)
    except AddressRefused:
        check.fail(
            field,
            _(
                "must be reachable on the public internet: its host does not resolve, or "
                "resolves to a private, loopback, link-local or reserved address"
            ),
            UserErrorCode.INVALID,
        )
        return None
    return cleaned
