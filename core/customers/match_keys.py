"""What likely duplicates compare: a name's core and digits, email and website domains.

Stored on every customer (:func:`core.customers.models._keep_keys`) and computed alike for a
new one, so that :mod:`core.customers.service.duplicates` finds the candidates with indexed
queries rather than by reading customers:

- :func:`name_key`: the name normalised (:func:`core.text_keys.normalise`), without
  punctuation, spaces and legal forms, split into its letters (the *core*: ``Lake-Brook
  GmbH`` → ``lakebrook``, ``湖溪科技有限公司`` → ``湖溪科技``) and its digits (``Customer 12``
  → ``customer`` and ``12``). Two names are similar when their digits are equal and their
  cores are equal or alike by trigrams (:data:`SIMILARITY_THRESHOLD`): ``Lakebrook`` and
  ``Lakebrok``, but not ``Customer 1`` and ``Customer 2`` (numbered branches and test
  records are different customers).
- :func:`email_host` and :func:`website_host`: the domain of an email address and the host
  of a website without ``www.``. Free-mail domains (gmail.com, qq.com, 163.com...) and
  domains reserved for examples are shared by unrelated people: :func:`email_domain` and
  :func:`website_domain` give ``None`` for them, and they are no sign of one company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.text_keys import normalise

SIMILARITY_THRESHOLD = 0.5
"""Cores at least this alike by trigrams (pg_trgm's ``similarity()``) are similar names.
``Lakebrook``/``Lakebrok`` are 0.73, ``湖溪科技``/``湖溪科技发展`` 0.5, ``Lakebrook``/``Lakeside``
0.27."""

_LEGAL_FORMS = (
    "gmbh mbh ag kg ohg ug ltd limited inc incorporated llc llp plc corp corporation co "
    "company sa sas sarl srl spa bv nv oy ab as aps kk pty pte group holding holdings"
)
LEGAL_FORMS = frozenset(_LEGAL_FORMS.split())
CHINESE_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_FREE_MAIL = (
    "gmail.com googlemail.com yahoo.com yahoo.co.uk hotmail.com outlook.com live.com msn.com "
    "icloud.com me.com aol.com proton.me protonmail.com gmx.de gmx.net web.de mail.ru "
    "yandex.ru qq.com 163.com 126.com sina.com sina.cn sohu.com foxmail.com aliyun.com "
    "139.com yeah.net"
)
FREE_MAIL_DOMAINS = frozenset(_FREE_MAIL.split())
"""Domains that many unrelated people's email addresses share: no sign of one company."""
RESERVED_TOP_LEVEL = frozenset({"test", "example", "invalid", "localhost", "local"})
KEY_LENGTH = 200
"""Cores and digits are cut to this many characters (a name has at most 200)."""
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class NameKey:
    """A name as likely duplicates compare it."""

    core: str
    """The letters, without legal forms, punctuation and spaces."""
    digits: str
    """The digits, in order (``""`` for a name without any)."""


def name_key(name: str | None) -> NameKey:
    """``name`` as likely duplicates compare it (``Lakebrook GmbH.`` → ``lakebrook``,
    ``湖溪科技有限公司`` → ``湖溪科技``, ``Customer 12`` → ``customer`` and ``12``). A name that
    is only a legal form keeps it (``GmbH`` → ``gmbh``)."""
    words = _words(name)
    joined = "".join([word for word in words if word not in LEGAL_FORMS] or words)
    core = "".join(ch for ch in joined if not ch.isdigit())
    digits = "".join(ch for ch in joined if ch.isdigit())
    return NameKey(core[:KEY_LENGTH], digits[:KEY_LENGTH])


def _words(name: str | None) -> list[str]:
    normal = _PUNCTUATION.sub(" ", normalise(name)).strip()
    for form in CHINESE_LEGAL_FORMS:
        if normal != form:
            normal = normal.removesuffix(form).strip()
    return normal.replace("_", " ").split()


def shared_domain(domain: str) -> bool:
    """Whether many unrelated people use ``domain`` (free mail, reserved for examples)."""
    return (
        not domain
        or domain in FREE_MAIL_DOMAINS
        or domain.split(".")[-1] in RESERVED_TOP_LEVEL
        or domain.removeprefix("www.").split(".", 1)[0] == "example"
    )


def email_host(email: str | None) -> str | None:
    """The domain of ``email``, lower-cased; ``None`` without one."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def website_host(website: str | None) -> str | None:
    """The host of ``website`` without a leading ``www.``, lower-cased; ``None`` without
    one."""
    if not website:
        return None
    try:
        host = urlsplit(website if "://" in website else f"https://{website}").hostname or ""
    except ValueError:
        return None
    return host.lower().removeprefix("www.") or None


def email_domain(email: str | None) -> str | None:
    """The domain of ``email``, unless it is a shared one (gmail.com, qq.com...)."""
    host = email_host(email)
    return None if host is None or shared_domain(host) else host


def website_domain(website: str | None) -> str | None:
    """The host of ``website`` without ``www.``, unless it is a shared one."""
    host = website_host(website)
    return None if host is None or shared_domain(host) else host
