"""Dataloaders of competitors' products and their prices (read by whoever holds
``competitors:read``), and of our own products they are matched to (through the sales
plugin's catalogue hook)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    SortKey,
    among,
    group_by_key,
    one_by_key,
)
from plugins.competitor.loaders.profiles import Readable, readable
from plugins.competitor.models import PriceObservation, Product
from plugins.competitor.service.prices import latest_prices
from plugins.competitor.service.products import OurProduct, our_products


class ProductByIdLoader(Readable, ByIdLoader[Product]):
    entity = Product


class PriceByIdLoader(Readable, ByIdLoader[PriceObservation]):
    entity = PriceObservation


class ProductsByCompetitorLoader(Loader[int, list[Product]]):
    """Each competitor's products, by name."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Product]]:
        if not readable(self.context):
            return [[] for _key in keys]
        rows = (
            await session.scalars(
                select(Product)
                .where(among(Product.competitor_id, keys))
                .order_by(Product.name_key, Product.id)
            )
        ).all()
        return group_by_key(keys, rows, "competitor_id")


class _Prices(Readable):
    entity = PriceObservation
    parent = PriceObservation.product_id


class PricesByProductLoader(_Prices, ChildPageLoader):
    """``CompetitorProduct.prices``: the price history, the latest observation first."""

    keys = (SortKey(PriceObservation.observed_on, True), SortKey(PriceObservation.id, True))


class PriceCountByProductLoader(_Prices, ChildCountLoader):
    pass


class LatestPriceLoader(Loader[int, PriceObservation | None]):
    """Each product's latest price observation (any region)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[PriceObservation | None]:
        if not readable(self.context):
            return [None for _key in keys]
        found = await latest_prices(session, keys)
        return [found[key][0] if key in found else None for key in keys]


class OurProductLoader(Loader[int, OurProduct | None]):
    """Our products by id, from the sales catalogue; None for each when the sales plugin is
    disabled or has no such product."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[OurProduct | None]:
        if not readable(self.context):
            return [None for _key in keys]
        found = await our_products(session, self.context.pm, keys)
        return one_by_key(keys, found or [])
