"""How the answer page is written: its language, its Jinja templates (autoescaped), its
one inline style sheet (allowed by its hash) and the headers every answer carries."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from core.plugin_api import Text, render, translator

_ = translator(__name__)

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES: dict[str, str] = {"en": "English", "zh-CN": "中文"}
"""The page's languages and how each names itself (for the switch)."""

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STYLE = (TEMPLATES / "page.css").read_text(encoding="utf-8")
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SECURITY_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; "
        f"style-src 'sha256-{STYLE_HASH}'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}
"""Not cached, not indexed, no referrer leaking the link, nothing loaded from elsewhere."""


# --- language ----------------------------------------------------------------------------------


def supported(tag: str | None) -> str | None:
    """``en`` or ``zh-CN`` for a language tag that asks for it (``zh-Hans-CN``, ``en-GB``,
    ``zh_CN``); ``None`` for others (Traditional Chinese included)."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh" and not any(part in ("hant", "tw", "hk", "mo") for part in parts[1:]):
        return "zh-CN"
    return None


def accepted(header: str | None) -> str | None:
    """The best of ``en`` and ``zh-CN`` an ``Accept-Language`` header asks for, by q-value
    then position; ``None`` when it asks for neither."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:20]):
        tag, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            name, _sep, value = option.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value)
        found = supported(tag)
        if found is not None and quality > 0:
            weighted.append((-quality, position, found))
    return min(weighted)[2] if weighted else None


_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
"""A q-value as RFC 9110 writes it: 0 to 1, at most three decimals."""


def _quality(value: str) -> float:
    """The weight a q-value gives; one that is not a q-value (``nan``, ``inf``, ``2``,
    ``-1``) gives none, so its language is not chosen."""
    text = value.strip()
    return float(text) if _QVALUE.fullmatch(text) else 0.0


def choose_language(
    asked: str | None, contact_locale: str | None, accept_language: str | None, default: str
) -> str:
    """``?lang=`` if given, else the contact's own language, else the browser's
    ``Accept-Language``, else the deployment's."""
    for candidate in (asked, contact_locale):
        found = supported(candidate)
        if found is not None:
            return found
    return accepted(accept_language) or supported(default) or "en"


# --- pages -------------------------------------------------------------------------------------


def gettext(locale: str) -> Callable[..., str]:
    """The templates' ``_``: a message of this package rendered in ``locale``."""

    def translate(message: str, /, **params: Any) -> str:
        return render(_(message, **params), locale)

    return translate


def page(
    template: str,
    locale: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """``template`` (in ``page/templates``) written in ``locale``, with the page's headers."""
    shown = {
        name: render(value, locale) if isinstance(value, Text) else value
        for name, value in values.items()
    }
    html = _environment.get_template(template).render(
        _=gettext(locale), lang=locale, style=STYLE, languages=LANGUAGES, **shown
    )
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
