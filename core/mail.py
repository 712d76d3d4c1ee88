"""E-mail: templates rendered in the recipient's language, and the outbox's e-mail channel.

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
through :func:`core.mail_transport.send_mail` by ``CRM_MAIL_BACKEND`` (SMTP, a folder of
``.eml`` files, or the log).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime

from core.i18n import SUPPORTED_LOCALES, Text, current_locale, render, translate, use_locale
from core.mail_transport import (
    MailError,
    OutgoingMail,
    format_address,
    parse_address,
    send_mail,
)
from core.outbox import DeliveryFailed
from core.zones import current_zone, use_zone

if TYPE_CHECKING:
    import pluggy
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.outbox import Delivery

__all__ = [
    "CHANNEL",
    "MailError",
    "MailTemplates",
    "OutgoingMail",
    "RenderedMail",
    "deliver_email",
    "mail_templates",
    "render_mail",
    "send_email",
    "send_mail",
]

CORE_TEMPLATES = Path(__file__).parent / "mail_templates"
PARTS = ("subject", "txt", "html")
CHANNEL = "email"
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")


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


# --- the outbox -----------------------------------------------------------------------------


async def send_email(
    session: AsyncSession,
    pm: pluggy.PluginManager,
    *,
    to: str,
    template: str,
    values: Mapping[str, Any],
    locale: str,
    zone: dt.tzinfo,
    now: dt.datetime,
    kind: str,
    dedupe_key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> int | None:
    """Write a mail to the outbox in the caller's transaction; the outbox worker sends it
    once that commits (:func:`deliver_email`), and nothing when it rolls back.

    The mail is rendered now, in ``locale`` with times in ``zone`` (:func:`render_mail`).
    ``to`` is an address or ``Name <address>``; ``kind`` says what the mail is about
    (``tickets.assigned``); a ``dedupe_key`` used before writes nothing. ``headers`` adds
    headers (``List-Unsubscribe``). Returns the outbox row's id, or ``None`` for a repeated
    ``dedupe_key``. A bad address or header, an unknown template or locale, or a value the
    template lacks is a :class:`MailError`, raised before anything is written.
    """
    from core.outbox import enqueue_message

    try:
        name, address = parse_address(to)
    except ValueError as exc:
        raise MailError(f"to: {to!r} {exc}") from None
    extra = dict(headers or {})
    for header, value in extra.items():
        if not header.isascii() or any(char in header + value for char in "\r\n") or ":" in header:
            raise MailError(f"headers: {header!r} is not a header name and one-line value")
    rendered = render_mail(pm, template, locale=locale, zone=zone, values=values)
    payload = {
        "to": format_address(name, address),
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "message_id": uuid.uuid4().hex,
        "headers": extra,
        "template": template,
        "locale": locale,
    }
    return await enqueue_message(
        session,
        channel=CHANNEL,
        kind=kind,
        recipient=address,
        payload=payload,
        now=now,
        dedupe_key=dedupe_key,
    )


async def deliver_email(delivery: Delivery) -> None:
    """The outbox's deliverer for channel ``email``: sends the mail :func:`send_email`
    wrote, with the same ``Message-ID`` on every attempt and its ``Date`` when written."""
    payload = delivery.payload
    try:
        mail = OutgoingMail(
            to=str(payload["to"]),
            subject=str(payload["subject"]),
            text=str(payload["text"]),
            html=str(payload["html"]),
            message_id=str(payload["message_id"]),
            date=delivery.created_at,
            headers={str(k): str(v) for k, v in (payload.get("headers") or {}).items()},
        )
    except (KeyError, AttributeError) as exc:
        raise DeliveryFailed(f"the outbox row holds no mail (no {exc})", permanent=True) from None
    await send_mail(delivery.settings, mail)
