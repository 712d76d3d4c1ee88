"""Which addresses webhooks may reach, and how URLs are checked before any lookup."""

from __future__ import annotations

import ipaddress

import pytest

from core.validation import Check
from core.webhooks.addresses import AddressRefused, check_reachable, public, shape


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_public_addresses(address: str, allowed: bool) -> None:
    assert public(ipaddress.ip_address(address)) is allowed


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "example.com/hook", "http:///path", "https://a b.com/", "http://[::1/"],
)
def test_malformed_urls_are_refused_before_any_lookup(url: str) -> None:
    check = Check()
    assert shape(check, "url", url) is None
    assert [e.field for e in check.errors] == ["url"]


async def test_host_names_are_resolved() -> None:
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1|::1"):
        await check_reachable("http://localhost:8080/hook", allow_private=False)
    with pytest.raises(AddressRefused, match="does not resolve"):
        await check_reachable("http://no-such-host.invalid/hook", allow_private=False)
    await check_reachable("http://localhost:8080/hook", allow_private=True)
