"""Dataloaders of orders: each filters through the caller's reach of ``sales.orders`` (with
``sales:read``, or finance's and support's ``sales:read_orders``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    SortKey,
    among,
    group_by_key,
)
from plugins.sales import declarations, models
from plugins.sales.service import purchases
from plugins.sales.tiers import ValueTier


class _VisibleOrders:
    entity = models.Order
    parent = models.Order.customer_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(models.Order).where(declarations.visible(self.context, declarations.ORDERS))


class OrderByIdLoader(_VisibleOrders, ByIdLoader[models.Order]):
    pass


class OrdersByCustomerLoader(_VisibleOrders, ChildPageLoader):
    keys = (SortKey(models.Order.ordered_at, True), SortKey(models.Order.id, True))


class OrderCountByCustomerLoader(_VisibleOrders, ChildCountLoader):
    pass


class LinesByOrderLoader(Loader[int, list[models.OrderLine]]):
    """The lines of many orders in one statement (the orders were loaded through the scoped
    loaders; the condition is repeated so a line never outlives its order's scope)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[models.OrderLine]]:
        line = models.OrderLine
        rows = (
            await session.scalars(
                select(line)
                .where(
                    among(line.order_id, keys),
                    line.order_id.in_(
                        select(models.Order.id).where(
                            declarations.visible(self.context, declarations.ORDERS)
                        )
                    ),
                )
                .order_by(line.order_id, line.position)
            )
        ).all()
        return group_by_key(keys, rows, "order_id")


class PurchaseSummaryLoader(Loader[int, list[purchases.Summary]]):
    """Each customer's purchase summaries, from the orders the caller may see."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[purchases.Summary]]:
        found = await purchases.summaries(
            session,
            keys,
            self.context.now(),
            self.context.settings.zone,
            declarations.visible(self.context, declarations.ORDERS),
        )
        return [found[key] for key in keys]


class ValueTierLoader(Loader[int, ValueTier]):
    """Each customer's stored value tier (STANDARD without a row)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[ValueTier]:
        value = models.CustomerValue
        rows = dict(
            (
                await session.execute(
                    select(value.customer_id, value.tier).where(among(value.customer_id, keys))
                )
            ).all()
        )
        return [ValueTier(rows.get(key, ValueTier.STANDARD.value)) for key in keys]
