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
from plugins.sales.models import Contract
from plugins.sales.money import quantize

EVENT_TYPES = {
    "sales.order.placed": "An order was placed (through the API or an import).",
    "sales.order.cancelled": "An order was cancelled or refunded.",
    "sales.opportunity.closed": "An opportunity was won or lost.",
    "sales.contract.renewal_due": "A contract's renewal reminder went out.",
}


def money(amount: decimal.Decimal, currency: str) -> dict[str, str]:
    """Money as events carry it: ``{"amount": "12.50", "currency": "CNY"}``."""
    return {"amount": str(quantize(amount, currency)), "currency": currency}


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
