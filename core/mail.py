"""E-mail: templates rendered in the recipient's language, and the transports that send them.

A mail is three templates of one name: ``<name>.subject.j2``, ``<name>.txt.j2`` and
``<name>.html.j2`` (Jinja2; the HTML one autoescaped). Core's live in ``core/mail_templates``
and are named plainly (``notification``); a module adds its own with the
``crm_mail_templates`` hook, a namespace per directory, and names them ``<namespace>/<name>``
(``surveys/invitation``).

:func:`render_mail` renders the three in the recipient's language and time zone: fixed
text is written ``{{ _("Hello {name}", name=user) }}`` (brace placeholders, as ``_`` in
Python) and translated by the catalog of the nearest ``locale`` directory above the
templates (core's for core's); values that are :class:`core.i18n.Text` come out in the
recipient's language; ``{{ when | datetime }}`` shows an aware date-time in the
recipient's zone. ``make messages`` extracts the templates' messages with the Python ones.

Nothing is sent from a request: :func:`send_email` renders and writes an outbox row in
the caller's transaction; the outbox worker later calls :func:`deliver_email`, which sends
through :func:`send_mail` by ``CRM_MAIL_BACKEND`` (SMTP, a folder of ``.eml`` files, or
the log). A failure raises :class:`core.outbox.DeliveryFailed`, permanent when the server
refuses the recipient or the message for good (5xx), retried otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import logging
import os
import re
import uuid
import weakref
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosmtplib
import jinja2
from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime
from email_validator import EmailNotValidError, validate_email

from core.i18n import SUPPORTED_LOCALES, Text, current_locale, render, translate, use_locale
from core.zones import current_zone, use_zone

if TYPE_CHECKING:
    import pluggy

    from core.config import Settings

logger = logging.getLogger("crm.mail")

CORE_TEMPLATES = Path(__file__).parent / "mail_templates"
PARTS = ("subject", "txt", "html")
CHANNEL = "email"
MIME_POLICY = SMTP.clone(cte_type="7bit")
"""CRLF lines, RFC 2047 headers and base64 or quoted-printable bodies: any relay takes them."""
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")


class MailError(Exception):
    """A mail cannot be made: an unknown template or locale, a bad address, a template
    directory two modules claim. The message says which."""


# Until core.outbox exists on this branch: the contract's exception, raised the same way.
class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


# --- addresses ------------------------------------------------------------------------------


def mail_address(value: str) -> str:
    """``value`` as a normalised address (``ann@example.com``), or :class:`MailError`
    saying why it is not one."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise MailError(f"{value!r} is not an e-mail address: {exc}") from None


def parse_from(value: str) -> str:
    """A From header value (``CRM <crm@example.com>`` or a bare address) checked and
    written canonically; ``ValueError`` saying what is wrong otherwise. A ``localhost``
    domain is allowed (a development relay)."""
    problem = "must be an address such as crm@example.com or CRM <crm@example.com>"
    try:
        header = email.policy.default.header_factory("From", value.strip())
        addresses = list(getattr(header, "addresses", ()))
    except (ValueError, IndexError, TypeError):
        raise ValueError(problem) from None
    if len(addresses) != 1 or header.defects or not addresses[0].domain:
        raise ValueError(problem)
    name, address = addresses[0].display_name, addresses[0].addr_spec
    local, _at, domain = address.rpartition("@")
    try:
        if domain.lower() == "localhost":
            validate_email(f"{local}@example.com", check_deliverability=False)
        else:
            address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not an e-mail address: {exc}") from None
    return str(Address(display_name=name, addr_spec=address)) if name else address


# --- templates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMail:
    """A mail in one language: its subject (one line), plain text and HTML."""

    subject: str
    text: str
    html: str


