"""Mutations of opportunities: create, update, move through the pipeline, reopen."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.sales import declarations, models
from plugins.sales.inputs.opportunities import (
    CreateOpportunityInput,
    MoveOpportunityInput,
    ReopenOpportunityInput,
    UpdateOpportunityInput,
)
from plugins.sales.service import opportunities as service
from plugins.sales.types.opportunities import (
    CreateOpportunityPayload,
    MoveOpportunityPayload,
    ReopenOpportunityPayload,
    UpdateOpportunityPayload,
)

_UPDATABLE = (
    "title",
    "amount",
    "currency",
    "expected_close_on",
    "probability",
    "next_step",
    "competitors",
)


@strawberry.type
class OpportunityMutation:
    @strawberry.mutation(
        description="Open an opportunity (at the first OPEN stage unless stage says otherwise).",
        extensions=requires(declarations.WRITE),
    )
    async def create_opportunity(
        self, info: Info, input: CreateOpportunityInput
    ) -> CreateOpportunityPayload | None:
        async def work(session: AsyncSession) -> models.Opportunity:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            values = {
                "contact_id": check.node_id("contactId", input.contact_id, "Contact"),
                "owner_id": check.node_id("ownerId", input.owner_id, "User"),
                "title": input.title,
                "amount": input.amount,
                "currency": input.currency,
                "expected_close_on": input.expected_close_on,
                "stage": input.stage,
                "probability": input.probability,
                "source": input.source.value if input.source else None,
                "next_step": input.next_step,
                "competitors": input.competitors,
            }
            check.done()
            return await service.create_opportunity(session, info.context, customer_id, values)

        return await mutate(info, work, CreateOpportunityPayload.of)

    @strawberry.mutation(
        description="Change an opportunity's fields; fields left out stay as they are (the "
        "stage moves by moveOpportunity).",
        extensions=requires(declarations.WRITE),
    )
    async def update_opportunity(
        self, info: Info, input: UpdateOpportunityInput
    ) -> UpdateOpportunityPayload | None:
        async def work(session: AsyncSession) -> models.Opportunity:
            check = Check()
            opportunity_id = check.node_id("id", input.id, "Opportunity")
            changes = {
                name: getattr(input, name)
                for name in _UPDATABLE
                if getattr(input, name) is not strawberry.UNSET
            }
            if input.owner_id is not strawberry.UNSET:
                changes["owner_id"] = check.node_id("ownerId", input.owner_id, "User")
            if input.contact_id is not strawberry.UNSET:
                changes["contact_id"] = check.node_id("contactId", input.contact_id, "Contact")
            if input.source is not strawberry.UNSET:
                changes["source"] = input.source.value if input.source else None
            check.done()
            return await service.update_opportunity(
                session, info.context, opportunity_id, input.version, changes
            )

        return await mutate(info, work, UpdateOpportunityPayload.of)

    @strawberry.mutation(
        description="Move an open opportunity to another stage. LOST needs lostReason (OTHER "
        "needs lostReasonText, COMPETITOR a competitor named); WON and LOST close it.",
        extensions=requires(declarations.WRITE),
    )
    async def move_opportunity(
        self, info: Info, input: MoveOpportunityInput
    ) -> MoveOpportunityPayload | None:
        async def work(session: AsyncSession) -> models.Opportunity:
            check = Check()
            opportunity_id = check.node_id("id", input.id, "Opportunity")
            check.done()
            return await service.move_opportunity(
                session,
                info.context,
                opportunity_id,
                input.version,
                input.stage,
                input.lost_reason.value if input.lost_reason else None,
                input.lost_reason_text,
                input.competitors,
            )

        return await mutate(info, work, MoveOpportunityPayload.of)

    @strawberry.mutation(
        description="Reopen a won or lost opportunity at an OPEN stage (sales:manage).",
        extensions=requires(declarations.MANAGE),
    )
    async def reopen_opportunity(
        self, info: Info, input: ReopenOpportunityInput
    ) -> ReopenOpportunityPayload | None:
        async def work(session: AsyncSession) -> models.Opportunity:
            check = Check()
            opportunity_id = check.node_id("id", input.id, "Opportunity")
            check.done()
            return await service.reopen_opportunity(
                session, info.context, opportunity_id, input.version, input.stage
            )

        return await mutate(info, work, ReopenOpportunityPayload.of)
