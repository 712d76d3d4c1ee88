"""Root query fields of orders, and the fields orders add to core's Customer
(``CUSTOMER_FIELDS``, wired in ``hooks.py``).

Orders are read with ``sales:read`` (within its scope) or ``sales:read_orders`` (finance and
support, all orders); without either a field is null with a FORBIDDEN error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    CustomerNode,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    batch_field,
    in_range,
    translator,
)
from plugins.sales import declarations, models
from plugins.sales.inputs.orders import OrderFilter, OrderOrder, OrderOrderField
from plugins.sales.loaders import orders as loaders
from plugins.sales.queries.lookup import by_id_or_key
from plugins.sales.service.orders import require_read
from plugins.sales.tiers import ValueTier
from plugins.sales.types.orders import Order, PurchaseSummary

_ = translator(__name__)

ORDER = ListOrder(
    {
        OrderOrderField.ORDERED_AT: models.Order.ordered_at,
        OrderOrderField.NUMBER: models.Order.number,
        OrderOrderField.CREATED_AT: models.Order.created_at,
        OrderOrderField.UPDATED_AT: models.Order.updated_at,
    },
    models.Order.id,
    default=[(OrderOrderField.ORDERED_AT, True)],  # the pages loader's keys
)
"""Order lists' orderings: the latest ordered first unless ``orderBy`` says otherwise."""

OrderBy = Annotated[list[OrderOrder] | None, strawberry.argument(description=ORDER_BY_HELP)]


def order_statement(context: RequestContext, filter: OrderFilter | None) -> Select[Any]:
    """The orders the caller may see that ``filter`` keeps."""
    o = models.Order
    statement = select(o).where(declarations.visible(context, declarations.ORDERS))
    if filter is None:
        return statement
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(o.customer_id == customer_id)
    if filter.status:
        statement = statement.where(o.status.in_([status.value for status in filter.status]))
    statement = statement.where(*in_range(o.ordered_at, filter.ordered, "filter.ordered"))
    if filter.source is not None:
        statement = statement.where(o.source == filter.source.strip())
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(o.owner_id == owner_id)
    product_id = argument_id(filter.product_id, "Product", "filter.productId")
    if product_id is not None:
        statement = statement.where(
            o.id.in_(
                select(models.OrderLine.order_id).where(models.OrderLine.product_id == product_id)
            )
        )
    return statement


@strawberry.type
class OrderQuery:
    @strawberry.field(
        description="Orders you may see (sales:read, or sales:read_orders), the latest "
        "ordered first unless orderBy says otherwise."
    )
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        order_by: OrderBy = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order] | None:
        require_read(info.context)
        statement = order_statement(info.context, filter)
        keys = ORDER.keys(order_by)
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await info.context.page(statement, keys=keys, args=args, to_node=Order.from_model)

    @strawberry.field(description="One order by id or number (e.g. SO000001).")
    async def order(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Order | None:
        require_read(info.context)
        return await by_id_or_key(
            info,
            Order,
            id,
            number,
            column=models.Order.number,
            conditions=(declarations.visible(info.context, declarations.ORDERS),),
        )


# ----------------------------------------------------------------- fields on core's Customer


async def customer_orders(
    context: RequestContext,
    customers: Sequence[CustomerNode],
    order_by: OrderBy = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Order]]:
    """Each customer's orders you may see, the latest ordered first unless orderBy says
    otherwise; null (FORBIDDEN) without sales:read or sales:read_orders."""
    require_read(context)
    return await context.child_pages(
        loaders.OrdersByCustomerLoader,
        loaders.OrderCountByCustomerLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Order.from_model,
        ORDER.keys(order_by),
    )


async def customer_purchase_summary(
    context: RequestContext, customers: Sequence[CustomerNode]
) -> list[list[PurchaseSummary]]:
    """Each customer's PLACED and PAID orders you may see, one summary per currency (sorted
    by it; empty without orders); null (FORBIDDEN) without sales:read or sales:read_orders."""
    require_read(context)
    found = await context.loader(loaders.PurchaseSummaryLoader).load_level(
        [customer.id for customer in customers]
    )
    return [[PurchaseSummary.of(summary) for summary in summaries] for summaries in found]


async def customer_value_tier(
    context: RequestContext, customers: Sequence[CustomerNode]
) -> list[ValueTier]:
    """Each customer's value tier by spend in the main currency over the last 12 months (all
    its orders, refreshed on every order change and daily); STANDARD without orders; null
    (FORBIDDEN) without sales:read or sales:read_orders."""
    require_read(context)
    tiers: list[ValueTier] = await context.loader(loaders.ValueTierLoader).load_level(
        [customer.id for customer in customers]
    )
    return tiers


CUSTOMER_FIELDS = {
    "orders": batch_field(customer_orders, graphql_type=Connection[Order] | None),
    "purchase_summary": batch_field(
        customer_purchase_summary, graphql_type=list[PurchaseSummary] | None
    ),
    "value_tier": batch_field(customer_value_tier, graphql_type=ValueTier | None),
}
"""The fields orders add to core's Customer type."""
