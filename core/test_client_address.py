"""The client address (login throttling, audit trail): the connection's peer, unless that
peer is a proxy named in ``CRM_TRUSTED_PROXIES``; only then does ``X-Forwarded-For`` count."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.app import client_address
from core.audit import AuditEvent
from core.config import ConfigError, Settings, load_settings
from tests.support import LOGIN, Api

WRONG = {"email": "nobody@example.com", "password": "Not-It-At-All-42"}


def networks(*items: str) -> list[Any]:
    return [ipaddress.ip_network(item) for item in items]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        # No trusted proxy (the default): the header is anyone's to forge.
        ("127.0.0.1", ["203.0.113.7"], [], "127.0.0.1"),
        # A peer that is not a trusted proxy: its header is ignored.
        ("198.51.100.9", ["203.0.113.7"], ["127.0.0.1/32"], "198.51.100.9"),
        # A trusted peer: the hop it reports.
        ("127.0.0.1", ["203.0.113.7"], ["127.0.0.1/32"], "203.0.113.7"),
        # Walked from the right past trusted hops; what the client itself wrote is ignored.
        ("10.0.0.2", ["6.6.6.6, 203.0.113.7, 10.0.0.3"], ["10.0.0.0/8"], "203.0.113.7"),
        # Several headers count as one list, in order.
        ("10.0.0.2", ["6.6.6.6", "203.0.113.7"], ["10.0.0.0/8"], "203.0.113.7"),
        # Ports and IPv6 brackets.
        ("10.0.0.2", ["203.0.113.7:4711"], ["10.0.0.0/8"], "203.0.113.7"),
        ("::1", ["[2001:db8::7]:443"], ["::1/128"], "2001:db8::7"),
        # Garbage ends the walk at the last trusted hop; it never becomes the address.
        ("10.0.0.2", ["203.0.113.7, <script>"], ["10.0.0.0/8"], "10.0.0.2"),
        # Only trusted hops: the leftmost.
        ("10.0.0.2", ["10.0.0.9, 10.0.0.3"], ["10.0.0.0/8"], "10.0.0.9"),
        # An IPv4 proxy seen through a dual-stack socket is the same proxy.
        ("::ffff:10.0.0.2", ["203.0.113.7"], ["10.0.0.0/8"], "203.0.113.7"),
        # A trusted peer that forwards nothing.
        ("10.0.0.2", [], ["10.0.0.0/8"], "10.0.0.2"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], trusted: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, networks(*trusted)) == expected


async def failed_login_address(api: Api, forwarded_for: str) -> str | None:
    body = await api.gql(LOGIN, WRONG, headers={"X-Forwarded-For": forwarded_for})
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID"
    async with api.db.read() as session:
        address: str | None = await session.scalar(
            select(AuditEvent.client_address).where(AuditEvent.action == "login.failed")
        )
    return address


async def test_an_untrusted_peer_cannot_choose_its_address(api: Api) -> None:
    # The in-process client connects from 127.0.0.1, as a local proxy would.
    assert await failed_login_address(api, "203.0.113.7") == "127.0.0.1"


async def test_a_trusted_proxy_passes_on_the_client_address(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    settings = make_settings(trusted_proxies="127.0.0.1, 10.0.0.0/8")
    async with api_factory(settings) as api:
        assert await failed_login_address(api, "6.6.6.6, 203.0.113.7, 10.1.2.3") == "203.0.113.7"


@pytest.mark.parametrize("value", ["proxy.example.com", "10.0.0.0/33", "127.0.0.1,,nope"])
def test_a_bad_trusted_proxy_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", value)

    with pytest.raises(ConfigError, match="CRM_TRUSTED_PROXIES=") as raised:
        load_settings()

    assert "is not an IP address or CIDR network" in str(raised.value)


def test_trusted_proxies_are_none_by_default(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).trusted_proxy_networks == []
