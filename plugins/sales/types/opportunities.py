"""GraphQL types of opportunities: the Opportunity node, its stage history, its payloads."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from core.plugin_api import ContactNode as Contact
from core.plugin_api import CustomerNode as Customer
from core.plugin_api import Info, ModelNode, Money, UserError, UserSummary
from plugins.sales import models
from plugins.sales.inputs.opportunities import LeadSource, LostReason
from plugins.sales.loaders.opportunities import OpportunityByIdLoader, StageChangesLoader
from plugins.sales.loaders.pipeline import StagesLoader
from plugins.sales.types.pipeline import SalesStage


async def _stage(info: Info, stage_id: int | None) -> SalesStage | None:
    if stage_id is None:
        return None
    stages = await info.context.loader(StagesLoader).load(0)
    row = stages.get(stage_id)
    return SalesStage.from_model(row) if row is not None else None


@strawberry.type(description="One move of an opportunity; its creation is a move from null.")
class StageChange:
    changed_at: dt.datetime
    from_stage_id: strawberry.Private[int | None]
    to_stage_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]

    @strawberry.field(name="from", description="The stage it left; null for its creation.")
    async def from_(self, info: Info) -> SalesStage | None:
        return await _stage(info, self.from_stage_id)

    @strawberry.field
    async def to(self, info: Info) -> SalesStage:
        stage = await _stage(info, self.to_stage_id)
        assert stage is not None  # stages are never deleted
        return stage

    @strawberry.field(description="Who moved it; null when no user did (or they were removed).")
    async def actor(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.actor_id)


@strawberry.type(description="A possible sale to a customer, worked through the pipeline.")
class Opportunity(ModelNode[models.Opportunity]):
    by_id_loader = OpportunityByIdLoader
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `O000001`.")
    title: str
    amount: Money
    expected_close_on: dt.date | None
    probability_overridden: bool = strawberry.field(
        description="true: probability was set on the opportunity, not taken from its stage."
    )
    source: LeadSource | None
    next_step: str | None
    competitors: list[str] = strawberry.field(description="Names of the competitors involved.")
    lost_reason: LostReason | None
    lost_reason_text: str | None
    closed_at: dt.datetime | None = strawberry.field(
        description="When it was won or lost; null while open (and after a reopen)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    owner_id: strawberry.Private[int | None]
    stage_id: strawberry.Private[int]
    probability_override: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Opportunity) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            title=row.title,
            amount=Money.of(row.amount, row.currency),
            expected_close_on=row.expected_close_on,
            probability_overridden=row.probability_override is not None,
            source=LeadSource(row.source) if row.source else None,
            next_step=row.next_step,
            competitors=list(row.competitors or []),
            lost_reason=LostReason(row.lost_reason) if row.lost_reason else None,
            lost_reason_text=row.lost_reason_text,
            closed_at=row.closed_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            contact_id=row.contact_id,
            owner_id=row.owner_id,
            stage_id=row.stage_id,
            probability_override=row.probability_override,
        )

    @strawberry.field(description="null when the customer is hidden from you.")
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        return await Contact.load(info, self.contact_id)

    @strawberry.field(description="Who works the opportunity.")
    async def owner(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.owner_id)

    @strawberry.field
    async def stage(self, info: Info) -> SalesStage:
        stage = await _stage(info, self.stage_id)
        assert stage is not None  # stages are never deleted
        return stage

    @strawberry.field(
        description="Win probability in percent: the override if one was set while open, "
        "else the stage's default (won: the WON stage's, lost: the LOST stage's)."
    )
    async def probability(self, info: Info) -> int:
        stage = await _stage(info, self.stage_id)
        assert stage is not None
        if self.probability_override is not None and self.closed_at is None:
            return self.probability_override
        return stage.probability

    @strawberry.field(description="Every move between stages, oldest first.")
    async def stage_history(self, info: Info) -> list[StageChange]:
        rows = await info.context.loader(StageChangesLoader).load(self.id)
        return [
            StageChange(
                changed_at=row.changed_at,
                from_stage_id=row.from_stage_id,
                to_stage_id=row.to_stage_id,
                actor_id=row.actor_id,
            )
            for row in rows
        ]


@strawberry.type
class OpportunityPayload:
    opportunity: Opportunity | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Opportunity | None, errors: list[UserError]) -> Self:
        return cls(opportunity=Opportunity.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateOpportunityPayload(OpportunityPayload):
    pass


@strawberry.type
class UpdateOpportunityPayload(OpportunityPayload):
    pass


@strawberry.type
class MoveOpportunityPayload(OpportunityPayload):
    pass


@strawberry.type
class ReopenOpportunityPayload(OpportunityPayload):
    pass
