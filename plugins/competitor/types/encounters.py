"""GraphQL types of win/loss: the CompetitorEncounter node, the payloads of its mutations,
and a competitor's win/loss figures (``competitorStats``, ``Competitor.winLoss``)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    CustomerNode,
    ModelNode,
    Money,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    global_id,
    related,
)
from plugins.competitor import models
from plugins.competitor.enums import EncounterOutcome, EncounterReason, EncounterSource
from plugins.competitor.loaders.encounters import EncounterByIdLoader
from plugins.competitor.service.stats import CompetitorFigures, QuarterFigures

if TYPE_CHECKING:
    from plugins.competitor.types.profiles import Competitor

LazyCompetitor = Annotated["Competitor", strawberry.lazy("plugins.competitor.types.profiles")]


def percent(value: decimal.Decimal | None) -> float | None:
    """A rate kept as a decimal (one place) as the API shows it."""
    return float(value) if value is not None else None


def _competitor_type() -> type[Competitor]:
    from plugins.competitor.types.profiles import Competitor

    return Competitor


async def _opportunity_ids(
    _context: RequestContext, encounters: Sequence[CompetitorEncounter]
) -> list[strawberry.ID | None]:
    found = [global_id("Opportunity", encounter.opportunity_row_id) for encounter in encounters]
    return [strawberry.ID(gid) if gid is not None else None for gid in found]


@strawberry.type(
    description="A deal met against a competitor and how it ended for us: from a closed "
    "opportunity of the sales plugin (source SALES), or entered by hand (MANUAL)."
)
class CompetitorEncounter(ModelNode[models.Encounter]):
    by_id_loader = EncounterByIdLoader
    id: relay.NodeID[int]
    source: EncounterSource
    outcome: EncounterOutcome
    reason: EncounterReason | None
    reason_text: str | None
    amount: Money | None = strawberry.field(description="The deal's value, when known.")
    occurred_on: dt.date = strawberry.field(
        description="The day it was decided (a close: its day in the deployment's time zone)."
    )
    created_at: dt.datetime
    competitor_id: strawberry.Private[int]
    customer_id: strawberry.Private[int | None]
    owner_id: strawberry.Private[int | None]
    opportunity_row_id: strawberry.Private[int | None]
    opportunity_id: strawberry.ID | None = batch_field(
        _opportunity_ids,
        description="The sales plugin's opportunity (its global id, an `Opportunity` while "
        "the sales plugin is enabled); null for one entered by hand.",
    )
    competitor: LazyCompetitor | None = batch_field(related(_competitor_type, "competitor_id"))
    customer: CustomerNode | None = batch_field(
        related(CustomerNode, "customer_id"),
        description="null when the customer is hidden from you.",
    )
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="The salesperson who worked the deal."
    )

    @classmethod
    def from_model(cls, row: models.Encounter) -> Self:
        amount = None
        if row.amount is not None and row.currency is not None:
            amount = Money.of(row.amount, row.currency)
        return cls(
            id=row.id,
            source=EncounterSource(row.source),
            outcome=EncounterOutcome(row.outcome),
            reason=EncounterReason(row.reason) if row.reason else None,
            reason_text=row.reason_text,
            amount=amount,
            occurred_on=row.occurred_on,
            created_at=row.created_at,
            competitor_id=row.competitor_id,
            customer_id=row.customer_id,
            owner_id=row.owner_id,
            opportunity_row_id=row.opportunity_id,
        )


@strawberry.type
class EncounterPayload:
    encounter: CompetitorEncounter | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Encounter | None, errors: list[UserError]) -> Self:
        return cls(encounter=CompetitorEncounter.from_model(row) if row else None, errors=errors)


@strawberry.type
class RecordEncounterPayload(EncounterPayload):
    pass


@strawberry.type(description="encounter: as it was before it was deleted.")
class DeleteEncounterPayload(EncounterPayload):
    pass


# ------------------------------------------------------------------------------ figures


@strawberry.type(description="A reason deals were lost to a competitor.")
class LossReasonShare:
    reason: EncounterReason
    count: int
    share: float | None = strawberry.field(
        description="Its share of the deals lost, in percent, one place (66.7 means 66.7%)."
    )


@strawberry.type(description="Win/loss against a competitor in one quarter.")
class WinLossQuarter:
    quarter: str = strawberry.field(description="The quarter's label, e.g. `2026-Q3`.")
    met: int
    won: int
    lost: int
    win_rate: float | None = strawberry.field(
        description="won / (won + lost) in percent, one place; null with none."
    )

    @classmethod
    def of(cls, figures: QuarterFigures) -> WinLossQuarter:
        return cls(
            quarter=figures.quarter,
            met=figures.met,
            won=figures.won,
            lost=figures.lost,
            win_rate=percent(figures.win_rate),
        )


@strawberry.type(
    description="Deals met against a competitor (the encounters you may see), won and lost."
)
class CompetitorStats:
    met: int = strawberry.field(description="Deals met against it.")
    won: int
    lost: int
    win_rate: float | None = strawberry.field(
        description="won / (won + lost) in percent, one place (66.7 means 66.7%); null with none."
    )
    won_amount: list[Money] = strawberry.field(description="The deals won, per currency.")
    lost_amount: list[Money] = strawberry.field(description="The deals lost, per currency.")
    loss_reasons: list[LossReasonShare] = strawberry.field(
        description="Why deals were lost, the most common first (ties by reason)."
    )
    quarters: list[WinLossQuarter] = strawberry.field(
        description="By quarter of the day they occurred, in order, from the first with an "
        "encounter to the last (a quarter without any in between shows zeros)."
    )
    competitor_id: strawberry.Private[int]
    competitor: LazyCompetitor | None = batch_field(related(_competitor_type, "competitor_id"))

    @classmethod
    def of(cls, figures: CompetitorFigures) -> CompetitorStats:
        return cls(
            met=figures.met,
            won=figures.won,
            lost=figures.lost,
            win_rate=percent(figures.win_rate),
            won_amount=figures.won_amounts,
            lost_amount=figures.lost_amounts,
            loss_reasons=[
                LossReasonShare(
                    reason=EncounterReason(reason),
                    count=count,
                    share=percent(figures.reason_share(count)),
                )
                for reason, count in figures.loss_reasons
            ],
            quarters=[WinLossQuarter.of(quarter) for quarter in figures.quarters],
            competitor_id=figures.competitor_id,
        )


NODES: list[type[Any]] = [CompetitorEncounter]
"""Node types of this module (for ``node(id:)``)."""
