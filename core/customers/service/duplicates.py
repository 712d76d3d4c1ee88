"""Likely duplicates of a new customer: a similar name, the same phone, the same email or
website domain.

Unlike the hard DUPLICATE of :func:`core.customers.service.common._duplicates` (an email or
phone that another active customer already has), these are hints: ``createCustomer``
refuses while there are any, with the candidates in its payload, and the caller who has
looked at them creates the customer anyway with ``allowDuplicates: true``.

Only customers the caller may read are considered, so neither the refusal nor its
candidates reveal a customer outside the caller's scope (existence oracle).

What is compared is stored on every customer (:mod:`core.customers.match_keys`): names by
their core and digits (equal digits, and cores equal or alike by pg_trgm's ``similarity()``
at :data:`~core.customers.match_keys.SIMILARITY_THRESHOLD`: on PostgreSQL the extension's,
through its trigram index; on SQLite the same computation registered as a function by
:mod:`core.db`), and domains by equality. One query finds and ranks the candidates.
"""

from __future__ import annotations

import enum
import functools
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.customers.match_keys import (
    SIMILARITY_THRESHOLD,
    email_domain,
    name_key,
    website_domain,
)
from core.customers.models import Customer
from core.errors import UserErrorCode
from core.i18n import _
from core.validation import Check

MAX_CANDIDATES = 10


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


def similar_name(name: str | None, *, postgresql: bool) -> ColumnElement[bool]:
    """Customers whose name is similar to ``name``: the same digits, and the same core or
    one alike by trigrams.

    On PostgreSQL the ``%`` operator (pg_trgm's looser default threshold, 0.3) lets the
    trigram index find the few rows ``similarity()`` then decides; the core is written into
    the statement, since a prepared statement's generic plan would not know to use the index
    for an unknown value. On SQLite, which has no such index, a ``LIKE`` for enough of the
    core's trigrams (:func:`_trigram_filter`) leaves few rows for the registered
    ``similarity()`` to compute.
    """
    key = name_key(name)
    if not key.core and not key.digits:
        return false()
    if postgresql:
        core = literal(key.core, String, literal_execute=True)
        alike = and_(
            Customer.name_core.op("%")(core),
            func.similarity(Customer.name_core, core) >= SIMILARITY_THRESHOLD,
        )
    else:
        alike = and_(
            _trigram_filter(key.core),
            func.similarity(Customer.name_core, key.core) >= SIMILARITY_THRESHOLD,
        )
    return and_(
        Customer.name_digits == key.digits,
        or_(Customer.name_core == key.core, and_(Customer.name_core != "", alike)),
    )


def _trigram_filter(core: str) -> ColumnElement[bool]:
    """Stored cores holding one of enough of ``core``'s trigrams that every core alike to it
    holds one: at ``similarity >= t`` two cores share at least ``ceil(t * n)`` of the ``n``
    trigrams of ``core``, so any ``n - ceil(t * n) + 1`` of them meet each such core. Inner
    trigrams come first (``%abc%``; rarer than a first or last letter). A core is one word of
    letters (:func:`~core.customers.match_keys.name_key`): a trigram padded in front is how
    it starts, one padded behind how it ends. The patterns keep the core's letters as stored
    (case folded, which for a few scripts such as Cherokee is upper case): SQLite's ``LIKE``
    folds ASCII only, while ``similarity()`` compares the lower-cased trigrams."""
    padded = f"  {core} "
    by_lowered: dict[str, str] = {}
    for start in range(len(padded) - 2):
        gram = padded[start : start + 3]
        by_lowered.setdefault(gram.lower(), gram)
    grams = sorted(by_lowered.values(), key=lambda gram: (" " in gram, gram))
    needed = len(grams) - math.ceil(SIMILARITY_THRESHOLD * len(grams)) + 1
    patterns = []
    for gram in grams[:needed]:
        letters = gram.strip()
        if gram.startswith(" ") and gram.endswith(" "):
            patterns.append(letters)
        elif gram.startswith(" "):
            patterns.append(f"{letters}%")
        elif gram.endswith(" "):
            patterns.append(f"%{letters}")
        else:
            patterns.append(f"%{letters}%")
    return or_(false(), *(Customer.name_core.like(pattern) for pattern in patterns))


def _same_domain(domain: str | None) -> ColumnElement[bool]:
    if domain is None:
        return false()
    return or_(Customer.email_domain == domain, Customer.website_domain == domain)


async def likely_duplicates(
    session: AsyncSession, context: RequestContext, columns: Mapping[str, Any]
) -> list[Candidate]:
    """Active customers the caller may read that look like a new one with ``columns``
    (validated column values: name, phone, email, website), most reasons first."""
    phone = columns.get("phone")
    postgresql = session.get_bind().dialect.name == "postgresql"
    tests = {
        DuplicateReason.SIMILAR_NAME: similar_name(columns.get("name"), postgresql=postgresql),
        DuplicateReason.SAME_PHONE: Customer.phone == phone if phone else false(),
        DuplicateReason.SAME_EMAIL_DOMAIN: _same_domain(email_domain(columns.get("email"))),
        DuplicateReason.SAME_WEBSITE_DOMAIN: _same_domain(website_domain(columns.get("website"))),
    }
    flags = {reason: case((test, 1), else_=0) for reason, test in tests.items()}
    matched = functools.reduce(operator.add, flags.values())
    rows = await session.execute(
        select(
            Customer.id,
            Customer.number,
            *(flag.label(reason.value) for reason, flag in flags.items()),
        )
        .where(
            or_(*tests.values()),
            Customer.archived_at.is_(None),
            Customer.erased_at.is_(None),
            context.visible("customers:read", "customers"),
        )
        .order_by(matched.desc(), Customer.id)
        .limit(MAX_CANDIDATES)
    )
    return [
        Candidate(
            row.id,
            row.number,
            [reason for reason in DuplicateReason if row._mapping[reason.value]],
        )
        for row in rows
    ]


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
