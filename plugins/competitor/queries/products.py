"""Root query fields of competitors' products and prices (``competitors:read``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, func, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    argument_id,
    bad_argument,
    like_pattern,
    requires,
    search_text,
    translator,
)
from plugins.competitor import declarations, models
from plugins.competitor.inputs.products import (
    CompetitorProductFilter,
    CompetitorProductOrder,
    CompetitorProductOrderField,
)
from plugins.competitor.service.prices import MAX_REGION, price_comparison
from plugins.competitor.service.products import MAX_CATEGORY
from plugins.competitor.service.profiles import ARCHIVED
from plugins.competitor.types.products import CompetitorProduct, PriceComparison

_ = translator(__name__)

PRODUCT_ORDER = ListOrder(
    {
        CompetitorProductOrderField.NAME: models.Product.name_key,
        CompetitorProductOrderField.CATEGORY: models.Product.category,
        CompetitorProductOrderField.CREATED_AT: models.Product.created_at,
    },
    models.Product.id,
    default=[(CompetitorProductOrderField.NAME, False)],
    nullable=(CompetitorProductOrderField.CATEGORY,),
)
"""Product lists' orderings: by name (regardless of case) unless ``orderBy`` says otherwise."""


def bounded(value: str | None, argument: str, max_length: int) -> str | None:
    """The stripped text of a list argument (``None`` for none); one longer than the column
    it is compared with (so that it can match nothing) is BAD_USER_INPUT naming it."""
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise bad_argument(argument, _("must be at most {max} characters", max=max_length))
    return cleaned or None


def product_statement(filter: CompetitorProductFilter | None) -> Select[Any]:
    p, c = models.Product, models.Competitor
    statement = select(p)
    competitor_id = argument_id(
        filter.competitor_id if filter else None, "Competitor", "filter.competitorId"
    )
    if competitor_id is not None:
        statement = statement.where(p.competitor_id == competitor_id)
    else:
        statement = statement.where(p.competitor_id.in_(select(c.id).where(c.status != ARCHIVED)))
    if filter is None:
        return statement
    category = bounded(filter.category, "filter.category", MAX_CATEGORY)
    if category:
        statement = statement.where(func.lower(p.category) == category.lower())
    our_product_id = argument_id(filter.our_product_id, "Product", "filter.ourProductId")
    if our_product_id is not None:
        statement = statement.where(p.our_product_id == our_product_id)
    text = search_text(filter.search)
    if text:
        statement = statement.where(p.name_key.like(like_pattern(text.casefold()), escape="\\"))
    return statement


@strawberry.type
class ProductQuery:
    @strawberry.field(
        description="Competitors' products, by name unless orderBy says otherwise; those of "
        "archived competitors only when filter.competitorId names one.",
        extensions=requires(declarations.READ),
    )
    async def competitor_products(
        self,
        info: Info,
        filter: CompetitorProductFilter | None = None,
        order_by: Annotated[
            list[CompetitorProductOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CompetitorProduct] | None:
        return await info.context.page(
            product_statement(filter),
            keys=PRODUCT_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=CompetitorProduct.from_model,
        )

    @strawberry.field(
        description="Competitors' latest prices beside our list prices: one row per product "
        "of a competitor (not archived) matched to ourProductId, or in category (regardless "
        "of case); give exactly one of the two. Ordered by competitor and product name.",
        extensions=requires(declarations.READ),
    )
    async def price_comparison(
        self,
        info: Info,
        category: str | None = None,
        our_product_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="A Product id of ours.")
        ] = None,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Only prices observed in this region (regardless of case)."
            ),
        ] = None,
    ) -> list[PriceComparison] | None:
        wanted = bounded(category, "category", MAX_CATEGORY)
        if wanted is None and our_product_id is None:
            raise bad_argument("category", _("give category or ourProductId"))
        if wanted is not None and our_product_id is not None:
            raise bad_argument("ourProductId", _("give category or ourProductId, not both"))
        product_id = argument_id(our_product_id, "Product", "ourProductId")
        where = bounded(region, "region", MAX_REGION)
        async with info.context.db.read() as session:
            rows = await price_comparison(
                session, info.context, category=wanted, our_product_id=product_id, region=where
            )
        return [PriceComparison.from_row(row) for row in rows]
