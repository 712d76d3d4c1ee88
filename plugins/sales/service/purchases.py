"""What a customer bought: the purchase summary per currency, and the value tier kept in
``sales_customer_values`` (spend in the main currency over the last 12 months).

The 12 months end with today in the deployment's time zone (``CRM_TIME_ZONE``) and start on
:func:`plugins.sales.tiers.window_start` of it, at midnight there. Only PLACED and PAID
orders count; cancelled and refunded ones do not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import JobContext, quantize_amount
from plugins.sales import models
from plugins.sales import settings as sales_settings
from plugins.sales.tiers import tier_for, window_start

COUNTED = ("PLACED", "PAID")
BATCH = 500
"""Customers the daily job recomputes per transaction."""


def today_in(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    return now.astimezone(zone).date()


def window_since(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first moment of the 12 months that end with ``now``'s day in ``zone``."""
    start = window_start(today_in(now, zone))
    return dt.datetime.combine(start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Summary:
    """A customer's counted orders in one currency."""

    currency: str
    order_count: int
    total_spent: decimal.Decimal
    first_order_at: dt.datetime
    last_order_at: dt.datetime
    spent_last_12_months: decimal.Decimal

    @property
    def average_order_value(self) -> decimal.Decimal:
        return quantize_amount(self.total_spent / self.order_count, self.currency)


async def summaries(
    session: AsyncSession,
    customer_ids: Sequence[int],
    now: dt.datetime,
    zone: ZoneInfo,
    visible: ColumnElement[bool] | None = None,
) -> dict[int, list[Summary]]:
    """Each customer's summaries (one per currency, sorted by it), in one grouped statement;
    ``visible`` limits the orders counted to those the caller may see."""
    o = models.Order
    since = window_since(now, zone)
    statement = (
        select(
            o.customer_id,
            o.currency,
            func.count(),
            type_coerce(func.sum(o.total), models.TOTAL),
            func.min(o.ordered_at),
            func.max(o.ordered_at),
            type_coerce(func.sum(case((o.ordered_at >= since, o.total), else_=0)), models.MONEY),
        )
        .where(o.customer_id.in_(customer_ids), o.status.in_(COUNTED))
        .group_by(o.customer_id, o.currency)
    )
    if visible is not None:
        statement = statement.where(visible)
    found: dict[int, list[Summary]] = {key: [] for key in customer_ids}
    for customer, currency, count, total, first, last, recent in (
        await session.execute(statement)
    ).all():
        found[customer].append(
            Summary(
                currency=currency,
                order_count=int(count),
                total_spent=quantize_amount(decimal.Decimal(total), currency),
                first_order_at=first,
                last_order_at=last,
                spent_last_12_months=quantize_amount(decimal.Decimal(recent or 0), currency),
            )
        )
    for rows in found.values():
        rows.sort(key=lambda summary: summary.currency)
    return found


async def spent_12m(
    session: AsyncSession, customer_ids: Sequence[int], now: dt.datetime, zone: ZoneInfo
) -> dict[int, decimal.Decimal]:
    """Each customer's spend in the main currency over the 12 months ending ``now``."""
    currency = sales_settings.load().currency
    o = models.Order
    rows = (
        await session.execute(
            select(o.customer_id, type_coerce(func.sum(o.total), models.TOTAL))
            .where(
                o.customer_id.in_(customer_ids),
                o.status.in_(COUNTED),
                o.currency == currency,
                o.ordered_at >= window_since(now, zone),
            )
            .group_by(o.customer_id)
        )
    ).all()
    sums = {
        customer: quantize_amount(decimal.Decimal(amount or 0), currency)
        for customer, amount in rows
    }
    return {key: sums.get(key, decimal.Decimal(0)) for key in customer_ids}


async def refresh_values(
    session: AsyncSession, customer_ids: Sequence[int], now: dt.datetime, zone: ZoneInfo
) -> None:
    """Recompute the stored spend and value tier of ``customer_ids`` as of ``now`` (called on
    every order change, by the daily job, and by a merge for the target customer)."""
    if not customer_ids:
        return
    # The customers first, locked in id order: every writer of a customer's value (an order
    # change, a merge, the daily job) waits here, so the sum below sees the orders the one
    # before it committed, and at most one of them inserts the customer's missing row.
    await session.execute(
        select(CustomerRow.id)
        .where(CustomerRow.id.in_(customer_ids))
        .order_by(CustomerRow.id)
        .with_for_update()
    )
    settings = sales_settings.load()
    spent = await spent_12m(session, customer_ids, now, zone)
    today = today_in(now, zone)
    rows = {
        row.customer_id: row
        for row in (
            await session.scalars(
                select(models.CustomerValue)
                .where(models.CustomerValue.customer_id.in_(customer_ids))
                .with_for_update()
            )
        ).all()
    }
    for customer_id in customer_ids:
        amount = spent[customer_id]
        tier = tier_for(amount, settings).value
        row = rows.get(customer_id)
        if row is None:
            session.add(
                models.CustomerValue(
                    customer_id=customer_id, spent_12m=amount, tier=tier, computed_on=today
                )
            )
        else:
            row.spent_12m, row.tier, row.computed_on = amount, tier, today
    await session.flush()


async def refresh_due(session: AsyncSession, now: dt.datetime, zone: ZoneInfo) -> int:
    """One batch of the daily job: the values computed before today, recomputed; how many."""
    ids = list(
        (
            await session.scalars(
                select(models.CustomerValue.customer_id)
                .where(models.CustomerValue.computed_on < today_in(now, zone))
                .order_by(models.CustomerValue.customer_id)
                .limit(BATCH)
            )
        ).all()
    )
    await refresh_values(session, ids, now, zone)
    return len(ids)


async def run_value_tiers(job: JobContext) -> Mapping[str, int]:
    """The daily ``sales.value_tiers`` job: recompute the value tiers computed before today
    (the 12-month window slid), in bounded batches; a second run the same day finds none."""
    total = 0
    while True:
        async with job.db.transaction() as session:
            done = await refresh_due(session, job.now, job.settings.zone)
        total += done
        if done < BATCH:
            return {"customer value tiers recomputed": total}
