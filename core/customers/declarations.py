"""The customers module's permissions, the grants of the built-in roles, its access policies.

Declared through the same hooks plugins use (see :mod:`core.customers.hooks`).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, select

from core.catalog import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from core.customers.models import Customer
from core.extension import AccessPolicy, Grant, Permission, Scope

PERMISSIONS = (
    Permission("customers:read", "See customers, their contacts and their timeline."),
    Permission("customers:write", "Create and change customers, contacts and tags."),
    Permission("customers:delete", "Erase customers' personal data (privacy requests)."),
    Permission("customers:export", "Export customer lists."),
    Permission(
        "followups:write",
        "Log interactions and create, complete, reschedule, reassign and cancel follow-up tasks.",
    ),
)

OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

ROLE_GRANTS: dict[str, list[Grant]] = {
    SALES_REPRESENTATIVE: [
        Grant("customers:read", OWN),
        Grant("customers:write", OWN),
        Grant("followups:write", OWN),
    ],
    CUSTOMER_MANAGER: [
        Grant("customers:read", TEAM),
        Grant("customers:write", TEAM),
        Grant("customers:export", TEAM),
        Grant("followups:write", TEAM),
    ],
    SUPPORT_REPRESENTATIVE: [Grant("customers:read", ALL)],
    FINANCE: [Grant("customers:read", ALL)],
    SYSTEM_ADMINISTRATOR: [Grant("customers:read", ALL)],
}


def _customers_owned_by(ids: Any) -> ColumnElement[bool]:
    return Customer.owner_id.in_(ids)


def customer_owned_by(customer_id: Any, ids: Any) -> ColumnElement[bool]:
    """``customer_id`` (a column naming a customer) names a customer that one of ``ids`` owns:
    the ownership of records that belong to a customer, for an access policy."""
    condition: ColumnElement[bool] = customer_id.in_(
        select(Customer.id).where(Customer.owner_id.in_(ids))
    )
    return condition


def policy_through_customer(resource: str, customer_id: Any) -> AccessPolicy:
    """An access policy for ``resource`` whose records go with their customer: OWN reaches
    the records of the caller's customers, TEAM those of the team's customers."""
    return AccessPolicy(resource, functools.partial(customer_owned_by, customer_id))


# Customers are owned by their owner; contacts go with them, and follow-ups (interactions,
# tasks) are scoped through the same customer ownership.
POLICIES = (
    AccessPolicy("customers", _customers_owned_by),
    AccessPolicy("followups", _customers_owned_by),
)
