"""Loyalty: a points ledger that cannot be double-spent, lots that expire in order, tiers
over a rolling year, rewards and single-use coupons. It earns from the sales plugin's orders
through its hooks, and from any shop or point of sale through ``earnPoints``."""

from plugins.loyalty import hooks as plugin

__all__ = ["plugin"]
__version__ = "0.1.0"
