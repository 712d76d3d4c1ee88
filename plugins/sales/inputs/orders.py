"""GraphQL inputs of orders: the list's filter and orderBy, and the mutations' inputs."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import DateTimeRange, OrderDirection
from plugins.sales.types.orders import OrderStatus


@strawberry.input
class OrderFilter:
    customer_id: relay.GlobalID | None = None
    status: list[OrderStatus] | None = None
    ordered: DateTimeRange | None = None
    source: str | None = strawberry.field(default=None, description="Exactly this source.")
    owner_id: relay.GlobalID | None = None
    product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Orders with a line of this product."
    )


@strawberry.enum(description="What an order list sorts by.")
class OrderOrderField(enum.Enum):
    ORDERED_AT = "ORDERED_AT"
    NUMBER = "NUMBER"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input(description="One entry of an order list's orderBy.")
class OrderOrder:
    field: OrderOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="One line of an order to place.")
class OrderLineInput:
    product_id: relay.GlobalID
    quantity: decimal.Decimal = strawberry.field(description="More than 0, up to 3 places.")
    unit_price: decimal.Decimal | None = strawberry.field(
        default=None,
        description="In the order's currency; default the product's list price (which must "
        "then be in the order's currency).",
    )
    discount_percent: decimal.Decimal | None = strawberry.field(
        default=None, description="0 to 100, up to 2 places; default 0."
    )


@strawberry.input
class PlaceOrderInput:
    customer_id: relay.GlobalID
    lines: list[OrderLineInput] = strawberry.field(description="1 to 500 lines.")
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who sold it; default you."
    )
    ordered_at: dt.datetime | None = strawberry.field(
        default=None, description="Default now; not in the future."
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; default the main currency (CRM_SALES_CURRENCY)."
    )
    source: str | None = strawberry.field(
        default=None, description="The feed it comes from (an ERP, a shop); up to 32 characters."
    )
    external_ref: str | None = strawberry.field(
        default=None,
        description="Its id in its source, unique per source (needs source); up to 100 characters.",
    )


@strawberry.input
class OrderStepInput:
    id: relay.GlobalID
    version: int


@strawberry.input(description="PLACED -> PAID.")
class MarkOrderPaidInput(OrderStepInput):
    pass


@strawberry.input(description="PLACED or PAID -> CANCELLED.")
class CancelOrderInput(OrderStepInput):
    pass


@strawberry.input(description="PAID -> REFUNDED.")
class RefundOrderInput(OrderStepInput):
    pass
