"""Sending e-mail: the MIME message and the transports of ``CRM_MAIL_BACKEND``.

:func:`send_mail` sends one :class:`OutgoingMail` through SMTP (aiosmtplib), into a folder
of ``.eml`` files, or to the log, and maps every failure to
:class:`core.outbox.DeliveryFailed`: permanent when the server refuses the recipient or the
message with a 5xx reply, retried otherwise. Templates and the outbox are :mod:`core.mail`'s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import logging
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from core.outbox import DeliveryFailed

if TYPE_CHECKING:
    from core.config import Settings

logger = logging.getLogger("crm.mail")

MIME_POLICY = SMTP.clone(cte_type="7bit")
"""CRLF lines, RFC 2047 headers and base64 or quoted-printable bodies: any relay takes them."""


class MailError(Exception):
    """A mail cannot be made: an unknown template or locale, a bad address, a template
    directory two modules claim. The message says which."""


# --- addresses ------------------------------------------------------------------------------

ADDRESS_PROBLEM = "must be an address such as ann@example.com or Ann Lee <ann@example.com>"


def parse_address(value: str) -> tuple[str, str]:
    """The display name (``""`` when none) and the normalised address of ``Name <address>``
    or a bare address; ``ValueError`` saying what is wrong otherwise. A ``localhost`` domain
    is taken as it is (a development relay)."""
    try:
        header = email.policy.default.header_factory("To", value.strip())
        addresses = list(getattr(header, "addresses", ()))
    except (ValueError, IndexError, TypeError):
        raise ValueError(ADDRESS_PROBLEM) from None
    if len(addresses) != 1 or header.defects or not addresses[0].domain:
        raise ValueError(ADDRESS_PROBLEM)
    name, address = addresses[0].display_name, addresses[0].addr_spec
    local, _at, domain = address.rpartition("@")
    try:
        if domain.lower() == "localhost":
            validate_email(f"{local}@example.com", check_deliverability=False)
        else:
            address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not an e-mail address: {exc}") from None
    return name, address


def format_address(name: str, address: str) -> str:
    """``Name <address>`` (the name quoted or encoded as needed), or the bare address."""
    return str(Address(display_name=name, addr_spec=address)) if name else address


def parse_from(value: str) -> str:
    """``CRM_MAIL_FROM`` checked and written canonically (:func:`parse_address`)."""
    return format_address(*parse_address(value))


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMail:
    """One message to send. ``message_id`` stays the same on every attempt (the
    ``Message-ID`` header: a bare token gets the From address's domain); ``date`` is when it
    was written; ``headers`` adds more (``List-Unsubscribe``)."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    date: dt.datetime
    headers: Mapping[str, str] = field(default_factory=dict)


def message_id_header(settings: Settings, message_id: str) -> str:
    if message_id.startswith("<") and message_id.endswith(">"):
        return message_id
    if "@" in message_id:
        return f"<{message_id}>"
    domain = parse_address(settings.mail_from)[1].rpartition("@")[2]
    return f"<{message_id}@{domain}>"


def build_message(settings: Settings, mail: OutgoingMail) -> EmailMessage:
    """The MIME message: multipart/alternative (plain text, then HTML), UTF-8, its headers
    encoded as RFC 2047 asks. A header holding a line break is a :class:`MailError`."""
    message = EmailMessage(policy=MIME_POLICY)
    try:
        message["From"] = settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(mail.date.astimezone(dt.UTC))
        message["Message-ID"] = message_id_header(settings, mail.message_id)
        for name, value in mail.headers.items():
            message[name] = value
    except (ValueError, TypeError) as exc:
        raise MailError(f"cannot write the message's headers: {exc}") from None
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message


async def send_mail(settings: Settings, mail: OutgoingMail) -> None:
    """Send ``mail`` by ``CRM_MAIL_BACKEND``; :class:`DeliveryFailed` when it cannot be."""
    try:
        message = build_message(settings, mail)
    except MailError as exc:
        raise DeliveryFailed(str(exc), permanent=True) from None
    if settings.mail_backend == "smtp":
        await _send_smtp(settings, message)
    elif settings.mail_backend == "folder":
        await asyncio.to_thread(_write_eml, settings.resolved_mail_folder, mail, message)
    else:
        logger.info(
            "mail to %s: %s",
            mail.to,
            mail.subject,
            extra={"message_id": message["Message-ID"], "text": mail.text},
        )


async def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.smtp_timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        reasons = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        permanent = all(500 <= code < 600 for code in codes)
        raise DeliveryFailed(f"recipient refused: {reasons}", permanent=permanent) from None
    except aiosmtplib.SMTPDataError as exc:
        raise DeliveryFailed(
            f"message refused: {exc.code} {exc.message}", permanent=500 <= exc.code < 600
        ) from None
    except aiosmtplib.SMTPResponseException as exc:  # sender refused, login failed, ...
        raise DeliveryFailed(f"SMTP server said {exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryFailed(
            f"cannot reach {settings.smtp_host}:{settings.smtp_port}: {reason}"
        ) from None


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]")


def eml_path(folder: Path, message_id: str) -> Path:
    """The file the folder backend writes a message to: named after its id."""
    name = _UNSAFE.sub("_", message_id.strip("<>")).lstrip(".") or "message"
    return folder / f"{name[:200]}.eml"


def _write_eml(folder: Path, mail: OutgoingMail, message: EmailMessage) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = eml_path(folder, mail.message_id)
        temporary = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
        temporary.write_bytes(message.as_bytes())
        os.replace(temporary, target)
    except OSError as exc:
        raise DeliveryFailed(f"cannot write mail into {folder}: {exc.strerror}") from None
