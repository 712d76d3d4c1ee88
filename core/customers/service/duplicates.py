"""Likely duplicates of a new customer: a similar name, the same phone, the same email or
website domain.

Unlike the hard DUPLICATE of :func:`core.customers.service.common._duplicates` (an email or
phone that another active customer already has), these are hints: ``createCustomer``
refuses while there are any, with the candidates in its payload, and the caller who has
looked at them creates the customer anyway with ``allowDuplicates: true``.

Only customers the caller may read are considered, so neither the refusal nor its
candidates reveal a customer outside the caller's scope (existence oracle).

Names are compared by their *core*: the :func:`~core.text_keys.normalise` form without
punctuation, legal forms and spaces (``Lakebrook GmbH``, ``Lake-Brook`` and ``lakebrook``
are one core; ``湖溪科技有限公司`` and ``湖溪科技`` too). Equal cores only, on both databases
alike: a trigram similarity (pg_trgm) would answer differently on SQLite and PostgreSQL and
call "Customer 1" and "Customer 2" one company. Email and website domains shared by
unrelated people (free mail such as gmail.com, qq.com, 163.com) or reserved for examples
(example.com, ``.test``) are no sign of one company.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.customers.models import Customer
from core.errors import UserErrorCode
from core.i18n import _
from core.text_keys import like_pattern, normalise
from core.validation import Check

MAX_CANDIDATES = 10

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
_PUNCTUATION = re.compile(r"[^\w\s]+")


class DuplicateReason(enum.Enum):
    SIMILAR_NAME = "SIMILAR_NAME"
    SAME_PHONE = "SAME_PHONE"
    SAME_EMAIL_DOMAIN = "SAME_EMAIL_DOMAIN"
    SAME_WEBSITE_DOMAIN = "SAME_WEBSITE_DOMAIN"


REASON_FIELDS = {
    DuplicateReason.SIMILAR_NAME: "name",
    DuplicateReason.SAME_PHONE: "phone",
    DuplicateReason.SAME_EMAIL_DOMAIN: "email",
    DuplicateReason.SAME_WEBSITE_DOMAIN: "website",
}


@dataclass
class Candidate:
    """A customer that looks like the new one, and why."""

    customer_id: int
    number: str
    reasons: list[DuplicateReason] = field(default_factory=list)


def name_core(name: str | None) -> str:
    """``name`` as likely duplicates compare it: normalised, without punctuation and legal
    forms (``Lakebrook GmbH.`` → ``lakebrook``, ``湖溪科技有限公司`` → ``湖溪科技``)."""
    words = _words(name)
    kept = [word for word in words if word not in LEGAL_FORMS]
    return "".join(kept or words)


def _words(name: str | None) -> list[str]:
    normal = _PUNCTUATION.sub(" ", normalise(name)).strip()
    for form in CHINESE_LEGAL_FORMS:
        if normal != form:
            normal = normal.removesuffix(form).strip()
    return normal.split()


def _shared(domain: str) -> bool:
    return (
        not domain
        or domain in FREE_MAIL_DOMAINS
        or domain.split(".")[-1] in RESERVED_TOP_LEVEL
        or domain.removeprefix("www.").split(".", 1)[0] == "example"
    )


def email_domain(email: str | None) -> str | None:
    """The domain of ``email``, unless it is a free-mail one (gmail.com, qq.com...)."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return None if _shared(domain) else domain


def website_domain(website: str | None) -> str | None:
    """The host of ``website`` without a leading ``www.``."""
    if not website:
        return None
    try:
        host = urlsplit(website if "://" in website else f"https://{website}").hostname or ""
    except ValueError:
        return None
    host = host.lower().removeprefix("www.")
    return None if _shared(host) else host


async def likely_duplicates(
    session: AsyncSession, context: RequestContext, columns: Mapping[str, Any]
) -> list[Candidate]:
    """Active customers the caller may read that look like a new one with ``columns``
    (validated column values: name, phone, email, website), most reasons first."""
    core = name_core(columns.get("name"))
    phone = columns.get("phone")
    domains = {
        DuplicateReason.SAME_EMAIL_DOMAIN: email_domain(columns.get("email")),
        DuplicateReason.SAME_WEBSITE_DOMAIN: website_domain(columns.get("website")),
    }
    wanted = {domain for domain in domains.values() if domain}
    conditions: list[ColumnElement[bool]] = []
    words = [word for word in _words(columns.get("name")) if word not in LEGAL_FORMS]
    if core and words:
        # Rows whose stored search key holds the name's longest word: a superset of those
        # with the same core, which Python then picks.
        word = max(words, key=len)
        conditions.append(Customer.search_key.like(like_pattern(word), escape="\\"))
    if phone:
        conditions.append(Customer.phone == phone)
    for domain in wanted:
        conditions.append(func.lower(Customer.email).like(f"%@{domain}"))
        conditions.append(func.lower(Customer.website).like(f"%{domain}%"))
    if not conditions:
        return []
    rows = await session.execute(
        select(
            Customer.id,
            Customer.number,
            Customer.name,
            Customer.phone,
            Customer.email,
            Customer.website,
        )
        .where(
            or_(*conditions),
            Customer.archived_at.is_(None),
            Customer.erased_at.is_(None),
            context.visible("customers:read", "customers"),
        )
        .order_by(Customer.id)
        .limit(200)
    )
    found = []
    for row in rows:
        candidate = Candidate(row.id, row.number)
        if core and name_core(row.name) == core:
            candidate.reasons.append(DuplicateReason.SIMILAR_NAME)
        if phone and row.phone == phone:
            candidate.reasons.append(DuplicateReason.SAME_PHONE)
        theirs = {email_domain(row.email), website_domain(row.website)}
        for reason, ours in domains.items():
            if ours and ours in theirs:
                candidate.reasons.append(reason)
        if candidate.reasons:
            found.append(candidate)
    found.sort(key=lambda c: -len(c.reasons))
    return found[:MAX_CANDIDATES]


def refuse_duplicates(check: Check, candidates: list[Candidate]) -> None:
    """One DUPLICATE error per input field that a candidate matched, naming the customers
    (a field already refused, such as a phone another customer has, is not named again)."""
    by_field: dict[str, list[str]] = {}
    for candidate in candidates:
        for reason in candidate.reasons:
            by_field.setdefault(REASON_FIELDS[reason], []).append(candidate.number)
    for name, numbers in by_field.items():
        if check.has_error(name):
            continue
        check.fail(
            name,
            _(
                "likely a duplicate of customer {numbers}; check `duplicates`, and set "
                "allowDuplicates to create it anyway",
                numbers=", ".join(numbers),
            ),
            UserErrorCode.DUPLICATE,
        )
