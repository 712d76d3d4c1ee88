"""Likely duplicates by indexed keys: a name's core and digits, email and website domains.

Likely duplicates of a new customer were found by a ``LIKE`` on the longest word of its name
over the search keys, capped at 200 rows and narrowed in Python: a name written apart
(``Lake-Brook``) or one past the cap was missed, and the domain comparisons read every
customer. This revision stores on every customer ``name_core`` (the name's letters without
punctuation, spaces and legal forms), ``name_digits`` (its digits), ``email_domain`` and
``website_domain`` (lower-cased, without ``www.``), fills them for the customers there are,
and indexes them: a B-tree on ``(name_digits, name_core)``, one on each domain, and on
PostgreSQL a trigram index on ``name_core`` for pg_trgm's similarity.

The key functions are copied here, frozen, rather than imported from
``core.customers.match_keys``: the keys this revision writes must stay what they were when it
was written (a later change of the keys comes with a revision of its own that fills them
again). The downgrade drops the indexes and the columns.

Revision ID: core_0015
Revises: core_0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "core_0015"
down_revision: str | Sequence[str] | None = "core_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
KEY_LENGTH = 200
_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]+")
LEGAL_FORMS = frozenset(
    [
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "kk",
        "pty",
        "pte",
        "group",
        "holding",
        "holdings",
    ]
)
CHINESE_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
INDEXES = [
    ("ix_customers_name_key", ["name_digits", "name_core"]),
    ("ix_customers_email_domain", ["email_domain"]),
    ("ix_customers_website_domain", ["website_domain"]),
]
TRIGRAM_INDEX = "ix_customers_name_core_trgm"


def _normalise(text: str | None) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    folded = unicodedata.normalize("NFKC", folded)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in folded
        if unicodedata.category(ch) != "Cc" or ch.isspace()
    )
    return _SPACES.sub(" ", kept).strip()


def _name_key(name: str | None) -> tuple[str, str]:
    normal = _PUNCTUATION.sub(" ", _normalise(name)).strip()
    for form in CHINESE_LEGAL_FORMS:
        if normal != form:
            normal = normal.removesuffix(form).strip()
    words = normal.replace("_", " ").split()
    joined = "".join([word for word in words if word not in LEGAL_FORMS] or words)
    core = "".join(ch for ch in joined if not ch.isdigit())
    digits = "".join(ch for ch in joined if ch.isdigit())
    return core[:KEY_LENGTH], digits[:KEY_LENGTH]


def _email_host(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def _website_host(website: str | None) -> str | None:
    if not website:
        return None
    try:
        host = urlsplit(website if "://" in website else f"https://{website}").hostname or ""
    except ValueError:
        return None
    return host.lower().removeprefix("www.") or None


def _keys(name: str | None, email: str | None, website: str | None) -> dict[str, Any]:
    core, digits = _name_key(name)
    return {
        "name_core": core,
        "name_digits": digits,
        "email_domain": _email_host(email),
        "website_domain": _website_host(website),
    }


def _fill() -> None:
    bind = op.get_bind()
    keys = ("name_core", "name_digits", "email_domain", "website_domain")
    t = sa.table(
        "customers",
        *(sa.column(c) for c in ("id", "name", "email", "website", *keys)),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(t.c.id, t.c.name, t.c.email, t.c.website)
            .where(t.c.id > last)
            .order_by(t.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            t.update()
            .where(t.c.id == sa.bindparam("row_id"))
            .values({key: sa.bindparam(key) for key in keys}),
            [{"row_id": row.id, **_keys(row.name, row.email, row.website)} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        for column in ("name_core", "name_digits"):
            batch_op.add_column(
                sa.Column(column, sa.String(KEY_LENGTH), server_default="", nullable=False)
            )
        batch_op.add_column(sa.Column("email_domain", sa.String(254), nullable=True))
        batch_op.add_column(sa.Column("website_domain", sa.String(500), nullable=True))
    _fill()
    for name, columns in INDEXES:
        op.create_index(name, "customers", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            TRIGRAM_INDEX,
            "customers",
            [sa.text("name_core gin_trgm_ops")],
            postgresql_using="gin",
            if_not_exists=True,
        )
        op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(TRIGRAM_INDEX, table_name="customers", if_exists=True)
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name="customers")
    with op.batch_alter_table("customers") as batch_op:
        for column in ("website_domain", "email_domain", "name_digits", "name_core"):
            batch_op.drop_column(column)
