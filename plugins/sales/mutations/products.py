"""Mutations of the product catalogue (``sales:manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.sales import declarations, models
from plugins.sales.inputs.products import CreateProductInput, UpdateProductInput
from plugins.sales.service import products as service
from plugins.sales.types.products import CreateProductPayload, UpdateProductPayload


@strawberry.type
class ProductMutation:
    @strawberry.mutation(
        description="Add a product to the catalogue.", extensions=requires(declarations.MANAGE)
    )
    async def create_product(
        self, info: Info, input: CreateProductInput
    ) -> CreateProductPayload | None:
        async def work(session: AsyncSession) -> models.Product:
            return await service.create_product(
                session,
                info.context,
                input.sku,
                input.name,
                input.category,
                input.list_price,
                input.currency,
                input.active,
            )

        return await mutate(info, work, CreateProductPayload.of)

    @strawberry.mutation(
        description="Change a product; fields left out stay as they are.",
        extensions=requires(declarations.MANAGE),
    )
    async def update_product(
        self, info: Info, input: UpdateProductInput
    ) -> UpdateProductPayload | None:
        async def work(session: AsyncSession) -> models.Product:
            check = Check()
            product_id = check.node_id("id", input.id, "Product")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in ("sku", "name", "category", "list_price", "currency", "active")
                if getattr(input, name) is not strawberry.UNSET
            }
            return await service.update_product(
                session, info.context, product_id, input.version, changes
            )

        return await mutate(info, work, UpdateProductPayload.of)
