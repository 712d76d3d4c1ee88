"""A real SMTP server for mail tests (aiosmtpd, on 127.0.0.1 and a free port), which keeps
what it receives::

    with running_smtp_server() as (inbox, port):
        ...settings with CRM_MAIL_BACKEND=smtp, CRM_SMTP_HOST=127.0.0.1, CRM_SMTP_PORT=port,
        CRM_SMTP_SECURITY=none; make the change; deliver the outbox...
        message = inbox.only()   # an email.message.EmailMessage
        assert message["Subject"] == "..."

The recipient :data:`REFUSED` is refused with 550, for tests of permanent failures.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from schema.serving import free_port

REFUSED = "nobody@example.com"
"""A recipient the server refuses (550 5.1.1)."""


@dataclass
class Inbox:
    """What the test server received: each message's envelope recipients and bytes."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), content))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed."""
        with self.lock:
            raws = [raw for _, raw in self.received]
        parsed = []
        for raw in raws:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def only(self) -> EmailMessage:
        """The one message received (fails when there is not exactly one)."""
        found = self.messages()
        assert len(found) == 1, [m["Subject"] for m in found]
        return found[0]


@contextmanager
def running_smtp_server() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 for the block: its inbox and its port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
