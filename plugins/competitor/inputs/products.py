"""GraphQL inputs of competitors' products and prices."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection


@strawberry.input
class CompetitorProductFilter:
    competitor_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="This competitor's products (archived competitors' too); null: those of "
        "every competitor not archived.",
    )
    category: str | None = strawberry.field(
        default=None, description="Exactly this category, regardless of case."
    )
    our_product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Those matched to this product of ours (a Product id)."
    )
    search: str | None = strawberry.field(default=None, description="Part of the name.")


@strawberry.enum(description="What a competitor product list sorts by.")
class CompetitorProductOrderField(enum.Enum):
    NAME = "NAME"
    CATEGORY = "CATEGORY"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of a competitor product list's orderBy.")
class CompetitorProductOrder:
    field: CompetitorProductOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateCompetitorProductInput:
    competitor_id: relay.GlobalID
    name: str = strawberry.field(
        description="Up to 200 characters; unique among the competitor's products regardless "
        "of case."
    )
    category: str | None = strawberry.field(default=None, description="Up to 100 characters.")
    our_product_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="The matching product of ours (a Product id of the sales catalogue; needs "
        "the sales plugin).",
    )


@strawberry.input(description="Fields left out stay as they are.")
class UpdateCompetitorProductInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    category: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    our_product_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="null clears the match."
    )


@strawberry.input
class DeleteCompetitorProductInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")


@strawberry.input(description="A price of a competitor's product seen on a day.")
class RecordCompetitorPriceInput:
    product_id: relay.GlobalID = strawberry.field(description="A CompetitorProduct id.")
    amount: decimal.Decimal = strawberry.field(
        description="More than 0, at most the currency's decimal places."
    )
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")
    observed_on: dt.date | None = strawberry.field(
        default=None,
        description="The day it was seen, not after today (the deployment's calendar); null: "
        "today.",
    )
    region: str | None = strawberry.field(
        default=None, description="Where the price applies, up to 100 characters."
    )
    source: str | None = strawberry.field(
        default=None, description="Where it was seen (a URL, a quote), up to 500 characters."
    )


@strawberry.input
class DeleteCompetitorPriceInput:
    id: relay.GlobalID = strawberry.field(description="A CompetitorPrice id.")
