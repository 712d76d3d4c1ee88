"""Sales follow-up: a type and a cancellation time on tasks, and an index for the root
``interactions`` list (newest first across customers).

Existing tasks become OTHER (the column's server default) and stay open or done as they
were; none is cancelled.

Revision ID: core_0012
Revises: core_0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "core_0012"
down_revision: str | Sequence[str] | None = "core_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(
            sa.Column("type", sa.String(16), nullable=False, server_default="OTHER")
        )
        batch_op.add_column(sa.Column("cancelled_at", UTCDateTime(), nullable=True))
    op.create_index("ix_interactions_time", "interactions", ["occurred_at", "id"])


def downgrade() -> None:
    """Drops the type and the cancellation time; a cancelled task becomes done at the time
    it was cancelled, so that it does not come back as open."""
    op.execute(
        "UPDATE tasks SET done_at = cancelled_at WHERE cancelled_at IS NOT NULL AND done_at IS NULL"
    )
    op.drop_index("ix_interactions_time", table_name="interactions")
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("type")
