"""Hooks the sales plugin announces, for other plugins (loyalty, competitor tracking) to
implement.

Each is called inside the transaction of the change, after it is flushed: what a listener
writes with ``session`` commits with the change, and an exception undoes both. Mark an
implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the sales
plugin is disabled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

from core.plugin_api import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.plugin_api import RequestContext
    from plugins.sales.models import Contract, Opportunity, Order


@hookspec
def crm_sales_order_placed(
    session: AsyncSession, order: Order, context: RequestContext | None
) -> Awaitable[None] | None:
    """An order was placed (created through the API or by an import; ``context`` is the
    importing user's). Its lines and total are set. Loyalty earns points here."""


@hookspec
def crm_sales_order_cancelled(
    session: AsyncSession, order: Order, refunded: bool, context: RequestContext | None
) -> Awaitable[None] | None:
    """A placed or paid order was cancelled, or a paid one refunded (``refunded``): what was
    earned from it should be taken back."""


@hookspec
def crm_sales_opportunity_closed(
    session: AsyncSession,
    opportunity: Opportunity,
    won: bool,
    competitors: Sequence[str],
    context: RequestContext | None,
) -> Awaitable[None] | None:
    """An opportunity moved to WON (``won``) or LOST; ``competitors`` are the names involved,
    as entered (``opportunity.lost_reason`` says why a lost one was lost)."""


@hookspec
def crm_sales_contract_renewal_due(
    session: AsyncSession, contract: Contract, days_left: int, now: dt.datetime
) -> Awaitable[None] | None:
    """A contract ends in ``days_left`` days (the renewal reminder's lead time): called once
    per contract and end date, by the periodic job that sends the reminder."""
