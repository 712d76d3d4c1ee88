"""Root mutation fields of customers' competitor links: each takes one input, runs in one
transaction and answers with a payload. They need ``competitors:write`` within its scope
over the customer."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.inputs.customers import (
    AddCustomerCompetitorInput,
    EndCustomerCompetitorInput,
    RemoveCustomerCompetitorInput,
    UpdateCustomerCompetitorInput,
)
from plugins.competitor.service import customers as service
from plugins.competitor.types.customers import (
    AddCustomerCompetitorPayload,
    EndCustomerCompetitorPayload,
    RemoveCustomerCompetitorPayload,
    UpdateCustomerCompetitorPayload,
)

WRITE = requires(declarations.WRITE)
ID_TYPE = "CustomerCompetitor"


@strawberry.type
class CustomerLinkMutation:
    @strawberry.mutation(
        description="Record that a customer uses a competitor (one current link per customer "
        "and competitor).",
        extensions=WRITE,
    )
    async def add_customer_competitor(
        self, info: Info, input: AddCustomerCompetitorInput
    ) -> AddCustomerCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.CustomerCompetitor:
            check = Check()
            values: dict[str, Any] = {
                "customer_id": check.node_id("customerId", input.customer_id, "Customer"),
                "competitor_id": check.node_id("competitorId", input.competitor_id, "Competitor"),
                "product_id": check.node_id("productId", input.product_id, "CompetitorProduct"),
                "since": input.since,
                "contract_ends_on": input.contract_ends_on,
                "notes": input.notes,
            }
            check.done()
            return await service.add_link(session, info.context, values)

        return await mutate(info, work, AddCustomerCompetitorPayload.of)

    @strawberry.mutation(
        description="Change a customer's competitor link; fields left out stay as they are.",
        extensions=WRITE,
    )
    async def update_customer_competitor(
        self, info: Info, input: UpdateCustomerCompetitorInput
    ) -> UpdateCustomerCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.CustomerCompetitor:
            check = Check()
            link_id = check.node_id("id", input.id, ID_TYPE)
            changes: dict[str, Any] = {}
            if input.product_id is not strawberry.UNSET:
                changes["product_id"] = check.node_id(
                    "productId", input.product_id, "CompetitorProduct"
                )
            for name in ("since", "contract_ends_on", "notes"):
                if getattr(input, name) is not strawberry.UNSET:
                    changes[name] = getattr(input, name)
            check.done()
            return await service.update_link(session, info.context, link_id, input.version, changes)

        return await mutate(info, work, UpdateCustomerCompetitorPayload.of)

    @strawberry.mutation(
        description="The customer stopped using the competitor (the link is kept, ended).",
        extensions=WRITE,
    )
    async def end_customer_competitor(
        self, info: Info, input: EndCustomerCompetitorInput
    ) -> EndCustomerCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.CustomerCompetitor:
            check = Check()
            link_id = check.node_id("id", input.id, ID_TYPE)
            check.done()
            return await service.end_link(session, info.context, link_id, input.version, input.on)

        return await mutate(info, work, EndCustomerCompetitorPayload.of)

    @strawberry.mutation(
        description="Remove a link recorded by mistake (endCustomerCompetitor keeps the history).",
        extensions=WRITE,
    )
    async def remove_customer_competitor(
        self, info: Info, input: RemoveCustomerCompetitorInput
    ) -> RemoveCustomerCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.CustomerCompetitor:
            check = Check()
            link_id = check.node_id("id", input.id, ID_TYPE)
            check.done()
            return await service.remove_link(session, info.context, link_id, input.version)

        return await mutate(info, work, RemoveCustomerCompetitorPayload.of)
