"""The sales plugin's permissions, the grants of the built-in roles, its access policies.

Declared through the same hooks core's modules use (see :mod:`plugins.sales.hooks`). Each
aggregate has its own policy resource (``sales.opportunities``, ``sales.contracts``,
``sales.orders``): OWN reaches the records a user owns and the records on customers they
own; TEAM those of the team. :func:`visible` is the condition every list and loader uses.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, or_

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
    forbidden,
    require,
    translator,
)
from plugins.sales import models

_ = translator(__name__)

READ = "sales:read"
WRITE = "sales:write"
MANAGE = "sales:manage"
READ_ORDERS = "sales:read_orders"
READ_CONTRACTS = "sales:read_contracts"

PERMISSIONS = (
    Permission(READ, "See the pipeline, opportunities, contracts, orders and sales figures."),
    Permission(WRITE, "Create and work opportunities, contracts and orders; import orders."),
    Permission(
        MANAGE,
        "Configure the pipeline's stages and the product catalogue; reopen closed opportunities.",
    ),
    Permission(READ_ORDERS, "See orders (the purchase history) without the pipeline."),
    Permission(READ_CONTRACTS, "See contracts without the pipeline."),
)

ROLE_GRANTS: dict[str, list[Grant]] = {
    SALES_REPRESENTATIVE: [Grant(READ, Scope.OWN), Grant(WRITE, Scope.OWN)],
    CUSTOMER_MANAGER: [
        Grant(READ, Scope.TEAM),
        Grant(WRITE, Scope.TEAM),
        Grant(MANAGE, Scope.TEAM),
    ],
    FINANCE: [Grant(READ_ORDERS, Scope.ALL), Grant(READ_CONTRACTS, Scope.ALL)],
    SUPPORT_REPRESENTATIVE: [Grant(READ_ORDERS, Scope.ALL)],
}

OPPORTUNITIES = "sales.opportunities"
CONTRACTS = "sales.contracts"
ORDERS = "sales.orders"


def _owned_by(owner_id: Any, customer_id: Any, ids: Any) -> ColumnElement[bool]:
    return or_(owner_id.in_(ids), customer_owned_by(customer_id, ids))


POLICIES = (
    AccessPolicy(
        "sales",
        functools.partial(_owned_by, models.Opportunity.owner_id, models.Opportunity.customer_id),
    ),
    AccessPolicy(
        OPPORTUNITIES,
        functools.partial(_owned_by, models.Opportunity.owner_id, models.Opportunity.customer_id),
    ),
    AccessPolicy(
        CONTRACTS,
        functools.partial(_owned_by, models.Contract.owner_id, models.Contract.customer_id),
    ),
    AccessPolicy(
        ORDERS, functools.partial(_owned_by, models.Order.owner_id, models.Order.customer_id)
    ),
)

_ALSO = {ORDERS: READ_ORDERS, CONTRACTS: READ_CONTRACTS}


def visible(context: RequestContext, resource: str, permission: str = READ) -> Any:
    """The rows of ``resource`` the caller reaches with ``permission``; for reading orders
    and contracts, the narrower read permission of finance and support counts too."""
    condition = context.visible(permission, resource)
    also = _ALSO.get(resource)
    if permission == READ and also is not None:
        return or_(condition, context.visible(also, resource))
    return condition


def require_reader(context: RequestContext, resource: str) -> None:
    """Refuse (FORBIDDEN) a caller who may not read ``resource`` at all: ``sales:read``, or
    for orders and contracts the narrower read permission of finance and support."""
    caller = require(context)
    also = _ALSO.get(resource)
    if caller.scope(READ) is not None or (also is not None and caller.scope(also) is not None):
        return
    if also is None:
        raise forbidden(
            _("permission {permission!r} is required", permission=READ), permission=READ
        )
    raise forbidden(
        _("permission {permission!r} or {other!r} is required", permission=READ, other=also),
        permission=also,
    )
