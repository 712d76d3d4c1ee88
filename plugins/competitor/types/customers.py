"""GraphQL types of customers' competitor links: the CustomerCompetitor node and the
payloads of its mutations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import CustomerNode, ModelNode, RequestContext, UserError, batch_field, related
from plugins.competitor import models
from plugins.competitor.loaders.customers import LinkByIdLoader

if TYPE_CHECKING:
    from plugins.competitor.types.products import CompetitorProduct
    from plugins.competitor.types.profiles import Competitor

LazyCompetitor = Annotated["Competitor", strawberry.lazy("plugins.competitor.types.profiles")]
LazyProduct = Annotated["CompetitorProduct", strawberry.lazy("plugins.competitor.types.products")]


def _competitor_type() -> type[Competitor]:
    from plugins.competitor.types.profiles import Competitor

    return Competitor


def _product_type() -> type[CompetitorProduct]:
    from plugins.competitor.types.products import CompetitorProduct

    return CompetitorProduct


async def _current(_context: RequestContext, links: Sequence[CustomerCompetitor]) -> list[bool]:
    return [link.ended_on is None for link in links]


@strawberry.type(
    description="A competitor a customer uses (or used: endedOn set), with the product, since "
    "when and when their contract with it ends."
)
class CustomerCompetitor(ModelNode[models.CustomerCompetitor]):
    by_id_loader = LinkByIdLoader
    id: relay.NodeID[int]
    since: dt.date | None
    contract_ends_on: dt.date | None = strawberry.field(
        description="When the customer's contract with the competitor ends: an opening."
    )
    ended_on: dt.date | None = strawberry.field(
        description="The day the customer stopped using it; null while it still does."
    )
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int]
    competitor_id: strawberry.Private[int]
    product_id: strawberry.Private[int | None]
    current: bool = batch_field(
        _current, description="true: the customer still uses it (not ended)."
    )
    customer: CustomerNode | None = batch_field(
        related(CustomerNode, "customer_id"),
        description="null when the customer is hidden from you.",
    )
    competitor: LazyCompetitor | None = batch_field(related(_competitor_type, "competitor_id"))
    product: LazyProduct | None = batch_field(
        related(_product_type, "product_id"),
        description="The competitor's product the customer uses.",
    )

    @classmethod
    def from_model(cls, row: models.CustomerCompetitor) -> Self:
        return cls(
            id=row.id,
            since=row.since,
            contract_ends_on=row.contract_ends_on,
            ended_on=row.ended_on,
            notes=row.notes,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            competitor_id=row.competitor_id,
            product_id=row.product_id,
        )


@strawberry.type
class CustomerCompetitorPayload:
    customer_competitor: CustomerCompetitor | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.CustomerCompetitor | None, errors: list[UserError]) -> Self:
        return cls(
            customer_competitor=CustomerCompetitor.from_model(row) if row else None,
            errors=errors,
        )


@strawberry.type
class AddCustomerCompetitorPayload(CustomerCompetitorPayload):
    pass


@strawberry.type
class UpdateCustomerCompetitorPayload(CustomerCompetitorPayload):
    pass


@strawberry.type
class EndCustomerCompetitorPayload(CustomerCompetitorPayload):
    pass


@strawberry.type(description="customerCompetitor: the link as it was before it was removed.")
class RemoveCustomerCompetitorPayload(CustomerCompetitorPayload):
    pass


NODES: list[type[Any]] = [CustomerCompetitor]
"""Node types of this module (for ``node(id:)``)."""
