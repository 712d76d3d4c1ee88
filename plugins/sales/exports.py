"""Opportunities and orders as CSV or XLSX downloads (``GET /export/opportunities.csv``,
``/export/orders.xlsx``): the rows of the list with the same ``filter`` and ``orderBy``, in
the caller's scope, date-times in the caller's time zone, money as a plain decimal beside its
currency."""

from __future__ import annotations

import decimal
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import (
    ListExport,
    RequestContext,
    SortKey,
    User,
    quantize_amount,
    require,
)
from plugins.sales import declarations, models
from plugins.sales.inputs.opportunities import OpportunityFilter, OpportunityOrder
from plugins.sales.inputs.orders import OrderFilter, OrderOrder
from plugins.sales.queries.opportunities import OPPORTUNITY_ORDER, opportunity_statement
from plugins.sales.queries.orders import ORDER, order_statement
from plugins.sales.service.orders import require_read

BATCH = 1000

OPPORTUNITY_COLUMNS = [
    "number",
    "title",
    "customer_number",
    "customer_name",
    "owner_email",
    "stage",
    "probability",
    "amount",
    "currency",
    "expected_close_on",
    "source",
    "next_step",
    "competitors",
    "lost_reason",
    "lost_reason_text",
    "closed_at",
    "created_at",
]
TIME_COLUMNS = {"closed_at", "created_at", "ordered_at", "paid_at", "cancelled_at", "refunded_at"}
"""Columns of date-times, given in the caller's zone, which their header names
(``ordered_at (Asia/Shanghai)``), as the customers export does."""


def header(columns: list[str], zone_name: str) -> list[str]:
    return [f"{c} ({zone_name})" if c in TIME_COLUMNS else c for c in columns]


ORDER_COLUMNS = [
    "number",
    "customer_number",
    "customer_name",
    "owner_email",
    "ordered_at",
    "status",
    "currency",
    "total",
    "lines",
    "source",
    "external_ref",
    "paid_at",
    "cancelled_at",
    "refunded_at",
]


async def _names(
    context: RequestContext, customer_ids: set[int], owner_ids: set[int]
) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Customers' number and name (of those the caller may read), and users' email, of one
    batch of rows."""
    async with context.db.read() as session:
        customers = {
            row.id: (row.number, row.name)
            for row in await session.execute(
                select(CustomerRow.id, CustomerRow.number, CustomerRow.name).where(
                    CustomerRow.id.in_(customer_ids),
                    # as Opportunity.customer and Order.customer: blank beyond the caller's
                    # reach (a rep's opportunity on a colleague's customer)
                    context.visible("customers:read", "customers"),
                )
            )
        }
        found = await session.execute(select(User.id, User.email).where(User.id.in_(owner_ids)))
        emails: dict[int, str] = dict(found.all())
    return customers, emails


async def _opportunity_statement(
    context: RequestContext, filter: OpportunityFilter | None, order: list[OpportunityOrder]
) -> tuple[Any, Sequence[SortKey]]:
    require(context, declarations.READ)
    return opportunity_statement(context, filter), OPPORTUNITY_ORDER.keys(order)


async def opportunity_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    yield header(OPPORTUNITY_COLUMNS, zone.key)
    async with context.db.read() as session:
        stages = {stage.id: stage for stage in (await session.scalars(select(models.Stage))).all()}
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            customers, emails = await _names(
                context,
                {row.customer_id for row in batch},
                {row.owner_id for row in batch if row.owner_id},
            )
            for row in batch:
                stage = stages[row.stage_id]
                number, name = customers.get(row.customer_id, ("", ""))
                probability = (
                    stage.probability
                    if row.closed_at is not None or row.probability_override is None
                    else row.probability_override
                )
                yield [
                    row.number,
                    row.title,
                    number,
                    name,
                    emails.get(row.owner_id or 0, ""),
                    stage.key,
                    probability,
                    quantize_amount(row.amount, row.currency),
                    row.currency,
                    row.expected_close_on,
                    row.source,
                    row.next_step,
                    "; ".join(row.competitors or []),
                    row.lost_reason,
                    row.lost_reason_text,
                    row.closed_at and row.closed_at.astimezone(zone),
                    row.created_at.astimezone(zone),
                ]


async def _order_statement(
    context: RequestContext, filter: OrderFilter | None, order: list[OrderOrder]
) -> tuple[Any, Sequence[SortKey]]:
    require_read(context)
    return order_statement(context, filter), ORDER.keys(order)


async def order_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    yield header(ORDER_COLUMNS, zone.key)
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            customers, emails = await _names(
                context,
                {row.customer_id for row in batch},
                {row.owner_id for row in batch if row.owner_id},
            )
            lines = await _lines(context, [row.id for row in batch])
            for row in batch:
                number, name = customers.get(row.customer_id, ("", ""))
                yield [
                    row.number,
                    number,
                    name,
                    emails.get(row.owner_id or 0, ""),
                    row.ordered_at.astimezone(zone),
                    row.status,
                    row.currency,
                    quantize_amount(row.total, row.currency),
                    lines.get(row.id, ""),
                    row.source,
                    row.external_ref,
                    row.paid_at and row.paid_at.astimezone(zone),
                    row.cancelled_at and row.cancelled_at.astimezone(zone),
                    row.refunded_at and row.refunded_at.astimezone(zone),
                ]


async def _lines(context: RequestContext, order_ids: list[int]) -> dict[int, str]:
    """Each order's lines as ``SKU x quantity`` joined by ``; ``, in line order."""
    line, product = models.OrderLine, models.Product
    found: dict[int, list[str]] = {}
    async with context.db.read() as session:
        rows = await session.execute(
            select(line.order_id, product.sku, line.quantity)
            .join(product, product.id == line.product_id)
            .where(line.order_id.in_(order_ids))
            .order_by(line.order_id, line.position)
        )
        for order_id, sku, quantity in rows:
            found.setdefault(order_id, []).append(f"{sku} x {_plain(quantity)}")
    return {order_id: "; ".join(parts) for order_id, parts in found.items()}


def _plain(quantity: decimal.Decimal) -> str:
    """A quantity without trailing zeros (``2``, ``1.5``)."""
    return format(quantity.normalize(), "f")


OPPORTUNITIES = ListExport(
    name="opportunities",
    permission=declarations.READ,
    filter_input=("OpportunityFilter", OpportunityFilter),
    order_input=("OpportunityOrder", OpportunityOrder),
    statement=_opportunity_statement,
    rows=opportunity_rows,
)
ORDERS = ListExport(
    name="orders",
    permission=None,  # sales:read or sales:read_orders, checked by the statement
    filter_input=("OrderFilter", OrderFilter),
    order_input=("OrderOrder", OrderOrder),
    statement=_order_statement,
    rows=order_rows,
)
