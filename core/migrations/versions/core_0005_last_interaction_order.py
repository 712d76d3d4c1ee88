"""An index in the order of ``customers(orderBy: {field: LAST_INTERACTION_AT})`` (PostgreSQL).

That ordering sorts never-contacted customers as if contacted at the epoch, so it sorts by
``coalesce(last_interaction_at, <epoch>)``, which the plain index on ``last_interaction_at``
cannot give in order: every page sorted the whole table. This expression index holds the
same expression, so that the query (which writes the epoch inline, see
``core.customers.orders``) is a range scan of it. The models do not declare it
(their table names it in ``info["database_only_indexes"]``). SQLite, at the sizes it is
meant for, sorts quickly enough and cannot reflect such an index; there this revision does
nothing.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "core_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_customers_last_interaction_order"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        NAME,
        "customers",
        [sa.text("coalesce(last_interaction_at, '1970-01-01 00:00:00+00'::timestamptz)"), "id"],
        if_not_exists=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NAME, table_name="customers", if_exists=True)
