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

from core.plugin_api import emit_event, global_id, quantize_amount
from plugins.sales.models import Contract, Opportunity, Order

EVENT_TYPES = {
    "sales.order.placed": "An order was placed (through the API or an import).",
    "sales.order.cancelled": "An order was cancelled or refunded.",
    "sales.opportunity.closed": "An opportunity was won or lost.",
    "sales.contract.renewal_due": "A contract's renewal reminder went out.",
}


# --- pipeline ---


def money(amount: decimal.Decimal, currency: str) -> dict[str, str]:
    """Money as events carry it: ``{"amount": "12.50", "currency": "CNY"}``."""
    return {"amount": str(quantize_amount(amount, currency)), "currency": currency}


def opportunity_data(row: Opportunity, stage_key: str) -> dict[str, Any]:
    return {
        "id": global_id("Opportunity", row.id),
        "number": row.number,
        "stage": stage_key,
        "customerId": global_id("Customer", row.customer_id),
        "ownerId": global_id("User", row.owner_id),
        "amount": money(row.amount, row.currency),
        "lostReason": row.lost_reason,
        "closedAt": row.closed_at.isoformat() if row.closed_at else None,
    }


async def opportunity_closed(
    session: AsyncSession, row: Opportunity, stage_key: str, won: bool, now: dt.datetime
) -> None:
    """``sales.opportunity.closed``: won or lost, with the number of competitors named (not
    their names, nor the lost reason's text)."""
    await emit_event(
        session,
        "sales.opportunity.closed",
        {
            "opportunity": opportunity_data(row, stage_key),
            "won": won,
            "competitorCount": len(row.competitors or []),
        },
        now=now,
    )


# --- orders ---


def order_data(order: Order) -> dict[str, Any]:
    return {
        "id": global_id("Order", order.id),
        "number": order.number,
        "status": order.status,
        "customerId": global_id("Customer", order.customer_id),
        "ownerId": global_id("User", order.owner_id),
        "orderedAt": order.ordered_at.isoformat(),
        "total": money(order.total, order.currency),
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


# --- contracts ---


def contract_data(contract: Contract) -> dict[str, Any]:
    return {
        "id": global_id("Contract", contract.id),
        "number": contract.number,
        "status": contract.status,
        "customerId": global_id("Customer", contract.customer_id),
        "ownerId": global_id("User", contract.owner_id),
        "startsOn": contract.starts_on.isoformat(),
        "endsOn": contract.ends_on.isoformat(),
        "value": money(contract.value, contract.currency),
        "autoRenew": contract.auto_renew,
        "noticeDays": contract.notice_days,
    }


async def contract_renewal_due(
    session: AsyncSession, contract: Contract, days_left: int, now: dt.datetime
) -> None:
    await emit_event(
        session,
        "sales.contract.renewal_due",
        {"contract": contract_data(contract), "daysLeft": days_left},
        now=now,
    )
