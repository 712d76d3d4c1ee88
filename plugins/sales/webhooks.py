"""The sales plugin's webhook events: their declarations and what each tells.

An event carries global ids, numbers, statuses and money (amount as a string, currency);
never titles, notes or a person's details (a receiver reads those through the API with a
token holding ``sales:read``).
"""

from __future__ import annotations

EVENT_TYPES = {
    "sales.order.placed": "An order was placed (through the API or an import).",
    "sales.order.cancelled": "An order was cancelled or refunded.",
    "sales.opportunity.closed": "An opportunity was won or lost.",
    "sales.contract.renewal_due": "A contract's renewal reminder went out.",
}
