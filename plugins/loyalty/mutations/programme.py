"""Mutations of the programme and its tiers (``loyalty:manage``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.loyalty import declarations, models
from plugins.loyalty.inputs.programme import (
    CreateLoyaltyTierInput,
    UpdateLoyaltyProgrammeInput,
    UpdateLoyaltyTierInput,
)
from plugins.loyalty.service import programme as service
from plugins.loyalty.types.programme import (
    CreateLoyaltyTierPayload,
    UpdateLoyaltyProgrammePayload,
    UpdateLoyaltyTierPayload,
)

PROGRAMME_FIELDS = (
    "earn_rates",
    "rounding",
    "expiry_months",
    "downgrade_grace_days",
    "tier_sets_grade",
    "auto_enrol",
    "birthday_bonus",
    "first_order_bonus",
    "survey_bonus",
    "expiry_notice_days",
)
TIER_FIELDS = ("name", "threshold", "multiplier", "benefits", "active")


def _given(input: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {
        name: getattr(input, name) for name in names if getattr(input, name) is not strawberry.UNSET
    }


@strawberry.type
class ProgrammeMutation:
    @strawberry.mutation(
        description="Change the programme's settings; fields left out stay as they are.",
        extensions=requires(declarations.MANAGE),
    )
    async def update_loyalty_programme(
        self, info: Info, input: UpdateLoyaltyProgrammeInput
    ) -> UpdateLoyaltyProgrammePayload | None:
        async def work(session: AsyncSession) -> models.Programme:
            changes = _given(input, PROGRAMME_FIELDS)
            if changes.get("earn_rates") is not None:
                changes["earn_rates"] = [
                    (rate.currency, rate.points_per_unit) for rate in changes["earn_rates"]
                ]
            if changes.get("rounding") is not None:
                changes["rounding"] = changes["rounding"].value
            return await service.update_programme(session, info.context, input.version, changes)

        return await mutate(info, work, UpdateLoyaltyProgrammePayload.of)

    @strawberry.mutation(
        description="Add a tier to the programme.", extensions=requires(declarations.MANAGE)
    )
    async def create_loyalty_tier(
        self, info: Info, input: CreateLoyaltyTierInput
    ) -> CreateLoyaltyTierPayload | None:
        async def work(session: AsyncSession) -> models.Tier:
            return await service.create_tier(
                session,
                info.context,
                input.key,
                input.name,
                input.threshold,
                input.multiplier,
                input.benefits,
            )

        return await mutate(info, work, CreateLoyaltyTierPayload.of)

    @strawberry.mutation(
        description="Change a tier; fields left out stay as they are; its key never changes.",
        extensions=requires(declarations.MANAGE),
    )
    async def update_loyalty_tier(
        self, info: Info, input: UpdateLoyaltyTierInput
    ) -> UpdateLoyaltyTierPayload | None:
        async def work(session: AsyncSession) -> models.Tier:
            check = Check()
            tier_id = check.node_id("id", input.id, "LoyaltyTier")
            check.done()
            changes = _given(input, TIER_FIELDS)
            return await service.update_tier(session, info.context, tier_id, input.version, changes)

        return await mutate(info, work, UpdateLoyaltyTierPayload.of)
