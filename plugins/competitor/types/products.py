"""GraphQL types of competitors' products and prices: the CompetitorProduct and
CompetitorPrice nodes, our own product they are matched to (OurProduct, from the sales
catalogue), the rows of ``priceComparison`` and the payloads of their mutations."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    Connection,
    ModelNode,
    Money,
    PageArgs,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.competitor import models
from plugins.competitor.loaders import products as loaders
from plugins.competitor.service.prices import PriceComparisonRow, rounded_percent
from plugins.competitor.service.products import OurProduct as OurProductRow

if TYPE_CHECKING:
    from plugins.competitor.types.profiles import Competitor

LazyCompetitor = Annotated["Competitor", strawberry.lazy("plugins.competitor.types.profiles")]


@strawberry.enum(description="How a price moved since the observation before it.")
class PriceMovement(enum.Enum):
    UP = "UP"
    DOWN = "DOWN"
    FLAT = "FLAT"


def _product_gid(our_product_id: int | None) -> relay.GlobalID | None:
    return relay.GlobalID("Product", str(our_product_id)) if our_product_id is not None else None


def _money(amount: decimal.Decimal | None, currency: str | None) -> Money | None:
    return Money.of(amount, currency) if amount is not None and currency is not None else None


def _competitor_type() -> type[Competitor]:
    from plugins.competitor.types.profiles import Competitor

    return Competitor


@strawberry.type(
    name="OurProduct",
    description="A product of our own catalogue (the sales plugin's), set beside a competitor's.",
)
class OurProduct:
    id: relay.GlobalID = strawberry.field(description="The product's id (a Product id).")
    name: str
    category: str | None
    list_price: Money
    active: bool

    @classmethod
    def of(cls, row: OurProductRow) -> Self:
        return cls(
            id=relay.GlobalID("Product", str(row.id)),
            name=row.name,
            category=row.category,
            list_price=Money.of(row.list_price, row.currency),
            active=row.active,
        )


@strawberry.type(description="A price of a competitor's product, seen on a day.")
class CompetitorPrice(ModelNode[models.PriceObservation]):
    by_id_loader = loaders.PriceByIdLoader
    id: relay.NodeID[int]
    price: Money
    observed_on: dt.date = strawberry.field(description="The day it was seen.")
    region: str | None = strawberry.field(description="Where it applies; null: not said.")
    source: str | None = strawberry.field(description="Where it was seen.")
    created_at: dt.datetime
    product_id: strawberry.Private[int]
    reporter_id: strawberry.Private[int | None]
    reporter: UserSummary | None = batch_field(
        related(UserSummary, "reporter_id"), description="Who recorded it."
    )
    product: CompetitorProduct | None = batch_field(
        related(lambda: CompetitorProduct, "product_id")
    )

    @classmethod
    def from_model(cls, row: models.PriceObservation) -> Self:
        return cls(
            id=row.id,
            price=Money.of(row.amount, row.currency),
            observed_on=row.observed_on,
            region=row.region,
            source=row.source,
            created_at=row.created_at,
            product_id=row.product_id,
            reporter_id=row.reporter_id,
        )


async def _our_products(
    context: RequestContext, products: Sequence[CompetitorProduct]
) -> list[OurProduct | None]:
    keys = [product.our_product_key for product in products]
    wanted = [key for key in keys if key is not None]
    rows = iter(await context.loader(loaders.OurProductLoader).load_level(wanted))
    found: list[OurProduct | None] = []
    for key in keys:
        row = next(rows) if key is not None else None
        found.append(OurProduct.of(row) if row is not None else None)
    return found


async def _latest_prices(
    context: RequestContext, products: Sequence[CompetitorProduct]
) -> list[CompetitorPrice | None]:
    rows = await context.loader(loaders.LatestPriceLoader).load_level(
        [product.id for product in products]
    )
    return [CompetitorPrice.from_model(row) if row is not None else None for row in rows]


async def _prices(
    context: RequestContext,
    products: Sequence[CompetitorProduct],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[CompetitorPrice]]:
    return await context.child_pages(
        loaders.PricesByProductLoader,
        loaders.PriceCountByProductLoader,
        [product.id for product in products],
        PageArgs(first, after, last, before),
        CompetitorPrice.from_model,
    )


@strawberry.type(
    description="A competitor's product, optionally matched to one of our products in the "
    "sales catalogue."
)
class CompetitorProduct(ModelNode[models.Product]):
    by_id_loader = loaders.ProductByIdLoader
    id: relay.NodeID[int]
    name: str
    category: str | None
    our_product_id: relay.GlobalID | None = strawberry.field(
        description="The matching product of ours (a Product id); null: not matched."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    competitor_id: strawberry.Private[int]
    our_product_key: strawberry.Private[int | None]
    competitor: LazyCompetitor | None = batch_field(related(_competitor_type, "competitor_id"))
    our_product: OurProduct | None = batch_field(
        _our_products,
        description="The matching product of ours, from the sales catalogue; null when not "
        "matched, or when the sales plugin is disabled.",
    )
    latest_price: CompetitorPrice | None = batch_field(
        _latest_prices, description="The latest observation (by day, any region)."
    )
    prices: Connection[CompetitorPrice] | None = batch_field(
        _prices, description="The price history, the latest observation first."
    )

    @classmethod
    def from_model(cls, row: models.Product) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            category=row.category,
            our_product_id=_product_gid(row.our_product_id),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            competitor_id=row.competitor_id,
            our_product_key=row.our_product_id,
        )


@strawberry.type(
    description="A competitor's product beside ours: their latest price, ours, the difference "
    "and how their price moved. The difference is given only when both prices are in one "
    "currency."
)
class PriceComparison:
    product_name: str
    category: str | None
    their_price: Money | None = strawberry.field(
        description="Their latest observed price (in the region asked for, if any); null: "
        "never observed."
    )
    observed_on: dt.date | None
    region: str | None = strawberry.field(description="The region of their latest price.")
    previous_price: Money | None = strawberry.field(
        description="Their observation before the latest, in the same region and currency."
    )
    trend: PriceMovement | None = strawberry.field(
        description="Their latest price against previousPrice; null without a previous one."
    )
    our_product_id: relay.GlobalID | None = strawberry.field(
        description="Our matching product (a Product id); null: not matched."
    )
    our_product_name: str | None = strawberry.field(
        description="Null when not matched, or when the sales plugin is disabled."
    )
    our_price: Money | None = strawberry.field(description="Our product's list price.")
    difference: Money | None = strawberry.field(
        description="Their price minus ours (positive: they are dearer); null when the "
        "currencies differ or a price is missing."
    )
    difference_percent: float | None = strawberry.field(
        description="The difference as a percentage of our price, to one decimal place "
        "(halves rounded up)."
    )
    product_id: strawberry.Private[int]
    competitor_id: strawberry.Private[int]
    product: CompetitorProduct | None = batch_field(
        related(CompetitorProduct, "product_id"), description="Their product."
    )
    competitor: LazyCompetitor | None = batch_field(related(_competitor_type, "competitor_id"))

    @classmethod
    def from_row(cls, row: PriceComparisonRow) -> Self:
        return cls(
            product_name=row.product_name,
            category=row.category,
            their_price=_money(row.their_amount, row.their_currency),
            observed_on=row.observed_on,
            region=row.region,
            previous_price=_money(row.previous_amount, row.their_currency),
            trend=PriceMovement(row.trend) if row.trend is not None else None,
            our_product_id=_product_gid(row.our_product_id),
            our_product_name=row.our_product_name,
            our_price=_money(row.our_amount, row.our_currency),
            difference=_money(row.difference, row.our_currency),
            difference_percent=rounded_percent(row.difference_percent),
            product_id=row.product_id,
            competitor_id=row.competitor_id,
        )


@strawberry.type
class CompetitorProductPayload:
    competitor_product: CompetitorProduct | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Product | None, errors: list[UserError]) -> Self:
        return cls(
            competitor_product=CompetitorProduct.from_model(row) if row else None, errors=errors
        )


@strawberry.type
class CreateCompetitorProductPayload(CompetitorProductPayload):
    pass


@strawberry.type
class UpdateCompetitorProductPayload(CompetitorProductPayload):
    pass


@strawberry.type
class DeleteCompetitorProductPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the product removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Product | None, errors: list[UserError]) -> Self:
        deleted = relay.GlobalID("CompetitorProduct", str(row.id)) if row and not errors else None
        return cls(deleted_id=deleted, errors=errors)


@strawberry.type
class RecordCompetitorPricePayload:
    competitor_price: CompetitorPrice | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.PriceObservation | None, errors: list[UserError]) -> Self:
        return cls(competitor_price=CompetitorPrice.from_model(row) if row else None, errors=errors)


@strawberry.type
class DeleteCompetitorPricePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the observation removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.PriceObservation | None, errors: list[UserError]) -> Self:
        deleted = relay.GlobalID("CompetitorPrice", str(row.id)) if row and not errors else None
        return cls(deleted_id=deleted, errors=errors)


NODES: list[type[Any]] = [CompetitorProduct, CompetitorPrice]
"""Node types of this module (for ``node(id:)``)."""
