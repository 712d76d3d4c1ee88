"""GraphQL inputs of the programme and its tiers."""

from __future__ import annotations

import decimal

import strawberry
from strawberry import relay

from plugins.loyalty.types.programme import LoyaltyRounding


@strawberry.input(description="Points per unit of spend in one currency.")
class EarnRateInput:
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")
    points_per_unit: decimal.Decimal = strawberry.field(description="More than 0.")


@strawberry.input(description="Fields left out stay as they are.")
class UpdateLoyaltyProgrammeInput:
    version: int
    earn_rates: list[EarnRateInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every rate; a currency left out earns nothing.",
    )
    rounding: LoyaltyRounding | None = strawberry.UNSET
    expiry_months: int | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 120; null: points never expire."
    )
    downgrade_grace_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="0 to 365."
    )
    tier_sets_grade: bool | None = strawberry.UNSET
    auto_enrol: bool | None = strawberry.UNSET
    birthday_bonus: int | None = strawberry.field(default=strawberry.UNSET, description=">= 0.")
    first_order_bonus: int | None = strawberry.field(default=strawberry.UNSET, description=">= 0.")
    survey_bonus: int | None = strawberry.field(default=strawberry.UNSET, description=">= 0.")
    expiry_notice_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="0 (never) to 365."
    )


@strawberry.input
class CreateLoyaltyTierInput:
    key: str = strawberry.field(description="Capital letters, digits and _; never changes.")
    name: str
    threshold: int = strawberry.field(
        description="Points earned in 12 months; above every lower tier's, below every higher's."
    )
    multiplier: decimal.Decimal = strawberry.field(
        description="1 to 10, at least the lower tiers', at most the higher tiers'."
    )
    benefits: str = ""


@strawberry.input(description="Fields left out stay as they are.")
class UpdateLoyaltyTierInput:
    id: relay.GlobalID
    version: int
    name: str | None = strawberry.UNSET
    threshold: int | None = strawberry.UNSET
    multiplier: decimal.Decimal | None = strawberry.UNSET
    benefits: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
