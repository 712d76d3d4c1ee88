"""GraphQL inputs of accounts and points: the accounts list's filter and the mutations'
inputs."""

from __future__ import annotations

import decimal

import strawberry
from strawberry import relay


@strawberry.input
class LoyaltyAccountFilter:
    tier: str | None = strawberry.field(default=None, description="A tier key, e.g. GOLD.")
    customer_id: relay.GlobalID | None = None
    min_balance: int | None = strawberry.field(
        default=None, description="Accounts holding at least this many points."
    )


@strawberry.input(description="Enrol a customer in the loyalty programme.")
class EnrolCustomerInput:
    customer_id: relay.GlobalID


@strawberry.input(
    description="Points for a customer from an external system (a shop, a point of sale): "
    "either an amount and its currency (earned at the programme's rate and the member's tier "
    "multiplier) or points. Send an idempotencyKey: the same key twice earns once and "
    "answers the first result."
)
class EarnPointsInput:
    customer_id: relay.GlobalID
    amount: decimal.Decimal | None = strawberry.field(
        default=None, description="The spend, more than 0, up to 4 decimal places."
    )
    currency: str | None = strawberry.field(default=None, description="ISO 4217, e.g. CNY.")
    points: int | None = strawberry.field(default=None, description="Points to give, > 0.")
    reference: str | None = strawberry.field(
        default=None, description="Your reference (a receipt number), up to 100 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Unique per request of one client (user or its API tokens), up to 160 "
        "characters.",
    )


@strawberry.input(description="Add points to a balance or take them away by hand.")
class AdjustPointsInput:
    customer_id: relay.GlobalID
    points: int = strawberry.field(description="Positive adds, negative takes away; not 0.")
    reason: str = strawberry.field(description="Why (required), kept on the ledger.")
