"""Root query fields of the product catalogue."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, func, or_, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    like_pattern,
    requires,
    search_text,
    translator,
)
from plugins.sales import declarations, models
from plugins.sales.inputs.products import ProductFilter, ProductOrder, ProductOrderField
from plugins.sales.queries.lookup import by_id_or_key
from plugins.sales.types.products import Product

_ = translator(__name__)

PRODUCT_ORDER = ListOrder(
    {
        ProductOrderField.NAME: models.Product.name,
        ProductOrderField.SKU: models.Product.sku,
        ProductOrderField.CREATED_AT: models.Product.created_at,
        ProductOrderField.LIST_PRICE: models.Product.list_price,
    },
    models.Product.id,
    default=[(ProductOrderField.NAME, False)],
)
"""Product lists' orderings: by name unless ``orderBy`` says otherwise."""


def product_statement(filter: ProductFilter | None) -> Select[Any]:
    p = models.Product
    statement = select(p)
    if filter is None:
        return statement
    if filter.active is not None:
        statement = statement.where(p.active.is_(filter.active))
    category = (filter.category or "").strip()
    if category:
        statement = statement.where(p.category == category)
    text = search_text(filter.search)
    if text:
        pattern = like_pattern(text)
        statement = statement.where(
            or_(
                func.lower(p.sku).like(pattern, escape="\\"),
                func.lower(p.name).like(pattern, escape="\\"),
            )
        )
    return statement


@strawberry.type
class ProductQuery:
    @strawberry.field(
        description="The product catalogue, by name unless orderBy says otherwise.",
        extensions=requires(declarations.READ),
    )
    async def products(
        self,
        info: Info,
        filter: ProductFilter | None = None,
        order_by: Annotated[
            list[ProductOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Product] | None:
        return await info.context.page(
            product_statement(filter),
            keys=PRODUCT_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Product.from_model,
        )

    @strawberry.field(
        description="One product by id or SKU.", extensions=requires(declarations.READ)
    )
    async def product(
        self, info: Info, id: relay.GlobalID | None = None, sku: str | None = None
    ) -> Product | None:
        return await by_id_or_key(info, Product, id, sku, column=models.Product.sku, key_name="sku")
