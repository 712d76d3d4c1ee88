"""User-facing messages in English and Simplified Chinese, through gettext catalogs.

A message is written in English as a template with named parameters and wrapped in ``_``::

    _("must be at most {max} characters", max=max_length)

``_`` returns a :class:`Text`: a ``str`` holding the English message (so everything that
takes a ``str`` keeps working) that also keeps its template and parameters, so it can be
rendered in another language later, at the boundary, in the language of the request
(:func:`render`, :func:`current_locale`).

Each module package has its own catalog, read with Babel: core's is
``core/locale/zh_CN/LC_MESSAGES/messages.po``, a plugin's sits beside its package
(``plugins/tickets/locale/zh_CN/LC_MESSAGES/messages.po``). :func:`translator` gives a
module an ``_`` bound to the catalog of the nearest package holding a ``locale``
directory, so a third-party plugin ships its own translations. ``make messages``
extracts the templates and updates the catalogs; :func:`missing_translations` lists what
a catalog lacks (the test kit's ``assert_catalog_complete`` and core's catalog test).

The language of a request (:func:`negotiate`): the first supported language of its
``Accept-Language`` header, else the user's own language, else the deployment's
``CRM_LOCALE``. Error codes, field and argument names never change with the language.
"""

from __future__ import annotations

import contextlib
import re
import string
import sys
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.core import Locale as BabelLocale
from babel.core import UnknownLocaleError
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

LocaleName = Literal["en", "zh-CN"]
SUPPORTED_LOCALES: tuple[LocaleName, ...] = ("en", "zh-CN")
"""The languages messages are rendered in; English is the language of the source."""
DEFAULT_LOCALE: LocaleName = "en"
CATALOG_DIRS: Mapping[str, str] = {"zh-CN": "zh_CN"}
"""The gettext directory name of each translated locale."""
DOMAIN = "messages"

_current: ContextVar[LocaleName | None] = ContextVar("crm_locale", default=None)


class Text(str):
    """A message: its English rendering as a ``str``, with the template, the parameters
    and the package whose catalog translates it, for :func:`render`."""

    template: str
    params: Mapping[str, Any]
    package: str

    def __new__(cls, template: str, params: Mapping[str, Any], package: str) -> Text:
        text = super().__new__(cls, _format(template, params, lambda value: str(value)))
        text.template = template
        text.params = dict(params)
        text.package = package
        return text

    def __reduce__(self) -> Any:
        return (Text, (self.template, self.params, self.package))


def _format(template: str, params: Mapping[str, Any], show: Callable[[Any], str]) -> str:
    if not params:
        return template
    return template.format_map(
        {name: show(value) if isinstance(value, Text) else value for name, value in params.items()}
    )


def translator(module: str) -> Callable[..., Text]:
    """The ``_`` of a module (pass ``__name__``): messages translated by the catalog of the
    nearest package, from the module up, that has a ``locale`` directory."""
    package = module

    def _(template: str, /, **params: Any) -> Text:
        return Text(template, params, package)

    return _


_ = translator(__name__)
"""Core's own ``_`` (its catalog is ``core/locale``)."""


def render(text: str, locale: str | None = None) -> str:
    """``text`` in ``locale`` (the current request's when None): its template translated
    by its package's catalog (the English template when the catalog has none) and its
    parameters formatted in, themselves rendered when they are :class:`Text`. A plain
    ``str`` is returned as it is."""
    if not isinstance(text, Text):
        return str(text)
    chosen = locale or current_locale()
    if chosen == "en":
        return str.__str__(text)
    return translate(text.template, text.params, chosen, _locale_dir(text.package))


def translate(
    template: str, params: Mapping[str, Any], locale: str, locale_dir: Path | None
) -> str:
    """``template`` translated into ``locale`` by the catalog in ``locale_dir`` (a package's
    ``locale`` directory; the English template when it has none) with ``params`` formatted
    in, those that are :class:`Text` rendered in ``locale`` too. For messages that are not
    in Python code, such as those of mail templates."""
    english = _format(template, params, lambda value: str.__str__(value))
    if locale == "en":
        return english
    translated = _catalog(locale_dir, locale).get(template) or template
    try:
        return _format(translated, params, lambda value: render(value, locale))
    except (KeyError, IndexError, ValueError):  # a broken translation: English, not a 500
        return english


def current_locale() -> LocaleName:
    """The language of the request being served (:func:`set_locale`); English outside one
    (the command line renders in :func:`environment_locale` explicitly)."""
    return _current.get() or DEFAULT_LOCALE


def set_locale(locale: LocaleName) -> None:
    """Render messages in ``locale`` for the rest of this request (its context)."""
    _current.set(locale)


