"""The loyalty plugin's webhook event types and what each tells.

An event carries global ids, tier keys and point figures; never a reason, an actor's name or
a person's details (a receiver reads those through the API with a token holding
``loyalty:read``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import emit_event, global_id
from plugins.loyalty.models import Account, Entry

EVENT_TYPES = {
    "loyalty.member_enrolled": "a customer joined the loyalty programme",
    "loyalty.points_earned": "a member earned points (an order, a bonus, the API)",
    "loyalty.points_reversed": "points earned from a cancelled or refunded order were taken back",
    "loyalty.points_adjusted": "a member's balance was adjusted by hand",
    "loyalty.tier_changed": "a member's tier changed",
}


def account_data(account: Account) -> dict[str, Any]:
    return {
        "account": global_id("LoyaltyAccount", account.id),
        "customer": global_id("Customer", account.customer_id),
        "tier": account.tier_key,
        "balance": account.balance,
        "debt": account.debt,
    }


def entry_data(entry: Entry) -> dict[str, Any]:
    return {
        "entry": global_id("LoyaltyEntry", entry.id),
        "kind": entry.kind,
        "points": entry.points,
        "debtPoints": entry.debt_points,
        "source": entry.source,
        "sourceRef": entry.source_ref,
    }


async def member_enrolled(session: AsyncSession, account: Account, now: dt.datetime) -> None:
    await emit_event(session, "loyalty.member_enrolled", account_data(account), now=now)


async def entry_written(
    session: AsyncSession, event_type: str, account: Account, entry: Entry, now: dt.datetime
) -> None:
    """``loyalty.points_earned``, ``loyalty.points_reversed`` or ``loyalty.points_adjusted``."""
    await emit_event(session, event_type, {**account_data(account), **entry_data(entry)}, now=now)
