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


def public(address: IPAddress) -> bool:
    """Whether ``address`` is a public one (not private, loopback, link-local, reserved,
    multicast or unspecified; an IPv4 address inside IPv6 counts as that IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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


async def check_reachable(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to any address webhooks may not reach."""
    if allow_private:
        return
    for address in await resolve(url):
        if not public(address):
            raise AddressRefused(
                f"{urlsplit(url).hostname!r} resolves to {address}, a private, loopback, "
                "link-local or reserved address"
            )


async def checked_url(
    check: Check, field: str, value: str | None, *, allow_private: bool
) -> str | None:
    """The URL of a subscription, shape and addresses checked; errors name ``field``."""
    cleaned = shape(check, field, value)
    if cleaned is None:
        return None
    try:
        await check_reachable(cleaned, allow_private=allow_private)
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
