"""Mutations of orders: placing one, and its status steps."""

from __future__ import annotations

from typing import Self, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, UserError, mutate, requires
from plugins.sales import declarations, models
from plugins.sales.inputs.orders import (
    CancelOrderInput,
    MarkOrderPaidInput,
    OrderStepInput,
    PlaceOrderInput,
    RefundOrderInput,
)
from plugins.sales.service import orders as service
from plugins.sales.types.orders import Order


@strawberry.type
class OrderPayload:
    order: Order | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Order | None, errors: list[UserError]) -> Self:
        return cls(order=Order.from_model(row) if row else None, errors=errors)


@strawberry.type
class PlaceOrderPayload(OrderPayload):
    pass


@strawberry.type
class MarkOrderPaidPayload(OrderPayload):
    pass


@strawberry.type
class CancelOrderPayload(OrderPayload):
    pass


@strawberry.type
class RefundOrderPayload(OrderPayload):
    pass


P = TypeVar("P", bound=OrderPayload)


async def _step(info: Info, input: OrderStepInput, target: str, payload: type[P]) -> P:
    async def work(session: AsyncSession) -> models.Order:
        check = Check()
        order_id = check.node_id("id", input.id, "Order")
        check.done()
        return await service.move(session, info.context, order_id, input.version, target)

    return await mutate(info, work, payload.of)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        description="Place an order (status PLACED); announces crm_sales_order_placed.",
        extensions=requires(declarations.WRITE),
    )
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload | None:
        async def work(session: AsyncSession) -> models.Order:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            lines = [
                service.LineValues(
                    product_id=check.node_id(
                        f"lines.{index}.productId", line.product_id, "Product"
                    ),
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                )
                for index, line in enumerate(input.lines)
            ]
            return await service.place_order(
                session,
                info.context,
                customer_id=customer_id,
                lines=lines,
                owner_id=owner_id,
                ordered_at=input.ordered_at,
                currency=input.currency,
                source=input.source,
                external_ref=input.external_ref,
                check=check,
            )

        return await mutate(info, work, PlaceOrderPayload.of)

    @strawberry.mutation(description="PLACED -> PAID.", extensions=requires(declarations.WRITE))
    async def mark_order_paid(
        self, info: Info, input: MarkOrderPaidInput
    ) -> MarkOrderPaidPayload | None:
        return await _step(info, input, "PAID", MarkOrderPaidPayload)

    @strawberry.mutation(
        description="PLACED or PAID -> CANCELLED; announces crm_sales_order_cancelled.",
        extensions=requires(declarations.WRITE),
    )
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> CancelOrderPayload | None:
        return await _step(info, input, "CANCELLED", CancelOrderPayload)

    @strawberry.mutation(
        description="PAID -> REFUNDED; announces crm_sales_order_cancelled (refunded).",
        extensions=requires(declarations.WRITE),
    )
    async def refund_order(self, info: Info, input: RefundOrderInput) -> RefundOrderPayload | None:
        return await _step(info, input, "REFUNDED", RefundOrderPayload)
