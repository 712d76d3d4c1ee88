"""GraphQL inputs of customers' competitor links."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay


@strawberry.input(description="Which customers' competitor links to list.")
class CustomerCompetitorFilter:
    customer_id: relay.GlobalID | None = None
    competitor_id: relay.GlobalID | None = None
    current: bool | None = strawberry.field(
        default=None, description="true: links not ended; false: ended ones; null: both."
    )
    ending_within_days: int | None = strawberry.field(
        default=None,
        description="Only current links whose contract ends from today to this many days "
        "ahead (0 to 3660; today is the deployment's calendar day).",
    )


@strawberry.input
class AddCustomerCompetitorInput:
    customer_id: relay.GlobalID
    competitor_id: relay.GlobalID
    product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The competitor's product the customer uses (one of theirs)."
    )
    since: dt.date | None = strawberry.field(
        default=None, description="Since when the customer uses it."
    )
    contract_ends_on: dt.date | None = strawberry.field(
        default=None,
        description="When the customer's contract with the competitor ends (not before "
        "since); the customer's owner is reminded before.",
    )
    notes: str | None = None


@strawberry.input(description="Fields left out stay as they are.")
class UpdateCustomerCompetitorInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    product_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    since: dt.date | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    contract_ends_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="null clears; a new date is reminded of again.",
    )
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")


@strawberry.input
class EndCustomerCompetitorInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    on: dt.date | None = strawberry.field(
        default=None,
        description="The day the customer stopped using it (not in the future, not before "
        "since); today when left out.",
    )


@strawberry.input
class RemoveCustomerCompetitorInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
