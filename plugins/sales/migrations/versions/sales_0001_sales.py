"""Sales plugin: the product catalogue, the pipeline's stages (seeded with the default
LEAD -> QUALIFIED -> PROPOSAL -> NEGOTIATION -> WON | LOST), opportunities and their stage
history, contracts, orders and their lines, customers' value tiers; three number counters.

Revision ID: sales_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime, create_counter, drop_counter

DEFAULT_STAGES = [  # key, name, kind, position, win probability in percent
    ("LEAD", "Lead", "OPEN", 1, 10),
    ("QUALIFIED", "Qualified", "OPEN", 2, 25),
    ("PROPOSAL", "Proposal", "OPEN", 3, 50),
    ("NEGOTIATION", "Negotiation", "OPEN", 4, 75),
    ("WON", "Won", "WON", 5, 100),
    ("LOST", "Lost", "LOST", 6, 0),
]
COUNTERS = ("sales_opportunity", "sales_contract", "sales_order")

revision: str = "sales_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sales",)
depends_on: str | Sequence[str] | None = "core_0003"


def upgrade() -> None:
    op.create_table(
        "sales_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("list_price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_sales_products_sku")),
    )
    with op.batch_alter_table("sales_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_products_category"), ["category"], unique=False)
        batch_op.create_index("ix_sales_products_name", ["name", "id"], unique=False)

    op.create_table(
        "sales_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_stages")),
        sa.UniqueConstraint("key", name=op.f("uq_sales_stages_key")),
        info={"seeded": True},
    )
    op.create_table(
        "sales_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("renewal_told_for", sa.Date(), nullable=True),
        sa.Column("terminated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_contracts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_sales_contracts_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_contracts_number")),
    )
    with op.batch_alter_table("sales_contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_contracts_customer", ["customer_id", "starts_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_sales_contracts_status_ends", ["status", "ends_on", "id"], unique=False
        )

    op.create_table(
        "sales_customer_values",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("spent_12m", sa.Numeric(precision=28, scale=4), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_customer_values_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_sales_customer_values")),
    )
    with op.batch_alter_table("sales_customer_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_customer_values_tier", ["tier", "customer_id"], unique=False
        )

    op.create_table(
        "sales_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("ordered_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_sales_orders_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_orders_number")),
        sa.UniqueConstraint("source", "external_ref", name="uq_sales_orders_source_external_ref"),
    )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_orders_customer", ["customer_id", "ordered_at", "id"], unique=False
        )
        batch_op.create_index("ix_sales_orders_ordered", ["ordered_at", "id"], unique=False)

    op.create_table(
        "sales_opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close_on", sa.Date(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("probability_override", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("next_step", sa.String(length=200), nullable=True),
        sa.Column("competitors", sa.JSON(), nullable=False),
        sa.Column("lost_reason", sa.String(length=16), nullable=True),
        sa.Column("lost_reason_text", sa.Text(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_sales_opportunities_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_opportunities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_sales_opportunities_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["sales_stages.id"],
            name=op.f("fk_sales_opportunities_stage_id_sales_stages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_opportunities")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_opportunities_number")),
    )
    with op.batch_alter_table("sales_opportunities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_opportunities_customer", ["customer_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_sales_opportunities_owner_stage", ["owner_id", "stage_id"], unique=False
        )
        batch_op.create_index(
            "ix_sales_opportunities_stage_close",
            ["stage_id", "expected_close_on", "id"],
            unique=False,
        )
        batch_op.create_index("ix_sales_opportunities_updated", ["updated_at", "id"], unique=False)

    op.create_table(
        "sales_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_sales_order_lines_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["sales_products.id"],
            name=op.f("fk_sales_order_lines_product_id_sales_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_lines")),
    )
    with op.batch_alter_table("sales_order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_sales_order_lines_order", ["order_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sales_order_lines_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "sales_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("from_stage_id", sa.Integer(), nullable=True),
        sa.Column("to_stage_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_sales_stage_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["sales_stages.id"],
            name=op.f("fk_sales_stage_changes_from_stage_id_sales_stages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["sales_opportunities.id"],
            name=op.f("fk_sales_stage_changes_opportunity_id_sales_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["sales_stages.id"],
            name=op.f("fk_sales_stage_changes_to_stage_id_sales_stages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_stage_changes")),
    )
    with op.batch_alter_table("sales_stage_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_stage_changes_opportunity",
            ["opportunity_id", "changed_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_sales_stage_changes_to_changed", ["to_stage_id", "changed_at"], unique=False
        )

    stages = sa.table(
        "sales_stages",
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("position", sa.Integer),
        sa.column("probability", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("updated_at", UTCDateTime()),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        stages,
        [
            {
                "key": key,
                "name": name,
                "kind": kind,
                "position": position,
                "probability": probability,
                "active": True,
                "updated_at": now,
            }
            for key, name, kind, position, probability in DEFAULT_STAGES
        ],
    )
    for name in COUNTERS:
        create_counter(name)


def downgrade() -> None:
    for name in COUNTERS:
        drop_counter(name)
    with op.batch_alter_table("sales_stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_stage_changes_to_changed")
        batch_op.drop_index("ix_sales_stage_changes_opportunity")

    op.drop_table("sales_stage_changes")
    with op.batch_alter_table("sales_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_order_lines_product_id"))
        batch_op.drop_index("ix_sales_order_lines_order")

    op.drop_table("sales_order_lines")
    with op.batch_alter_table("sales_opportunities", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_opportunities_updated")
        batch_op.drop_index("ix_sales_opportunities_stage_close")
        batch_op.drop_index("ix_sales_opportunities_owner_stage")
        batch_op.drop_index("ix_sales_opportunities_customer")

    op.drop_table("sales_opportunities")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_orders_ordered")
        batch_op.drop_index("ix_sales_orders_customer")

    op.drop_table("sales_orders")
    with op.batch_alter_table("sales_customer_values", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_customer_values_tier")

    op.drop_table("sales_customer_values")
    with op.batch_alter_table("sales_contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_contracts_status_ends")
        batch_op.drop_index("ix_sales_contracts_customer")

    op.drop_table("sales_contracts")
    op.drop_table("sales_stages")
    with op.batch_alter_table("sales_products", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_products_name")
        batch_op.drop_index(batch_op.f("ix_sales_products_category"))

    op.drop_table("sales_products")
