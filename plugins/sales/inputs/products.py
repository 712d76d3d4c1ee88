"""GraphQL inputs of the product catalogue."""

from __future__ import annotations

import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection


@strawberry.input
class ProductFilter:
    search: str | None = strawberry.field(default=None, description="Part of SKU or name.")
    category: str | None = strawberry.field(default=None, description="Exactly this category.")
    active: bool | None = None


@strawberry.enum
class ProductOrderField(enum.Enum):
    NAME = "NAME"
    SKU = "SKU"
    CREATED_AT = "CREATED_AT"
    LIST_PRICE = "LIST_PRICE"


@strawberry.input(description="One entry of a product list's orderBy.")
class ProductOrder:
    field: ProductOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    category: str | None = None
    list_price: decimal.Decimal
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; null: the deployment's main currency."
    )
    active: bool = True


@strawberry.input(description="Fields left out stay as they are.")
class UpdateProductInput:
    id: relay.GlobalID
    version: int
    sku: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    category: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    list_price: decimal.Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
