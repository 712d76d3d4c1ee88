"""Tables of the competitor plugin: competitor profiles with their SWOT items (citing intel as
evidence), sales channels and observed campaigns; their products and the price history of
each; market-share observations per segment and period (ours included); the intel log and
who watches a competitor; which competitor each customer uses; and the win/loss encounters.

Money is ``Numeric(18, 4)`` with an ISO 4217 ``currency`` on the same row. Nothing here has a
foreign key to another plugin's table: a competitor product's match in the sales catalogue
(``our_product_id``) and an encounter's opportunity (``opportunity_id``) are plain ids, so
the plugin installs and works with the sales plugin disabled.
"""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, UTCDateTime, utcnow

MONEY = Numeric(18, 4)
PERCENT = Numeric(5, 2)


class Competitor(Base):
    """A competitor's profile. ``name_key`` is the name case-folded: names are unique
    regardless of case."""

    __tablename__ = "competitor_competitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    website: Mapped[str | None] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))
    """Headquarters country (ISO 3166-1 alpha-2)."""
    size_band: Mapped[str | None] = mapped_column(String(16))
    """MICRO, SMALL, MEDIUM, LARGE or ENTERPRISE."""
    description: Mapped[str | None] = mapped_column(Text)
    positioning: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """ACTIVE, WATCHING or ARCHIVED."""
    threat_level: Mapped[str] = mapped_column(String(16))
    """LOW, MEDIUM, HIGH or CRITICAL."""
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class SwotItem(Base):
    """One strength, weakness, opportunity or threat of a competitor, in the order shown."""

    __tablename__ = "competitor_swot_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    """STRENGTH, WEAKNESS, OPPORTUNITY or THREAT."""
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


class SwotEvidence(Base):
    """An intel entry a SWOT item cites as its evidence."""

    __tablename__ = "competitor_swot_evidence"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_swot_items.id", ondelete="CASCADE"), primary_key=True
    )
    intel_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_intel.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Channel(Base):
    """A sales channel a competitor uses, with notes; one row per channel."""

    __tablename__ = "competitor_channels"
    __table_args__ = (UniqueConstraint("competitor_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    """DIRECT, PARTNER, ONLINE, RETAIL or OTHER."""
    notes: Mapped[str | None] = mapped_column(Text)


class Campaign(Base):
    """A marketing campaign of a competitor's that was observed."""

    __tablename__ = "competitor_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Where it ran (free labels: "WeChat", "trade fair", "search ads")."""
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Product(Base):
    """A competitor's product, optionally matched to a product of the sales catalogue."""

    __tablename__ = "competitor_products"
    __table_args__ = (UniqueConstraint("competitor_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    our_product_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The matching product of the sales catalogue (no foreign key: the sales plugin may be
    disabled; the id is checked through a hook when it is set)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class PriceObservation(Base):
    """A price of a competitor's product seen on a day: the history is never rewritten."""

    __tablename__ = "competitor_prices"
    __table_args__ = (Index("ix_competitor_prices_product_observed", "product_id", "observed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_products.id", ondelete="CASCADE")
    )
    amount: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    observed_on: Mapped[dt.date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(500))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MarketShare(Base):
    """A market-share observation: a competitor's (or, with ``competitor_id`` NULL, our own)
    share of one segment in one period. One per subject, segment and period."""

    __tablename__ = "competitor_market_shares"
    __table_args__ = (
        Index(
            "uq_competitor_market_shares_subject",
            func.coalesce("competitor_id", 0),
            "segment_kind",
            "segment_key",
            "period_kind",
            "period_start",
            unique=True,
        ),
        Index(
            "ix_competitor_market_shares_segment",
            "segment_kind",
            "segment_key",
            "period_kind",
            "period_start",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE")
    )
    segment_kind: Mapped[str] = mapped_column(String(16))
    """INDUSTRY or REGION."""
    segment: Mapped[str] = mapped_column(String(100))
    segment_key: Mapped[str] = mapped_column(String(100))
    """The segment case-folded: "Retail" and "retail" are one segment."""
    period_kind: Mapped[str] = mapped_column(String(8))
    """MONTH, QUARTER or YEAR."""
    period_start: Mapped[dt.date] = mapped_column(Date)
    """The first day of the period."""
    share_percent: Mapped[decimal.Decimal] = mapped_column(PERCENT)
    source: Mapped[str | None] = mapped_column(String(500))
    confidence: Mapped[str] = mapped_column(String(8))
    """LOW, MEDIUM or HIGH."""
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Intel(Base):
    """An entry of the intel log: something learnt about a competitor."""

    __tablename__ = "competitor_intel"
    __table_args__ = (
        Index("ix_competitor_intel_competitor_occurred", "competitor_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16), index=True)
    """PRICE_CHANGE, PRODUCT_LAUNCH, CAMPAIGN, PARTNERSHIP, LEADERSHIP, WIN, LOSS or OTHER."""
    summary: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(500))
    confidence: Mapped[str] = mapped_column(String(8))
    """LOW, MEDIUM or HIGH."""
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Watcher(Base):
    """A user told of every intel entry logged about a competitor."""

    __tablename__ = "competitor_watchers"

    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerCompetitor(Base):
    """A competitor a customer uses (or used: ``ended_on`` set), with the product, since
    when and when their contract with it ends. ``reminded_for`` is the contract end the
    owner was last reminded of (one reminder per end date)."""

    __tablename__ = "competitor_customer_links"
    __table_args__ = (Index("ix_competitor_customer_links_ends", "contract_ends_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitor_products.id", ondelete="SET NULL")
    )
    since: Mapped[dt.date | None] = mapped_column(Date)
    contract_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    """The day the customer stopped using it (None: still does)."""
    notes: Mapped[str | None] = mapped_column(Text)
    reminded_for: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Encounter(Base):
    """A deal met against a competitor and its outcome: one per closed opportunity and
    competitor (written by the sales plugin's hook), or entered by hand."""

    __tablename__ = "competitor_encounters"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "competitor_id"),
        Index("ix_competitor_encounters_competitor_occurred", "competitor_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitor_competitors.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    opportunity_id: Mapped[int | None] = mapped_column(Integer)
    """The sales plugin's opportunity (no foreign key; None when entered by hand)."""
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    """The salesperson who worked the deal."""
    source: Mapped[str] = mapped_column(String(8))
    """SALES (from a closed opportunity) or MANUAL."""
    outcome: Mapped[str] = mapped_column(String(8))
    """WON or LOST."""
    reason: Mapped[str | None] = mapped_column(String(16))
    """PRICE, PRODUCT_FIT, RELATIONSHIP, SERVICE, TIMING, NO_DECISION, COMPETITOR or OTHER."""
    reason_text: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[decimal.Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
