"""GraphQL types of the programme: its settings, its tiers and their payloads."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import ModelNode, RequestContext, UserError, batch_field
from plugins.loyalty import models
from plugins.loyalty.loaders.programme import TierByIdLoader, TiersLoader


@strawberry.enum(description="How fractional points round when earned.")
class LoyaltyRounding(enum.Enum):
    DOWN = "DOWN"
    HALF_UP = "HALF_UP"
    UP = "UP"


@strawberry.type(description="A tier of the programme, held on points earned in 12 months.")
class LoyaltyTier(ModelNode[models.Tier]):
    by_id_loader = TierByIdLoader
    id: relay.NodeID[int]
    key: str = strawberry.field(description="STANDARD, SILVER, GOLD or a key of your own.")
    name: str
    threshold: int = strawberry.field(
        description="Points earned in the rolling last 12 months from which a member holds it."
    )
    multiplier: decimal.Decimal = strawberry.field(
        description="Earn multiplier: points earned are multiplied by it (1 to 10)."
    )
    benefits: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@strawberry.type(description="Points earned per unit of spend in one currency.")
class EarnRate:
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")
    points_per_unit: decimal.Decimal


async def _tiers(
    context: RequestContext, programmes: Sequence[LoyaltyProgramme], include_inactive: bool = False
) -> list[list[LoyaltyTier]]:
    rows = await context.loader(TiersLoader).load(include_inactive)
    return [[LoyaltyTier.from_model(row) for row in rows] for _programme in programmes]


@strawberry.type(description="The loyalty programme's settings.")
class LoyaltyProgramme:
    earn_rates: list[EarnRate] = strawberry.field(
        description="A currency without a rate earns nothing."
    )
    rounding: LoyaltyRounding
    expiry_months: int | None = strawberry.field(
        description="Earned points expire this many months later; null: never."
    )
    downgrade_grace_days: int = strawberry.field(
        description="Days a member keeps a tier after falling below its threshold."
    )
    tier_sets_grade: bool = strawberry.field(
        description="A tier change sets the customer's grade (STANDARD, SILVER, GOLD)."
    )
    auto_enrol: bool = strawberry.field(description="A customer's first order enrols them.")
    birthday_bonus: int = strawberry.field(description="Points in the birthday month; 0: off.")
    first_order_bonus: int = strawberry.field(description="Points on a first order; 0: off.")
    survey_bonus: int = strawberry.field(description="Points for an answered survey; 0: off.")
    expiry_notice_days: int = strawberry.field(
        description="Days before points expire that the customer's contact is told; 0: never."
    )
    updated_at: dt.datetime
    version: int
    tiers: list[LoyaltyTier] = batch_field(
        _tiers, description="The tiers from the lowest threshold up."
    )

    @classmethod
    def from_model(cls, row: models.Programme) -> Self:
        return cls(
            earn_rates=[
                EarnRate(currency=code, points_per_unit=decimal.Decimal(rate))
                for code, rate in sorted(row.earn_rates.items())
            ],
            rounding=LoyaltyRounding(row.rounding),
            expiry_months=row.expiry_months,
            downgrade_grace_days=row.downgrade_grace_days,
            tier_sets_grade=row.tier_sets_grade,
            auto_enrol=row.auto_enrol,
            birthday_bonus=row.birthday_bonus,
            first_order_bonus=row.first_order_bonus,
            survey_bonus=row.survey_bonus,
            expiry_notice_days=row.expiry_notice_days,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class UpdateLoyaltyProgrammePayload:
    programme: LoyaltyProgramme | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Programme | None, errors: list[UserError]) -> Self:
        return cls(programme=LoyaltyProgramme.from_model(row) if row else None, errors=errors)


@strawberry.type
class LoyaltyTierPayload:
    tier: LoyaltyTier | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Tier | None, errors: list[UserError]) -> Self:
        return cls(tier=LoyaltyTier.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateLoyaltyTierPayload(LoyaltyTierPayload):
    pass


@strawberry.type
class UpdateLoyaltyTierPayload(LoyaltyTierPayload):
    pass


NODES: list[type[Any]] = [LoyaltyTier]
"""Node types of this module (for ``node(id:)``)."""