class MailTemplates:
    """Core's mail templates and every module's (``crm_mail_templates``) in one Jinja
    environment; build with :func:`mail_templates`."""

    def __init__(self, directories: Mapping[str, Path]) -> None:
        self.directories = dict(directories)
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(CORE_TEMPLATES)]
        if self.directories:
            loaders.append(
                _NamespaceLoader(
                    {ns: jinja2.FileSystemLoader(path) for ns, path in self.directories.items()}
                )
            )
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_finalize,
            extensions=["jinja2.ext.i18n"],
        )
        self.environment.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=self._gettext, ngettext=_ngettext, newstyle=False
        )
        self.environment.filters["datetime"] = _datetime_filter
        self.environment.filters["date"] = _date_filter
        self._catalogs: dict[str, Path | None] = {}

    def catalog_dir(self, template_name: str | None) -> Path | None:
        """The ``locale`` directory translating a template: the nearest one above its
        directory."""
        namespace = (template_name or "").partition("/")[0]
        if namespace not in self._catalogs:
            start = self.directories.get(namespace, CORE_TEMPLATES)
            found = None
            for folder in (start, *start.parents):
                if (folder / "locale").is_dir():
                    found = folder / "locale"
                    break
            self._catalogs[namespace] = found
        return self._catalogs[namespace]

    @jinja2.pass_context
    def _gettext(self, context: jinja2.runtime.Context, message: str, /, **params: Any) -> str:
        return translate(message, params, current_locale(), self.catalog_dir(context.name))

    def render(
        self, template: str, *, locale: str, zone: dt.tzinfo, values: Mapping[str, Any]
    ) -> RenderedMail:
        chosen = next((known for known in SUPPORTED_LOCALES if known == locale), None)
        if chosen is None:
            raise MailError(
                f"cannot write mail in locale {locale!r} "
                f"(supported: {', '.join(SUPPORTED_LOCALES)})"
            )
        try:
            parts = [self.environment.get_template(f"{template}.{part}.j2") for part in PARTS]
        except jinja2.TemplateNotFound as exc:
            raise MailError(
                f"no mail template {template!r} ({exc.name} is missing); known: "
                f"{', '.join(self.names()) or 'none'}"
            ) from None
        context = {"lang": chosen, **values}
        with use_locale(chosen), use_zone(zone):
            subject, text, html = (part.render(context) for part in parts)
        return RenderedMail(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)

    def names(self) -> list[str]:
        """Every template name with all three parts."""
        found = {
            name.removesuffix(".subject.j2")
            for name in self.environment.list_templates(extensions=["j2"])
            if name.endswith(".subject.j2")
        }
        return sorted(found)


class _NamespaceLoader(jinja2.PrefixLoader):
    """A prefix loader whose templates keep their full name (``surveys/invitation...``),
    so that their messages are looked up in their namespace's catalog."""

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        return jinja2.BaseLoader.load(self, environment, name, globals)


def _finalize(value: Any) -> Any:
    return render(value) if isinstance(value, Text) else value


def _ngettext(singular: str, plural: str, count: int, /, **params: Any) -> str:
    raise MailError(
        f"mail templates have no plural forms ({singular!r}): write one message for any count"
    )


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise MailError(f"a mail template was given a date-time without a zone: {value!r}")
    return value.astimezone(current_zone())


def _babel_locale() -> str:
    return current_locale().replace("-", "_")


def _datetime_filter(value: dt.datetime, format: str = "medium") -> str:
    """An aware date-time in the recipient's zone and language, with the zone's name."""
    local = _aware(value)
    shown = babel_datetime(local, format, tzinfo=local.tzinfo, locale=_babel_locale())
    return f"{shown} ({local.tzname()})"


def _date_filter(value: dt.date | dt.datetime, format: str = "medium") -> str:
    """A date (or the recipient's calendar day of a date-time) in their language."""
    day = _aware(value).date() if isinstance(value, dt.datetime) else value
    return format_date(day, format, locale=_babel_locale())


_environments: weakref.WeakKeyDictionary[Any, MailTemplates] = weakref.WeakKeyDictionary()


def mail_templates(pm: pluggy.PluginManager) -> MailTemplates:
    """The templates of core and of every enabled module (built once per plugin manager).

    A namespace that is not a plain lower-case name, that two modules declare, or whose
    directory does not exist is a :class:`MailError` naming the module."""
    found = _environments.get(pm)
    if found is not None:
        return found
    from core.host import contributions

    directories: dict[str, Path] = {}
    owners: dict[str, str] = {}
    for module, answer in contributions(pm, "crm_mail_templates"):
        for namespace, directory in answer.items():
            if not _NAMESPACE.match(namespace):
                raise MailError(
                    f"module {module!r}: mail template namespace {namespace!r} must be a "
                    "lower-case name (letters, digits, _)"
                )
            if namespace in owners:
                raise MailError(
                    f"modules {owners[namespace]!r} and {module!r} both declare the mail "
                    f"template namespace {namespace!r}"
                )
            if not Path(directory).is_dir():
                raise MailError(f"module {module!r}: mail templates {directory} is no directory")
            owners[namespace] = module
            directories[namespace] = Path(directory)
    templates = MailTemplates(directories)
    _environments[pm] = templates
    return templates


def render_mail(
    pm: pluggy.PluginManager,
    template: str,
    *,
    locale: str,
    zone: dt.tzinfo,
    values: Mapping[str, Any],
) -> RenderedMail:
    """Render ``template`` (``notification``, ``surveys/invitation``) in ``locale`` (``en``,
    ``zh-CN``) with date-times in ``zone``. An unknown template or locale, or a value the
    template needs and ``values`` lacks, is a :class:`MailError`."""
    try:
        return mail_templates(pm).render(template, locale=locale, zone=zone, values=values)
    except jinja2.UndefinedError as exc:
        raise MailError(f"mail template {template!r}: {exc.message}") from None


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
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
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
            password=settings.smtp_password or None,
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


# --- the outbox -----------------------------------------------------------------------------

Clock = Callable[[], dt.datetime]
