"""A real HTTP receiver for webhook tests, and a signature check written from the Standard
Webhooks specification (independent of the service's own signing).

::

    async with WebhookReceiver() as receiver:
        ...create a subscription to receiver.url, make a change, deliver the outbox...
        (request,) = receiver.requests
        assert signature_valid(secret, request)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

MAX_BODY = 1_048_576


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP/1.1 server on 127.0.0.1 (a free port) that records every request and answers
    with :attr:`status` (or the next of :attr:`statuses`, while there are any)."""

    status: int = 200
    statuses: list[int] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hooks"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                method, path, _version = (await reader.readline()).decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                for _ in range(100):
                    line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
                    if not line:
                        break
                    name, _colon, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = min(int(headers.get("content-length", "0")), MAX_BODY)
                body = await reader.readexactly(length)
            self.requests.append(ReceivedRequest(method, path, headers, body))
            status = self.statuses.pop(0) if self.statuses else self.status
            head = f"HTTP/1.1 {status} Answer\r\nContent-Length: 0\r\nConnection: close\r\n"
            writer.write(head.encode() + b"\r\n")
            await writer.drain()
        finally:
            writer.close()


def expected_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the
    base64-decoded part of ``secret`` after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_valid(secret: str, request: ReceivedRequest) -> bool:
    """Whether one of the request's ``webhook-signature`` entries is the secret's."""
    expected = expected_signature(
        secret,
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
    )
    return any(
        hmac.compare_digest(expected, given)
        for given in request.headers.get("webhook-signature", "").split(" ")
    )