@contextlib.contextmanager
def use_locale(locale: LocaleName) -> Iterator[None]:
    """Render messages in ``locale`` inside the block."""
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def supported(tag: str | None) -> LocaleName | None:
    """The supported locale a language tag (``zh-Hans-CN``, ``zh_CN.UTF-8``, ``en-GB``)
    asks for: English for any ``en``; Simplified Chinese for ``zh`` unless the tag names
    Traditional script (``zh-TW``, ``zh-Hant``); ``None`` for anything else."""
    if not tag:
        return None
    cleaned = tag.split(".")[0].split("@")[0].replace("_", "-").strip()
    try:
        parsed = BabelLocale.parse(cleaned, sep="-")
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return None
    if parsed.language == "en":
        return "en"
    if parsed.language == "zh" and parsed.script in (None, "Hans"):
        return "zh-CN"
    return None


MAX_LANGUAGES = 20
"""How many entries of an ``Accept-Language`` header are read (the rest are ignored)."""
_WEIGHT = re.compile(r"^q=([01](?:\.\d{0,3})?)$")


def accepted_languages(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first (by q-value,
    then by position); tags with ``q=0`` and the ``*`` wildcard are left out, and so is
    everything past the first :data:`MAX_LANGUAGES` entries."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:MAX_LANGUAGES]):
        tag, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            match = _WEIGHT.match(option.replace(" ", "").lower())
            quality = float(match.group(1)) if match else 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(weighted)]


def negotiate(
    accept_language: str | None, user_locale: str | None, default: LocaleName
) -> LocaleName:
    """The language of a request: the first supported one its ``Accept-Language`` asks
    for, else the user's own (``user_locale``), else the deployment's ``default``."""
    for tag in accepted_languages(accept_language):
        found = supported(tag)
        if found is not None:
            return found
    return supported(user_locale) or default


def environment_locale(environ: Mapping[str, str]) -> LocaleName:
    """The language of a command line: ``CRM_LOCALE``, else the first of ``LC_ALL``,
    ``LC_MESSAGES`` and ``LANG`` that is set (``zh_CN.UTF-8``), if supported; else English."""
    configured = supported(environ.get("CRM_LOCALE"))
    if configured is not None:
        return configured
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return supported(environ[name]) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


# --- catalogs ------------------------------------------------------------------------------


def _locale_dir(module: str) -> Path | None:
    """The ``locale`` directory of the nearest package from ``module`` up that has one."""
    parts = module.split(".")
    while parts:
        loaded = sys.modules.get(".".join(parts))
        for folder in getattr(loaded, "__path__", None) or ():
            candidate = Path(folder) / "locale"
            if candidate.is_dir():
                return candidate
        parts.pop()
    return None


def catalog_path(locale_dir: Path, locale: str) -> Path:
    return locale_dir / CATALOG_DIRS.get(locale, locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _catalog(locale_dir: Path | None, locale: str) -> dict[str, str]:
    """msgid → msgstr of one catalog (empty when there is none), read once."""
    if locale_dir is None:
        return {}
    path = catalog_path(locale_dir, locale)
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        catalog = read_po(file, locale=CATALOG_DIRS.get(locale, locale))
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


def extract_messages(source_dir: Path) -> dict[str, str]:
    """Every ``_("...")`` template in the Python files under ``source_dir`` (tests left
    out) and in its Jinja templates (``*.j2``, such as mail templates), with where it is
    (``path:line``), as Babel extracts them."""
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(source_dir),
        method_map=[
            ("**/test_*.py", "ignore"),
            ("**.py", "python"),
            ("**.j2", "jinja2.ext:babel_extract"),
        ],
        keywords={"_": None, "gettext": None},  # gettext: {% trans %} in templates
    ):
        if isinstance(message, str) and message not in found:
            found[message] = f"{filename}:{line}"
    return found


def _placeholders(template: str) -> set[str]:
    return {name for _t, name, _s, _c in string.Formatter().parse(template) if name is not None}


def missing_translations(package_dir: Path, locale: str = "zh-CN") -> list[str]:
    """What the ``locale`` catalog of the package at ``package_dir`` lacks: one line for
    each message of the package's code that it does not have or leaves untranslated, and
    for each translation whose ``{placeholders}`` differ from its message's."""
    catalog_dir = package_dir / "locale"
    path = catalog_path(catalog_dir, locale)
    translations: dict[str, str] = {}
    if path.is_file():
        with path.open("rb") as file:
            catalog = read_po(file, locale=CATALOG_DIRS.get(locale, locale))
        translations = {str(m.id): str(m.string or "") for m in catalog if m.id and not m.fuzzy}
    problems: list[str] = []
    for message, where in sorted(extract_messages(package_dir).items()):
        translated = translations.get(message, "")
        if not translated:
            problems.append(f"{where}: no {locale} translation for {message!r}")
        elif _placeholders(translated) != _placeholders(message):
            problems.append(
                f"{where}: the {locale} translation of {message!r} has placeholders "
                f"{sorted(_placeholders(translated))}, not {sorted(_placeholders(message))}"
            )
    return problems
