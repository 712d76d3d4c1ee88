"""Search and sort keys of names: customers, contacts and tags.

Searches compared ``lower(column)`` with the search text lowered in Python: SQLite's
``lower()`` knows ASCII only, and neither side folded full-width letters, brackets or
spaces. Lists sorted names by code point. This revision stores, on every customer and
contact, a ``search_key`` (the name, number and email normalised with NFKC and case
folding, plus the pinyin and pinyin initials of Chinese names) and on customers, contacts
and tags a ``name_sort`` (pinyin syllables with tones for Chinese characters), fills them
for the rows there are, and indexes them: B-tree indexes on ``(name_sort, id)`` in place of
those on ``(name, id)``, and on PostgreSQL trigram indexes on ``search_key`` in place of
core_0004's on ``lower(name)``, ``lower(number)`` and ``lower(email)`` (the one on
``phone`` stays). ``name_sort`` compares by code point on PostgreSQL (``COLLATE "C"``), as
SQLite compares text.

The key functions are copied here, frozen, rather than imported from ``core.text_keys``:
the keys this revision writes must stay what they were when it was written, whatever the
live code becomes (a later change of the keys comes with a revision of its own that fills
them again). Their data, pypinyin's dictionaries, is pinned to one minor series in
pyproject.toml (0.x releases may change readings). The downgrade drops the columns and
puts the earlier indexes back.

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pypinyin import Style, lazy_pinyin

revision: str = "core_0008"
down_revision: str | Sequence[str] | None = "core_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEPARATOR = "\x1f"
OTHER = "\x00"
SORT_KEY_LENGTH = 400
BATCH = 1000
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

OLD_TRIGRAM_INDEXES = [
    ("ix_customers_name_trgm", "customers", "lower(name)"),
    ("ix_customers_number_trgm", "customers", "lower(number)"),
    ("ix_customers_email_trgm", "customers", "lower(email)"),
    ("ix_contacts_name_trgm", "contacts", "lower(name)"),
]
NEW_TRIGRAM_INDEXES = [
    ("ix_customers_search_trgm", "customers", "search_key"),
    ("ix_contacts_search_trgm", "contacts", "search_key"),
]
OLD_INDEXES = [
    ("ix_customers_name_id", "customers", ["name", "id"]),
    ("ix_customers_owner_name", "customers", ["owner_id", "name", "id"]),
    ("ix_contacts_customer_name", "contacts", ["customer_id", "name", "id"]),
]
NEW_INDEXES = [
    ("ix_customers_name_sort", "customers", ["name_sort", "id"]),
    ("ix_customers_owner_name_sort", "customers", ["owner_id", "name_sort", "id"]),
    ("ix_contacts_customer_name_sort", "contacts", ["customer_id", "name_sort", "id"]),
    ("ix_contacts_name_sort", "contacts", ["name_sort", "id"]),
]


def _normalise(text: str | None) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    folded = unicodedata.normalize("NFKC", folded)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in folded
        if unicodedata.category(ch) != "Cc" or ch.isspace()
    )
    return _SPACES.sub(" ", kept).strip()


def _pieces(normal: str) -> list[str]:
    return list(
        lazy_pinyin(
            normal,
            style=Style.TONE3,
            neutral_tone_with_five=True,
            errors=lambda other: OTHER + other,
        )
    )


def _search_key(*texts: str | None) -> str:
    parts: list[str] = []
    for text in texts:
        normal = _normalise(text)
        if not normal:
            continue
        parts.append(normal)
        if _HAN.search(normal):
            full: list[str] = []
            initials: list[str] = []
            for piece in _pieces(normal):
                if piece.startswith(OTHER):
                    other = piece[1:].replace(" ", "")
                    full.append(other)
                    initials.append(other)
                else:
                    syllable = piece.rstrip("012345")
                    full.append(syllable)
                    initials.append(syllable[:1])
            parts.extend([_normalise("".join(full)), _normalise("".join(initials))])
    return SEPARATOR.join(parts)


def _sort_key(text: str | None) -> str:
    normal = _normalise(text)
    if _HAN.search(normal):
        words = [_normalise(p[1:] if p.startswith(OTHER) else p) for p in _pieces(normal)]
    else:
        words = [normal]
    decomposed = unicodedata.normalize("NFKD", " ".join(w for w in words if w))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)[:SORT_KEY_LENGTH]


def _sort_type() -> sa.types.TypeEngine[str]:
    return sa.String(SORT_KEY_LENGTH).with_variant(
        sa.String(SORT_KEY_LENGTH, collation="C"), "postgresql"
    )


def _fill(table: str, columns: list[str], keys: dict[str, tuple[str, ...]]) -> None:
    """Compute ``keys`` (key column -> source columns) for every row of ``table``."""
    bind = op.get_bind()
    t = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns + list(keys)))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(t.c.id, *(t.c[c] for c in columns))
            .where(t.c.id > last)
            .order_by(t.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            record = dict(zip(["id", *columns], row, strict=True))
            out = {"row_id": record["id"]}
            for key, sources in keys.items():
                texts = [record[s] for s in sources]
                out[key] = _search_key(*texts) if key == "search_key" else _sort_key(texts[0])
            values.append(out)
        bind.execute(
            t.update()
            .where(t.c.id == sa.bindparam("row_id"))
            .values({key: sa.bindparam(key) for key in keys}),
            values,
        )
        last = rows[-1][0]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ("customers", "contacts"):
        op.add_column(table, sa.Column("search_key", sa.Text(), server_default="", nullable=False))
    for table in ("customers", "contacts", "tags"):
        op.add_column(
            table, sa.Column("name_sort", _sort_type(), server_default="", nullable=False)
        )
    _fill(
        "customers",
        ["name", "number", "email"],
        {"search_key": ("name", "number", "email"), "name_sort": ("name",)},
    )
    _fill("contacts", ["name"], {"search_key": ("name",), "name_sort": ("name",)})
    _fill("tags", ["name"], {"name_sort": ("name",)})
    for name, table, _columns in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, columns)
    if not postgresql:
        return
    for name, table, _expression in OLD_TRIGRAM_INDEXES:
        op.drop_index(name, table_name=table, if_exists=True)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name, table, expression in NEW_TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [sa.text(f"{expression} gin_trgm_ops")],
            postgresql_using="gin",
            if_not_exists=True,
        )
    op.execute("ANALYZE customers")
    op.execute("ANALYZE contacts")
    op.execute("ANALYZE tags")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _expression in reversed(NEW_TRIGRAM_INDEXES):
            op.drop_index(name, table_name=table, if_exists=True)
        for name, table, expression in OLD_TRIGRAM_INDEXES:
            op.create_index(
                name,
                table,
                [sa.text(f"{expression} gin_trgm_ops")],
                postgresql_using="gin",
                if_not_exists=True,
            )
    for name, table, _columns in reversed(NEW_INDEXES):
        op.drop_index(name, table_name=table)
    for name, table, columns in OLD_INDEXES:
        op.create_index(name, table, columns)
    for table in ("tags", "contacts", "customers"):
        op.drop_column(table, "name_sort")
    for table in ("contacts", "customers"):
        op.drop_column(table, "search_key")
