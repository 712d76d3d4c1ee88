"""Root mutation fields of competitors' products (``competitors:manage``) and prices
(recorded with ``competitors:write``, deleted with ``competitors:manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.inputs.products import (
    CreateCompetitorProductInput,
    DeleteCompetitorPriceInput,
    DeleteCompetitorProductInput,
    RecordCompetitorPriceInput,
    UpdateCompetitorProductInput,
)
from plugins.competitor.service import prices
from plugins.competitor.service import products as service
from plugins.competitor.types.products import (
    CreateCompetitorProductPayload,
    DeleteCompetitorPricePayload,
    DeleteCompetitorProductPayload,
    RecordCompetitorPricePayload,
    UpdateCompetitorProductPayload,
)

MANAGE = requires(declarations.MANAGE)
WRITE = requires(declarations.WRITE)


@strawberry.type
class ProductMutation:
    @strawberry.mutation(
        description="Add a competitor's product, matched to one of ours if given.",
        extensions=MANAGE,
    )
    async def create_competitor_product(
        self, info: Info, input: CreateCompetitorProductInput
    ) -> CreateCompetitorProductPayload | None:
        async def work(session: AsyncSession) -> models.Product:
            check = Check()
            competitor_id = check.node_id("competitorId", input.competitor_id, "Competitor")
            our_product_id = check.node_id("ourProductId", input.our_product_id, "Product")
            check.done()
            values = {
                "name": input.name,
                "category": input.category,
                "our_product_id": our_product_id,
            }
            return await service.create_product(session, info.context, competitor_id, values)

        return await mutate(info, work, CreateCompetitorProductPayload.of)

    @strawberry.mutation(
        description="Change a competitor's product; fields left out stay as they are.",
        extensions=MANAGE,
    )
    async def update_competitor_product(
        self, info: Info, input: UpdateCompetitorProductInput
    ) -> UpdateCompetitorProductPayload | None:
        async def work(session: AsyncSession) -> models.Product:
            check = Check()
            product_id = check.node_id("id", input.id, "CompetitorProduct")
            changes = {
                name: getattr(input, name)
                for name in ("name", "category")
                if getattr(input, name) is not strawberry.UNSET
            }
            if input.our_product_id is not strawberry.UNSET:
                changes["our_product_id"] = check.node_id(
                    "ourProductId", input.our_product_id, "Product"
                )
            check.done()
            return await service.update_product(
                session, info.context, product_id, input.version, changes
            )

        return await mutate(info, work, UpdateCompetitorProductPayload.of)

    @strawberry.mutation(
        description="Remove a competitor's product and its price history.", extensions=MANAGE
    )
    async def delete_competitor_product(
        self, info: Info, input: DeleteCompetitorProductInput
    ) -> DeleteCompetitorProductPayload | None:
        async def work(session: AsyncSession) -> models.Product:
            check = Check()
            product_id = check.node_id("id", input.id, "CompetitorProduct")
            check.done()
            return await service.delete_product(session, info.context, product_id, input.version)

        return await mutate(info, work, DeleteCompetitorProductPayload.of)

    @strawberry.mutation(
        description="Record a price of a competitor's product seen on a day (kept as history).",
        extensions=WRITE,
    )
    async def record_competitor_price(
        self, info: Info, input: RecordCompetitorPriceInput
    ) -> RecordCompetitorPricePayload | None:
        async def work(session: AsyncSession) -> models.PriceObservation:
            check = Check()
            product_id = check.node_id("productId", input.product_id, "CompetitorProduct")
            check.done()
            values = {
                name: getattr(input, name)
                for name in ("amount", "currency", "observed_on", "region", "source")
            }
            return await prices.record_price(session, info.context, product_id, values)

        return await mutate(info, work, RecordCompetitorPricePayload.of)

    @strawberry.mutation(
        description="Delete a price observation recorded by mistake.", extensions=MANAGE
    )
    async def delete_competitor_price(
        self, info: Info, input: DeleteCompetitorPriceInput
    ) -> DeleteCompetitorPricePayload | None:
        async def work(session: AsyncSession) -> models.PriceObservation:
            check = Check()
            price_id = check.node_id("id", input.id, "CompetitorPrice")
            check.done()
            return await prices.delete_price(session, info.context, price_id)

        return await mutate(info, work, DeleteCompetitorPricePayload.of)
