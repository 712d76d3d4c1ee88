"""Which addresses webhooks may reach, how URLs are checked before any lookup, and how a post
reaches the address that was checked."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from core.validation import Check
from core.webhooks.addresses import AddressRefused, check_reachable, public, shape
from core.webhooks.delivery import pinned


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


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::5db8:d822", True),  # NAT64 of 93.184.216.34
        ("64:ff9b:1::5db8:d822", False),  # local-use NAT64: a private network
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2002:5db8:d822::1", True),  # 6to4 of 93.184.216.34
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("::a00:1", False),  # IPv4-compatible 10.0.0.1
        ("2001:0:5db8:d822::80ff:fffe", False),  # Teredo, client 127.0.0.1
    ],
)
def test_ipv4_inside_ipv6_is_judged_as_that_ipv4(address: str, allowed: bool) -> None:
    assert public(ipaddress.ip_address(address)) is allowed


async def test_checked_addresses_are_returned_to_connect_to() -> None:
    assert await check_reachable("https://93.184.216.34/hook", allow_private=False) == [
        ipaddress.ip_address("93.184.216.34")
    ]
    found = await check_reachable("http://localhost:8080/hook", allow_private=True)
    assert found
    assert all(address.is_loopback for address in found)


@pytest.mark.parametrize(
    ("url", "address", "target", "host", "extensions"),
    [
        (
            "http://hooks.example.com:8080/crm?x=1",
            "93.184.216.34",
            "http://93.184.216.34:8080/crm?x=1",
            {"host": "hooks.example.com:8080"},
            {},
        ),
        (
            "https://Hooks.Example.com/crm",
            "2606:2800:220:1:248:1893:25c8:1946",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/crm",
            {"host": "hooks.example.com"},
            {"sni_hostname": "hooks.example.com"},
        ),
        (
            "https://bücher.example/crm",
            "93.184.216.34",
            "https://93.184.216.34/crm",
            {"host": "xn--bcher-kva.example"},
            {"sni_hostname": "xn--bcher-kva.example"},
        ),
        ("https://93.184.216.34/crm", "93.184.216.34", "https://93.184.216.34/crm", {}, {}),
    ],
)
def test_a_post_connects_to_the_checked_address_under_the_host_name(
    url: str, address: str, target: str, host: dict[str, str], extensions: dict[str, str]
) -> None:
    assert pinned(url, ipaddress.ip_address(address)) == (httpx.URL(target), host, extensions)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for the name hooks.test only."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.test"),
            *("-addext", "subjectAltName=DNS:hooks.test"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


async def test_https_to_the_checked_address_verifies_the_certificate_for_the_name(
    certificate: tuple[Path, Path],
) -> None:
    # A TLS receiver on 127.0.0.1 whose certificate names hooks.test only: posting to the
    # address with the name as SNI (as pinned() asks) verifies; without it, the check fails.
    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)
    hosts: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            hosts.extend(line[6:] for line in head.split("\r\n") if line.startswith("host: "))
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    client_tls = ssl.create_default_context(cafile=str(cert))
    try:
        url, host, extensions = pinned(
            f"https://hooks.test:{port}/hooks", ipaddress.ip_address("127.0.0.1")
        )
        async with httpx.AsyncClient(verify=client_tls, trust_env=False) as client:
            response = await client.post(url, content=b"{}", headers=host, extensions=extensions)
            assert response.status_code == 204
            assert (names, hosts) == (["hooks.test"], [f"hooks.test:{port}"])
            with pytest.raises(httpx.ConnectError, match=r"(?i)certificate|hostname"):
                await client.post(url, content=b"{}", headers=host)
    finally:
        server.close()
        await server.wait_closed()
