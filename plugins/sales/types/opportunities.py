"""GraphQL types of opportunities: the Opportunity node, its stage history, its payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Self

import strawberry
from strawberry import relay

from core.plugin_api import ContactNode as Contact
from core.plugin_api import CustomerNode as Customer
from core.plugin_api import (
    ModelNode,
    Money,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.sales import models
from plugins.sales.inputs.opportunities import LeadSource, LostReason
from plugins.sales.loaders.opportunities import OpportunityByIdLoader, StageChangesLoader
from plugins.sales.loaders.pipeline import StagesLoader
from plugins.sales.types.pipeline import SalesStage


async def _stages(
    context: RequestContext, stage_ids: Sequence[int | None]
) -> list[SalesStage | None]:
    """The stage of each id (``None`` for no id), from the pipeline read once per request."""
    stages = await context.loader(StagesLoader).load(0)
    rows = [stages.get(stage_id) if stage_id is not None else None for stage_id in stage_ids]
    return [SalesStage.from_model(row) if row is not None else None for row in rows]


async def _existing_stages(context: RequestContext, stage_ids: Sequence[int]) -> list[SalesStage]:
    found = await _stages(context, stage_ids)
    stages = []
    for stage in found:
        assert stage is not None  # stages are never deleted
        stages.append(stage)
    return stages


async def _from_stages(
    context: RequestContext, changes: Sequence[StageChange]
) -> list[SalesStage | None]:
    return await _stages(context, [change.from_stage_id for change in changes])


async def _to_stages(context: RequestContext, changes: Sequence[StageChange]) -> list[SalesStage]:
    return await _existing_stages(context, [change.to_stage_id for change in changes])


@strawberry.type(description="One move of an opportunity; its creation is a move from null.")
class StageChange:
    changed_at: dt.datetime
    from_stage_id: strawberry.Private[int | None]
    to_stage_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    from_: SalesStage | None = batch_field(
        _from_stages, name="from", description="The stage it left; null for its creation."
    )
    to: SalesStage = batch_field(_to_stages)
    actor: UserSummary | None = batch_field(
        related(UserSummary, "actor_id"),
        description="Who moved it; null when no user did (or they were removed).",
    )


async def _opportunity_stages(
    context: RequestContext, opportunities: Sequence[Opportunity]
) -> list[SalesStage]:
    return await _existing_stages(context, [opportunity.stage_id for opportunity in opportunities])


async def _probabilities(
    context: RequestContext, opportunities: Sequence[Opportunity]
) -> list[int]:
    stages = await _opportunity_stages(context, opportunities)
    return [
        opportunity.probability_override
        if opportunity.probability_override is not None and opportunity.closed_at is None
        else stage.probability
        for opportunity, stage in zip(opportunities, stages, strict=True)
    ]


async def _stage_histories(
    context: RequestContext, opportunities: Sequence[Opportunity]
) -> list[list[StageChange]]:
    found = await context.loader(StageChangesLoader).load_level(
        [opportunity.id for opportunity in opportunities]
    )
    return [
        [
            StageChange(
                changed_at=row.changed_at,
                from_stage_id=row.from_stage_id,
                to_stage_id=row.to_stage_id,
                actor_id=row.actor_id,
            )
            for row in rows
        ]
        for rows in found
    ]


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
    customer: Customer | None = batch_field(
        related(Customer, "customer_id"), description="null when the customer is hidden from you."
    )
    contact: Contact | None = batch_field(related(Contact, "contact_id"))
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="Who works the opportunity."
    )
    stage: SalesStage = batch_field(_opportunity_stages)
    probability: int = batch_field(
        _probabilities,
        description="Win probability in percent: the override if one was set while open, "
        "else the stage's default (won: the WON stage's, lost: the LOST stage's).",
    )
    stage_history: list[StageChange] = batch_field(
        _stage_histories, description="Every move between stages, oldest first."
    )

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
