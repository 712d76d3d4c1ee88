"""The loyalty plugin's permissions, the grants of the built-in roles, its access policy.

Declared through the same hooks core's modules use (see :mod:`plugins.loyalty.hooks`). One
policy resource, ``loyalty``, covers accounts and everything on them (ledger, coupons): a
user owns the accounts of the customers they own (OWN), of their team (TEAM), or all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from core.plugin_api import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    AccessPolicy,
    Grant,
    Permission,
    RequestContext,
    Scope,
    customer_owned_by,
)
from plugins.loyalty import models

READ = "loyalty:read"
WRITE = "loyalty:write"
ADJUST = "loyalty:adjust"
MANAGE = "loyalty:manage"
RESOURCE = "loyalty"

PERMISSIONS = (
    Permission(
        READ,
        "See loyalty accounts, their ledgers and coupons, the rewards and the programme's "
        "figures (the points liability).",
    ),
    Permission(WRITE, "Enrol customers, earn points for purchases, redeem rewards and coupons."),
    Permission(ADJUST, "Adjust a balance by hand, with a reason."),
    Permission(
        MANAGE,
        "Set the programme (earn rates, expiry, tiers, bonuses), the rewards catalogue, and "
        "issue campaign coupons.",
    ),
)

ROLE_GRANTS: dict[str, list[Grant]] = {
    SALES_REPRESENTATIVE: [Grant(READ, Scope.OWN), Grant(WRITE, Scope.OWN)],
    SUPPORT_REPRESENTATIVE: [Grant(READ, Scope.ALL), Grant(WRITE, Scope.ALL)],
    CUSTOMER_MANAGER: [
        Grant(READ, Scope.ALL),
        Grant(WRITE, Scope.ALL),
        Grant(ADJUST, Scope.TEAM),
        Grant(MANAGE, Scope.ALL),
    ],
    FINANCE: [Grant(READ, Scope.ALL)],
}


def _owned_by(ids: Any) -> ColumnElement[bool]:
    return customer_owned_by(models.Account.customer_id, ids)


POLICIES = (AccessPolicy(RESOURCE, _owned_by),)


def visible(context: RequestContext, permission: str = READ) -> Any:
    """The accounts (``models.Account`` rows) the caller reaches with ``permission``."""
    return context.visible(permission, RESOURCE)
