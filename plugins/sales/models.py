"""Tables of the sales plugin: the product catalogue, the pipeline's stages, opportunities
and their stage history, contracts, and orders with their lines (the purchase history).

Money is ``Numeric(18, 4)`` with an ISO 4217 ``currency`` beside it on the same row; amounts
are kept at the currency's own precision (2 places for CNY, 0 for JPY) by the service.
"""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, UTCDateTime, utcnow

MONEY = Numeric(18, 4)
TOTAL = Numeric(28, 4)
"""A sum of many amounts (a customer's spend): room for 10^24."""
QUANTITY = Numeric(18, 3)


class Product(Base):
    __tablename__ = "sales_products"
    __table_args__ = (Index("ix_sales_products_name", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    list_price: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Stage(Base):
    """A stage of the one sales pipeline. ``kind`` is OPEN, WON or LOST: exactly one stage is
    WON and one LOST (seeded, never removed); OPEN stages are ordered by ``position``."""

    __tablename__ = "sales_stages"
    __table_args__ = {"info": {"seeded": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int] = mapped_column(Integer)
    """The default win probability in percent (0-100) of an opportunity at this stage."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Opportunity(Base):
    __tablename__ = "sales_opportunities"
    __table_args__ = (
        Index("ix_sales_opportunities_customer", "customer_id", "created_at", "id"),
        Index("ix_sales_opportunities_owner_stage", "owner_id", "stage_id"),
        Index("ix_sales_opportunities_stage_close", "stage_id", "expected_close_on", "id"),
        Index("ix_sales_opportunities_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    expected_close_on: Mapped[dt.date | None] = mapped_column(Date)
    stage_id: Mapped[int] = mapped_column(ForeignKey("sales_stages.id", ondelete="RESTRICT"))
    probability_override: Mapped[int | None] = mapped_column(Integer)
    """Set when someone overrode the stage's default win probability (percent)."""
    source: Mapped[str | None] = mapped_column(String(16))
    next_step: Mapped[str | None] = mapped_column(String(200))
    competitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    lost_reason: Mapped[str | None] = mapped_column(String(16))
    lost_reason_text: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When it was won or lost (NULL while open, and again after a reopen)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class StageChange(Base):
    """One move of an opportunity between stages; its creation is a move from NULL."""

    __tablename__ = "sales_stage_changes"
    __table_args__ = (
        Index("ix_sales_stage_changes_opportunity", "opportunity_id", "changed_at", "id"),
        Index("ix_sales_stage_changes_to_changed", "to_stage_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("sales_opportunities.id", ondelete="CASCADE")
    )
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_stages.id", ondelete="RESTRICT")
    )
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("sales_stages.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contract(Base):
    __tablename__ = "sales_contracts"
    __table_args__ = (
        Index("ix_sales_contracts_customer", "customer_id", "starts_on", "id"),
        Index("ix_sales_contracts_status_ends", "status", "ends_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_days: Mapped[int] = mapped_column(Integer, default=30)
    renewal_told_for: Mapped[dt.date | None] = mapped_column(Date)
    """The ``ends_on`` whose renewal reminder went out (the job tells each end date once)."""
    terminated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Order(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (
        UniqueConstraint("source", "external_ref", name="uq_sales_orders_source_external_ref"),
        Index("ix_sales_orders_customer", "customer_id", "ordered_at", "id"),
        Index("ix_sales_orders_ordered", "ordered_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ordered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[decimal.Decimal] = mapped_column(MONEY)
    """The sum of the lines' totals, kept by the service whenever the lines change."""
    source: Mapped[str | None] = mapped_column(String(32))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    """The order's id in its source (an ERP, a shop): unique per source."""
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class OrderLine(Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (Index("ix_sales_order_lines_order", "order_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("sales_products.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[decimal.Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[decimal.Decimal] = mapped_column(MONEY)
    discount_percent: Mapped[decimal.Decimal] = mapped_column(Numeric(5, 2), default=0)
    total: Mapped[decimal.Decimal] = mapped_column(MONEY)
    """quantity x unit price less the discount, rounded to the currency's precision."""


class CustomerValue(Base):
    """Per customer, the spend of the last 12 months in the deployment's main currency and
    the value tier it falls in; kept by order changes and refreshed daily as the window
    slides, so ``customers(filter: {valueTier})`` is one indexed join."""

    __tablename__ = "sales_customer_values"
    __table_args__ = (Index("ix_sales_customer_values_tier", "tier", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    spent_12m: Mapped[decimal.Decimal] = mapped_column(TOTAL)
    tier: Mapped[str] = mapped_column(String(16))
    computed_on: Mapped[dt.date] = mapped_column(Date)
