"""Competitor plugin: profiles with SWOT items (citing intel), channels and campaigns;
products and their price history; market-share observations (ours included); the intel log
and its watchers; the competitors customers use; win/loss encounters.

Revision ID: competitor_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision: str = "competitor_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("competitor",)
depends_on: str | Sequence[str] | None = "core_0003"


def upgrade() -> None:
    op.create_table(
        "competitor_competitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("size_band", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("positioning", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("threat_level", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_competitor_competitors_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_competitors")),
        sa.UniqueConstraint("name_key", name=op.f("uq_competitor_competitors_name_key")),
    )
    op.create_index(
        op.f("ix_competitor_competitors_status"), "competitor_competitors", ["status"], unique=False
    )
    op.create_table(
        "competitor_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_campaigns_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_campaigns")),
    )
    op.create_index(
        op.f("ix_competitor_campaigns_competitor_id"),
        "competitor_campaigns",
        ["competitor_id"],
        unique=False,
    )
    op.create_table(
        "competitor_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_channels_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_channels")),
        sa.UniqueConstraint(
            "competitor_id", "channel", name=op.f("uq_competitor_channels_competitor_id_channel")
        ),
    )
    op.create_table(
        "competitor_encounters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_encounters_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_competitor_encounters_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_competitor_encounters_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_competitor_encounters_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_encounters")),
        sa.UniqueConstraint(
            "opportunity_id",
            "competitor_id",
            name=op.f("uq_competitor_encounters_opportunity_id_competitor_id"),
        ),
    )
    op.create_index(
        "ix_competitor_encounters_competitor_occurred",
        "competitor_encounters",
        ["competitor_id", "occurred_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competitor_encounters_customer_id"),
        "competitor_encounters",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competitor_encounters_owner_id"),
        "competitor_encounters",
        ["owner_id"],
        unique=False,
    )
    op.create_table(
        "competitor_intel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_intel_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_competitor_intel_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_intel")),
    )
    op.create_index(
        "ix_competitor_intel_competitor_occurred",
        "competitor_intel",
        ["competitor_id", "occurred_on"],
        unique=False,
    )
    op.create_index(op.f("ix_competitor_intel_kind"), "competitor_intel", ["kind"], unique=False)
    op.create_index(
        op.f("ix_competitor_intel_occurred_on"), "competitor_intel", ["occurred_on"], unique=False
    )
    op.create_table(
        "competitor_market_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=True),
        sa.Column("segment_kind", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("segment_key", sa.String(length=100), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("share_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_market_shares_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_competitor_market_shares_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_market_shares")),
    )
    op.create_index(
        "ix_competitor_market_shares_segment",
        "competitor_market_shares",
        ["segment_kind", "segment_key", "period_kind", "period_start"],
        unique=False,
    )
    op.create_table(
        "competitor_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("our_product_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_products_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_products")),
        sa.UniqueConstraint(
            "competitor_id", "name_key", name=op.f("uq_competitor_products_competitor_id_name_key")
        ),
    )
    op.create_index(
        op.f("ix_competitor_products_category"), "competitor_products", ["category"], unique=False
    )
    op.create_index(
        op.f("ix_competitor_products_our_product_id"),
        "competitor_products",
        ["our_product_id"],
        unique=False,
    )
    op.create_table(
        "competitor_swot_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_swot_items_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_swot_items")),
    )
    op.create_index(
        op.f("ix_competitor_swot_items_competitor_id"),
        "competitor_swot_items",
        ["competitor_id"],
        unique=False,
    )
    op.create_table(
        "competitor_watchers",
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_watchers_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_competitor_watchers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("competitor_id", "user_id", name=op.f("pk_competitor_watchers")),
    )
    op.create_index(
        op.f("ix_competitor_watchers_user_id"), "competitor_watchers", ["user_id"], unique=False
    )
    op.create_table(
        "competitor_customer_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("contract_ends_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitor_competitors.id"],
            name=op.f("fk_competitor_customer_links_competitor_id_competitor_competitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_competitor_customer_links_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["competitor_products.id"],
            name=op.f("fk_competitor_customer_links_product_id_competitor_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_customer_links")),
    )
    op.create_index(
        op.f("ix_competitor_customer_links_competitor_id"),
        "competitor_customer_links",
        ["competitor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competitor_customer_links_customer_id"),
        "competitor_customer_links",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_competitor_customer_links_ends",
        "competitor_customer_links",
        ["contract_ends_on"],
        unique=False,
    )
    op.create_table(
        "competitor_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["competitor_products.id"],
            name=op.f("fk_competitor_prices_product_id_competitor_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_competitor_prices_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_prices")),
    )
    op.create_index(
        "ix_competitor_prices_product_observed",
        "competitor_prices",
        ["product_id", "observed_on"],
        unique=False,
    )
    op.create_table(
        "competitor_swot_evidence",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("intel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intel_id"],
            ["competitor_intel.id"],
            name=op.f("fk_competitor_swot_evidence_intel_id_competitor_intel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["competitor_swot_items.id"],
            name=op.f("fk_competitor_swot_evidence_item_id_competitor_swot_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "intel_id", name=op.f("pk_competitor_swot_evidence")),
    )
    op.create_index(
        op.f("ix_competitor_swot_evidence_intel_id"),
        "competitor_swot_evidence",
        ["intel_id"],
        unique=False,
    )
    op.create_index(
        "uq_competitor_market_shares_subject",
        "competitor_market_shares",
        [
            sa.text("coalesce(competitor_id, 0)"),
            "segment_kind",
            "segment_key",
            "period_kind",
            "period_start",
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_competitor_market_shares_subject", table_name="competitor_market_shares")
    op.drop_index(
        op.f("ix_competitor_swot_evidence_intel_id"), table_name="competitor_swot_evidence"
    )
    op.drop_table("competitor_swot_evidence")
    op.drop_index("ix_competitor_prices_product_observed", table_name="competitor_prices")
    op.drop_table("competitor_prices")
    op.drop_index("ix_competitor_customer_links_ends", table_name="competitor_customer_links")
    op.drop_index(
        op.f("ix_competitor_customer_links_customer_id"), table_name="competitor_customer_links"
    )
    op.drop_index(
        op.f("ix_competitor_customer_links_competitor_id"), table_name="competitor_customer_links"
    )
    op.drop_table("competitor_customer_links")
    op.drop_index(op.f("ix_competitor_watchers_user_id"), table_name="competitor_watchers")
    op.drop_table("competitor_watchers")
    op.drop_index(
        op.f("ix_competitor_swot_items_competitor_id"), table_name="competitor_swot_items"
    )
    op.drop_table("competitor_swot_items")
    op.drop_index(op.f("ix_competitor_products_our_product_id"), table_name="competitor_products")
    op.drop_index(op.f("ix_competitor_products_category"), table_name="competitor_products")
    op.drop_table("competitor_products")
    op.drop_index("ix_competitor_market_shares_segment", table_name="competitor_market_shares")
    op.drop_table("competitor_market_shares")
    op.drop_index(op.f("ix_competitor_intel_occurred_on"), table_name="competitor_intel")
    op.drop_index(op.f("ix_competitor_intel_kind"), table_name="competitor_intel")
    op.drop_index("ix_competitor_intel_competitor_occurred", table_name="competitor_intel")
    op.drop_table("competitor_intel")
    op.drop_index(op.f("ix_competitor_encounters_owner_id"), table_name="competitor_encounters")
    op.drop_index(op.f("ix_competitor_encounters_customer_id"), table_name="competitor_encounters")
    op.drop_index(
        "ix_competitor_encounters_competitor_occurred", table_name="competitor_encounters"
    )
    op.drop_table("competitor_encounters")
    op.drop_table("competitor_channels")
    op.drop_index(op.f("ix_competitor_campaigns_competitor_id"), table_name="competitor_campaigns")
    op.drop_table("competitor_campaigns")
    op.drop_index(op.f("ix_competitor_competitors_status"), table_name="competitor_competitors")
    op.drop_table("competitor_competitors")
