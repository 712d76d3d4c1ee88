"""What the sales plugin adds to the filter of core's ``customers`` list (and its export):
``valueTier``, read from ``sales_customer_values`` (a customer without a row is STANDARD)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from core.plugin_api import CustomerFilterField, RequestContext, forbidden, require, translator
from plugins.sales import declarations
from plugins.sales.models import CustomerValue
from plugins.sales.tiers import ValueTier

_ = translator(__name__)

TIER_READERS = (declarations.READ, declarations.READ_ORDERS)
"""Who may filter by value tier: anyone who sees the pipeline or the purchase history (a
tier tells how much a customer spends)."""


def value_tier_condition(
    tiers: list[ValueTier], customer_id: ColumnElement[int], context: RequestContext
) -> ColumnElement[bool]:
    """Customers whose value tier is one of ``tiers`` (none: every customer).

    :raises ApiError: FORBIDDEN for a caller with neither ``sales:read`` nor
        ``sales:read_orders``.
    """
    caller = require(context)
    if not any(caller.can(permission) for permission in TIER_READERS):
        raise forbidden(
            _("filtering customers by value tier needs sales:read or sales:read_orders"),
            permission=declarations.READ,
        )
    if not tiers:
        return true()
    chosen = sorted({tier.value for tier in tiers})
    v = CustomerValue
    if ValueTier.STANDARD in tiers:
        # No row is STANDARD: leave out only the customers stored in a tier not chosen.
        return customer_id.not_in(select(v.customer_id).where(v.tier.not_in(chosen)))
    return customer_id.in_(select(v.customer_id).where(v.tier.in_(chosen)))


VALUE_TIER = CustomerFilterField(
    name="value_tier",
    annotation=list[ValueTier] | None,
    description="Customers in any of these value tiers (spend in the main currency over "
    "the last 12 months; a customer without orders is STANDARD). Needs sales:read or "
    "sales:read_orders.",
    apply=value_tier_condition,
)

CUSTOMER_FILTER_FIELDS = (VALUE_TIER,)
