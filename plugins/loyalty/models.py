"""Tables of the loyalty plugin: the programme's settings and tiers, one account per customer,
the append-only ledger, the lots earned points form (spent in expiry order), which lots each
spend took, the rewards catalogue and the coupons.

Points are integers. The balance of an account is the sum of its ledger; ``balance`` on the
account is a cache kept in the same transaction as every entry (``crm loyalty verify``
re-folds the ledger and compares). Every change to an account locks its row first, the one
lock order all writers keep.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, UTCDateTime, utcnow


class Programme(Base):
    """The programme's settings: one row (id 1), seeded by the migration."""

    __tablename__ = "loyalty_programme"
    __table_args__ = {"info": {"seeded": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    earn_rates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Currency (ISO 4217) -> points per one unit of spend, as a decimal string ("1", "0.1");
    a currency without a rate earns nothing."""
    rounding: Mapped[str] = mapped_column(String(16))
    """How fractional points round: DOWN, HALF_UP or UP."""
    expiry_months: Mapped[int | None] = mapped_column(Integer)
    """Earned points expire this many months after they were earned (None: never)."""
    downgrade_grace_days: Mapped[int] = mapped_column(Integer)
    tier_sets_grade: Mapped[bool] = mapped_column(Boolean, default=False)
    """A tier change sets the customer's grade in core (tier keys STANDARD, SILVER, GOLD)."""
    auto_enrol: Mapped[bool] = mapped_column(Boolean, default=True)
    """A customer's first order enrols them."""
    birthday_bonus: Mapped[int] = mapped_column(Integer, default=0)
    first_order_bonus: Mapped[int] = mapped_column(Integer, default=0)
    survey_bonus: Mapped[int] = mapped_column(Integer, default=0)
    """Bonus points (0: the rule is off)."""
    expiry_notice_days: Mapped[int] = mapped_column(Integer, default=30)
    """Days before points expire that the customer's contact is e-mailed (0: never)."""
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Tier(Base):
    __tablename__ = "loyalty_tiers"
    __table_args__ = {"info": {"seeded": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    threshold: Mapped[int] = mapped_column(Integer)
    """Points earned in the rolling last 12 months from which a member holds the tier."""
    multiplier: Mapped[decimal.Decimal] = mapped_column(Numeric(6, 3))
    """Earn multiplier (1.000, 1.250, 1.500)."""
    benefits: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Account(Base):
    __tablename__ = "loyalty_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    tier_key: Mapped[str] = mapped_column(String(32), index=True)
    tier_since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    downgrade_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When a member fell below its tier's threshold: the lower tier applies from here (the
    grace period), unless it earns its way back first."""
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    """Cache of the sum of the ledger (points that can be spent)."""
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    """Points reversed beyond the balance, taken from future earning first."""
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expiry_told_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """The expiry moment the contact was last e-mailed about (told once per moment)."""
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Entry(Base):
    """One line of an account's ledger; never updated or deleted (erasure keeps the figures).

    ``points`` is signed: EARN and positive ADJUST add, REDEEM, EXPIRE, REVERSE and negative
    ADJUST take away. A REVERSE beyond the balance takes the balance to 0 and records the
    rest in ``debt_points`` (added to the account's debt, paid from later earnings).
    """

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        Index("ix_loyalty_entries_account", "account_id", "id"),
        Index("ix_loyalty_entries_source", "source", "source_ref"),
        Index("ix_loyalty_entries_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    """EARN, REDEEM, EXPIRE, ADJUST or REVERSE."""
    points: Mapped[int] = mapped_column(BigInteger)
    debt_points: Mapped[int] = mapped_column(BigInteger, default=0)
    """For REVERSE: the part beyond the balance, added to the debt. For EARN: the part that
    paid debt off (not added to the balance)."""
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    """ORDER, REWARD, COUPON, MANUAL, API, BONUS, SURVEY or EXPIRY."""
    source_ref: Mapped[str | None] = mapped_column(String(100))
    """What the entry is about: an order's id, a reward's id, an external reference."""
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    """Who made it when no user did (an API token's name, the expiry job)."""
    amount: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    """The spend that earned the points, when known."""
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_entries.id"))
    """For REVERSE: the EARN entry it takes back."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Lot(Base):
    """Points one EARN (or positive ADJUST) entry added, spent in expiry order."""

    __tablename__ = "loyalty_lots"
    __table_args__ = (Index("ix_loyalty_lots_open", "account_id", "expires_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


class LotSpend(Base):
    """Which lots a taking entry (REDEEM, EXPIRE, REVERSE, negative ADJUST) took, and how much."""

    __tablename__ = "loyalty_lot_spends"

    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("loyalty_lots.id"), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class Reward(Base):
    __tablename__ = "loyalty_rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    points_cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    """Coupons left to issue (None: unlimited)."""
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    min_tier_key: Mapped[str | None] = mapped_column(String(32))
    coupon_days: Mapped[int] = mapped_column(Integer, default=90)
    """Days the coupon a redemption issues stays valid."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Coupon(Base):
    """A single-use coupon: issued by redeeming a reward, or directly for a campaign. Only the
    code's SHA-256 is stored (and its last four characters, to recognise it)."""

    __tablename__ = "loyalty_coupons"
    __table_args__ = (Index("ix_loyalty_coupons_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hint: Mapped[str] = mapped_column(String(8))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    reward_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_rewards.id", ondelete="SET NULL"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_entries.id"))
    """The REDEEM entry that paid for it."""
    campaign: Mapped[str | None] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    """ISSUED, USED or CANCELLED (an ISSUED coupon past expires_at reads EXPIRED)."""
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_reference: Mapped[str | None] = mapped_column(String(100))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
