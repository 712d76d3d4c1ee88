"""Trigram indexes for customer search (PostgreSQL only).

A customer search looks for a part of a text (``lower(column) LIKE '%term%'``), which no
B-tree index can answer. On PostgreSQL the ``pg_trgm`` extension's GIN indexes can: one per
searched expression, so that each branch of the search (``core.customers.queries.
customer_list``) is an index lookup. The extension is trusted: a database owner may create
it without being a superuser. SQLite has no such index and keeps searching by scanning,
which is quick at the sizes SQLite is meant for; there this revision does nothing.

The models do not declare these indexes (they exist on one database only); their tables
name them in ``info["database_only_indexes"]`` so that comparing models with migrations
leaves them alone. Building them takes a while on a large table and blocks writes to it
meanwhile. The downgrade drops the indexes and leaves the extension, which other indexes
may use.

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = [
    ("ix_customers_name_trgm", "customers", "lower(name)"),
    ("ix_customers_number_trgm", "customers", "lower(number)"),
    ("ix_customers_email_trgm", "customers", "lower(email)"),
    ("ix_customers_phone_trgm", "customers", "phone"),
    ("ix_contacts_name_trgm", "contacts", "lower(name)"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # More memory for this transaction's index builds: GIN indexes build much faster.
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name, table, expression in TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [sa.text(f"{expression} gin_trgm_ops")],
            postgresql_using="gin",
            if_not_exists=True,
        )
    # Statistics of the indexed expressions, which the planner needs to tell a rare term
    # from a common one (autovacuum would gather them only after many rows change).
    op.execute("ANALYZE customers")
    op.execute("ANALYZE contacts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _expression in reversed(TRIGRAM_INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
