"""Key accounts and anniversaries: the date a customer was founded (its company
anniversary is reminded of each year).

Existing customers get none (NULL).

Revision ID: core_0013
Revises: core_0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0013"
down_revision: str | Sequence[str] | None = "core_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("founded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("founded_on")
