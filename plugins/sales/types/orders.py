"""GraphQL types of orders: the Order node, its lines, and a customer's purchase summary."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Sequence

import strawberry
from strawberry import relay

from core.plugin_api import (
    CustomerNode,
    ModelNode,
    Money,
    RequestContext,
    UserSummary,
    batch_field,
    related,
)
from plugins.sales import models
from plugins.sales.loaders import orders as loaders
from plugins.sales.loaders.products import ProductByIdLoader
from plugins.sales.service.purchases import Summary
from plugins.sales.types.products import Product


@strawberry.enum(
    description="Where an order stands: PLACED, then PAID; a PLACED or PAID order can be "
    "CANCELLED, a PAID one REFUNDED. Cancelled and refunded orders count as no spend."
)
class OrderStatus(enum.Enum):
    PLACED = "PLACED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


async def _products(context: RequestContext, lines: Sequence[OrderLine]) -> list[Product]:
    rows = await context.loader(ProductByIdLoader).load_level(
        [line.product_id_value for line in lines]
    )
    products = []
    for row in rows:
        assert row is not None  # a line's product cannot be deleted (RESTRICT)
        products.append(Product.from_model(row))
    return products


@strawberry.type(description="One line of an order: a product, how many, at what price.")
class OrderLine:
    quantity: decimal.Decimal = strawberry.field(description="More than 0, up to 3 places.")
    unit_price: Money
    discount_percent: decimal.Decimal = strawberry.field(description="0 to 100.")
    total: Money = strawberry.field(
        description="quantity x unitPrice x (1 - discountPercent / 100), rounded half-up to "
        "the currency's precision."
    )
    product_id_value: strawberry.Private[int]
    product: Product = batch_field(_products, description="The catalogue product, as it is now.")

    @classmethod
    def of(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls(
            quantity=row.quantity.quantize(decimal.Decimal("0.001")),
            unit_price=Money.of(row.unit_price, currency),
            discount_percent=row.discount_percent.quantize(decimal.Decimal("0.01")),
            total=Money.of(row.total, currency),
            product_id_value=row.product_id,
        )


async def _lines(context: RequestContext, orders: Sequence[Order]) -> list[list[OrderLine]]:
    found = await context.loader(loaders.LinesByOrderLoader).load_level(
        [order.id for order in orders]
    )
    return [
        [OrderLine.of(row, order.currency) for row in rows]
        for order, rows in zip(orders, found, strict=True)
    ]


@strawberry.type(description="An order of a customer: the purchase history.")
class Order(ModelNode[models.Order]):
    by_id_loader = loaders.OrderByIdLoader
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `SO000001`.")
    ordered_at: dt.datetime
    status: OrderStatus
    currency: str
    total: Money = strawberry.field(description="The sum of the lines' totals.")
    source: str | None = strawberry.field(description="The feed it came from (ERP, shop).")
    external_ref: str | None = strawberry.field(description="Its id in its source: unique there.")
    paid_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    refunded_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int]
    owner_id: strawberry.Private[int | None]
    customer: CustomerNode | None = batch_field(
        related(CustomerNode, "customer_id"),
        description="The order's customer; null when it is hidden from you.",
    )
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="Who sold it; null only when nobody."
    )
    lines: list[OrderLine] = batch_field(
        _lines, description="The lines, in the order they were given."
    )

    @classmethod
    def from_model(cls, row: models.Order) -> Order:
        return cls(
            id=row.id,
            number=row.number,
            ordered_at=row.ordered_at,
            status=OrderStatus(row.status),
            currency=row.currency,
            total=Money.of(row.total, row.currency),
            source=row.source,
            external_ref=row.external_ref,
            paid_at=row.paid_at,
            cancelled_at=row.cancelled_at,
            refunded_at=row.refunded_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            owner_id=row.owner_id,
        )


@strawberry.type(
    description="A customer's orders in one currency, PLACED and PAID ones only (cancelled "
    "and refunded orders are not spend)."
)
class PurchaseSummary:
    currency: str
    order_count: int
    total_spent: Money
    average_order_value: Money = strawberry.field(description="totalSpent / orderCount.")
    first_order_at: dt.datetime
    last_order_at: dt.datetime
    spent_last_12_months: Money = strawberry.field(
        description="Spent in the 12 months ending today (in the deployment's time zone)."
    )

    @classmethod
    def of(cls, summary: Summary) -> PurchaseSummary:
        currency = summary.currency
        return cls(
            currency=currency,
            order_count=summary.order_count,
            total_spent=Money.of(summary.total_spent, currency),
            average_order_value=Money.of(summary.average_order_value, currency),
            first_order_at=summary.first_order_at,
            last_order_at=summary.last_order_at,
            spent_last_12_months=Money.of(summary.spent_last_12_months, currency),
        )
