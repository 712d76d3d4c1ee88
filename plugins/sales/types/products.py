"""GraphQL types of the product catalogue: the Product node and its payloads."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from core.plugin_api import ModelNode, Money, UserError
from plugins.sales import models
from plugins.sales.loaders.products import ProductByIdLoader


@strawberry.type(description="A product of the catalogue, sold by orders and opportunities.")
class Product(ModelNode[models.Product]):
    by_id_loader = ProductByIdLoader
    id: relay.NodeID[int]
    sku: str = strawberry.field(description="Stock keeping unit: unique, upper case.")
    name: str
    category: str | None
    list_price: Money = strawberry.field(description="The default unit price of order lines.")
    active: bool = strawberry.field(description="false: no longer sold.")
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @classmethod
    def from_model(cls, row: models.Product) -> Self:
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            category=row.category,
            list_price=Money.of(row.list_price, row.currency),
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class ProductPayload:
    product: Product | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Product | None, errors: list[UserError]) -> Self:
        return cls(product=Product.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateProductPayload(ProductPayload):
    pass


@strawberry.type
class UpdateProductPayload(ProductPayload):
    pass
