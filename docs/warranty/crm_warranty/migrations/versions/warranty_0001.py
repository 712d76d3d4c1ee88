"""The warranties table.

Revision ID: warranty_0001
"""

import sqlalchemy as sa
from alembic import op

from core import plugin_api as crm

revision = "warranty_0001"
down_revision = None
branch_labels = ("warranty",)
depends_on = "core_0003"  # the customers table


def upgrade() -> None:
    op.create_table(
        "warranties",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("product", sa.String(120), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", crm.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("warranties")
