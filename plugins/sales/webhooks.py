"""The sales plugin's webhook events: their declarations and what each tells.

An event carries global ids, numbers, statuses and money (amount as a string, currency);
never titles, notes or a person's details (a receiver reads those through the API with a
token holding ``sales:read``).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import emit_event, global_id
from plugins.sales.models import Order
from plugins.sales.money import quantize

EVENT_TYPES = {
    "sales.order.placed": "An order was placed (through the API or an import).",
    "sales.order.cancelled": "An order was cancelled or refunded.",
    "sales.opportunity.closed": "An opportunity was won or lost.",
    "sales.contract.renewal_due": "A contract's renewal reminder went out.",
}


def _money(amount: decimal.Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(quantize(amount, currency)), "currency": currency}


def order_data(order: Order) -> dict[str, Any]:
    return {
        "id": global_id("Order", order.id),
        "number": order.number,
        "status": order.status,
        "customerId": global_id("Customer", order.customer_id),
        "ownerId": global_id("User", order.owner_id),
        "orderedAt": order.ordered_at.isoformat(),
        "total": _money(order.total, order.currency),
        "source": order.source,
    }


async def order_placed(session: AsyncSession, order: Order, now: dt.datetime) -> None:
    await emit_event(session, "sales.order.placed", {"order": order_data(order)}, now=now)


async def order_cancelled(
    session: AsyncSession, order: Order, from_status: str, now: dt.datetime
) -> None:
    """A cancellation or a refund (``order.status`` says which)."""
    await emit_event(
        session,
        "sales.order.cancelled",
        {
            "order": order_data(order),
            "fromStatus": from_status,
            "refunded": order.status == "REFUNDED",
        },
        now=now,
    )
