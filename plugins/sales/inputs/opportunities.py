"""GraphQL inputs and enums of opportunities."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import DateTimeRange, OrderDirection


@strawberry.enum(description="Where an opportunity came from.")
class LeadSource(enum.Enum):
    REFERRAL = "REFERRAL"
    WEBSITE = "WEBSITE"
    TRADE_SHOW = "TRADE_SHOW"
    CAMPAIGN = "CAMPAIGN"
    COLD_CALL = "COLD_CALL"
    PARTNER = "PARTNER"
    EXISTING_CUSTOMER = "EXISTING_CUSTOMER"
    OTHER = "OTHER"


@strawberry.enum(description="Why an opportunity was lost.")
class LostReason(enum.Enum):
    PRICE = "PRICE"
    PRODUCT_FIT = "PRODUCT_FIT"
    COMPETITOR = "COMPETITOR"
    TIMING = "TIMING"
    NO_DECISION = "NO_DECISION"
    OTHER = "OTHER"


@strawberry.input(description="Days from `from` to `to`, both included; either may be left out.")
class ExpectedCloseRange:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.input
class OpportunityFilter:
    search: str | None = strawberry.field(default=None, description="Part of number or title.")
    stage: list[str] | None = strawberry.field(default=None, description="Stage keys.")
    open: bool | None = strawberry.field(
        default=None, description="true: not yet won or lost; false: won or lost."
    )
    owner_id: relay.GlobalID | None = None
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Owned by a member of this team."
    )
    customer_id: relay.GlobalID | None = None
    source: list[LeadSource] | None = None
    expected_close: ExpectedCloseRange | None = None
    closed: DateTimeRange | None = strawberry.field(default=None, description="Won or lost then.")


@strawberry.enum(
    description="What an opportunity list sorts by. EXPECTED_CLOSE and CLOSED_AT can be "
    "empty: those sort last ascending, first descending."
)
class OpportunityOrderField(enum.Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    NUMBER = "NUMBER"
    AMOUNT = "AMOUNT"
    EXPECTED_CLOSE = "EXPECTED_CLOSE"
    CLOSED_AT = "CLOSED_AT"


@strawberry.input(description="One entry of an opportunity list's orderBy.")
class OpportunityOrder:
    field: OpportunityOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateOpportunityInput:
    customer_id: relay.GlobalID
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A contact of the customer."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An active user; null: you."
    )
    title: str
    amount: decimal.Decimal
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; null: the deployment's main currency."
    )
    expected_close_on: dt.date | None = None
    stage: str | None = strawberry.field(
        default=None, description="An active OPEN stage's key; null: the first one."
    )
    probability: int | None = strawberry.field(
        default=None, description="Overrides the stage's win probability (0-100)."
    )
    source: LeadSource | None = None
    next_step: str | None = None
    competitors: list[str] = strawberry.field(
        default_factory=list, description="Names of the competitors involved."
    )


@strawberry.input(
    description="Fields left out stay as they are; the stage moves by moveOpportunity."
)
class UpdateOpportunityInput:
    id: relay.GlobalID
    version: int
    contact_id: relay.GlobalID | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    amount: decimal.Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    expected_close_on: dt.date | None = strawberry.UNSET
    probability: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: back to the stage's default."
    )
    source: LeadSource | None = strawberry.UNSET
    next_step: str | None = strawberry.UNSET
    competitors: list[str] | None = strawberry.UNSET


@strawberry.input
class MoveOpportunityInput:
    id: relay.GlobalID
    version: int
    stage: str = strawberry.field(description="The key of the stage to move to.")
    lost_reason: LostReason | None = strawberry.field(
        default=None, description="Required to move to LOST."
    )
    lost_reason_text: str | None = strawberry.field(
        default=None, description="Required with lostReason OTHER."
    )
    competitors: list[str] | None = strawberry.field(
        default=None,
        description="Replaces the competitors named (lostReason COMPETITOR needs at least one).",
    )


@strawberry.input
class ReopenOpportunityInput:
    id: relay.GlobalID
    version: int
    stage: str = strawberry.field(description="The key of the OPEN stage to reopen it at.")
