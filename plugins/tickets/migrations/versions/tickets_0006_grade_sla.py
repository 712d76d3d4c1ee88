"""SLA policies per customer grade: a stricter (or looser) policy of a priority for the
customers of one grade (GOLD: a first response within 30 minutes), beside the policy of
each priority; and the grade whose policy a ticket follows, the customer's grade when the
ticket was opened (``tickets.sla_grade``, filled for the tickets there are).

A table of its own rather than a grade in the key of ``ticket_sla_policies``: the policy of
a priority stays one row per priority, and no primary key changes (which SQLite can only do
by copying the table).

Revision ID: tickets_0006
Revises: tickets_0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision: str = "tickets_0006"
down_revision: str | Sequence[str] | None = "tickets_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_grade_sla_policies",
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("grade", "priority", name=op.f("pk_ticket_grade_sla_policies")),
    )
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("sla_grade", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE tickets SET sla_grade = "
        "(SELECT customers.grade FROM customers WHERE customers.id = tickets.customer_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("sla_grade")
    op.drop_table("ticket_grade_sla_policies")
