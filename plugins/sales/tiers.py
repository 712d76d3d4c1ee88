"""Customers' value tiers: bands of spend in the deployment's main currency over the last
12 months (``CRM_SALES_VALUE_TIER_HIGH`` and ``_MEDIUM``)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry

from plugins.sales.settings import SalesSettings


@strawberry.enum(
    description="A customer's value by spend in the main currency over the last 12 months: "
    "HIGH from CRM_SALES_VALUE_TIER_HIGH (default 100,000), MEDIUM from "
    "CRM_SALES_VALUE_TIER_MEDIUM (default 50,000), STANDARD below."
)
class ValueTier(enum.Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    STANDARD = "STANDARD"


def tier_for(spent: decimal.Decimal, settings: SalesSettings) -> ValueTier:
    if spent >= settings.value_tier_high:
        return ValueTier.HIGH
    if spent >= settings.value_tier_medium:
        return ValueTier.MEDIUM
    return ValueTier.STANDARD


def window_start(today: dt.date) -> dt.date:
    """The first day of the 12 months that end with ``today`` (same day a year earlier; 28
    February for 29 February)."""
    try:
        return today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        return dt.date(today.year - 1, 3, 1)
