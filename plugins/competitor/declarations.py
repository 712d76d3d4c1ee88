"""The competitor plugin's permissions, the grants of the built-in roles, its access policies.

Declared through the same hooks core's modules use (see :mod:`plugins.competitor.hooks`).
What is known of competitors (profiles, products, prices, market share, intel) belongs to
nobody: any scope of ``competitors:read`` reads all of it. What touches our customers does go
with them: a customer's competitor links by the customer (resource ``competitor.customers``),
an encounter by its owner or its customer (resource ``competitor.encounters``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    AccessPolicy,
    Grant,
    Permission,
    RequestContext,
    Scope,
    customer_owned_by,
    policy_through_customer,
)
from plugins.competitor import models

READ = "competitors:read"
WRITE = "competitors:write"
MANAGE = "competitors:manage"

CUSTOMERS = "competitor.customers"
ENCOUNTERS = "competitor.encounters"

PERMISSIONS = (
    Permission(
        READ,
        "See competitors: profiles, products and prices, market share, intel, the competitors "
        "customers use, win/loss figures and battlecards.",
    ),
    Permission(
        WRITE,
        "Log intel, record prices and market share, record encounters and which competitor a "
        "customer uses.",
    ),
    Permission(
        MANAGE,
        "Create and edit competitor profiles (SWOT, channels, campaigns, products), archive "
        "them, and correct or delete what was recorded.",
    ),
)

ROLE_GRANTS: dict[str, list[Grant]] = {
    SALES_REPRESENTATIVE: [Grant(READ, Scope.ALL), Grant(WRITE, Scope.OWN)],
    CUSTOMER_MANAGER: [
        Grant(READ, Scope.ALL),
        Grant(WRITE, Scope.ALL),
        Grant(MANAGE, Scope.ALL),
    ],
}


def _encounter_owned_by(ids: Any) -> ColumnElement[bool]:
    return or_(
        models.Encounter.owner_id.in_(ids),
        customer_owned_by(models.Encounter.customer_id, ids),
    )


POLICIES = (
    policy_through_customer(CUSTOMERS, models.CustomerCompetitor.customer_id),
    AccessPolicy(ENCOUNTERS, _encounter_owned_by),
)


def visible(context: RequestContext, resource: str, permission: str = READ) -> Any:
    """The rows of ``resource`` (``CUSTOMERS`` or ``ENCOUNTERS``) the caller reaches with
    ``permission``."""
    return context.visible(permission, resource)
