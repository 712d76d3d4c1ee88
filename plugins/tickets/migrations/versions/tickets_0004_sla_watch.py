"""The SLA watch: for which due time a ticket's people were told it is at risk, and that it
is breached (``tickets.sla_watch``), so each is told once per due time.

Tickets already past their due time when this runs count as told: the watch starts with
what falls due from now on.

Revision ID: tickets_0004
Revises: tickets_0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision: str = "tickets_0004"
down_revision: str | Sequence[str] | None = "tickets_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("sla_risk_told_for", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_breach_told_for", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE tickets SET sla_risk_told_for = sla_due_at, sla_breach_told_for = sla_due_at "
        "WHERE sla_due_at IS NOT NULL AND sla_due_at < CURRENT_TIMESTAMP"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("sla_breach_told_for")
        batch_op.drop_column("sla_risk_told_for")
