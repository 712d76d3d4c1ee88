"""Root mutation fields of rewards and coupons: each takes one input, runs in one
transaction and answers with a payload."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.loyalty import declarations, models
from plugins.loyalty.inputs.rewards import (
    CancelCouponInput,
    CreateRewardInput,
    DeleteRewardInput,
    IssueCouponsInput,
    RedeemCouponInput,
    RedeemRewardInput,
    UpdateRewardInput,
)
from plugins.loyalty.service import coupons
from plugins.loyalty.service import rewards as service
from plugins.loyalty.types.rewards import (
    CancelCouponPayload,
    CreateRewardPayload,
    DeleteRewardPayload,
    IssueCouponsPayload,
    RedeemCouponPayload,
    RedeemRewardPayload,
    UpdateRewardPayload,
)

MANAGE = requires(declarations.MANAGE)
WRITE = requires(declarations.WRITE)
REWARD_FIELDS = (
    "name",
    "description",
    "points_cost",
    "stock",
    "valid_from",
    "valid_until",
    "min_tier",
    "coupon_days",
    "active",
)


@strawberry.type
class RewardMutation:
    @strawberry.mutation(description="Add a reward to the catalogue.", extensions=MANAGE)
    async def create_reward(
        self, info: Info, input: CreateRewardInput
    ) -> CreateRewardPayload | None:
        async def work(session: AsyncSession) -> models.Reward:
            values = {name: getattr(input, name) for name in REWARD_FIELDS}
            return await service.create_reward(session, info.context, values)

        return await mutate(info, work, CreateRewardPayload.of)

    @strawberry.mutation(
        description="Change a reward; fields left out stay as they are.", extensions=MANAGE
    )
    async def update_reward(
        self, info: Info, input: UpdateRewardInput
    ) -> UpdateRewardPayload | None:
        async def work(session: AsyncSession) -> models.Reward:
            check = Check()
            reward_id = check.node_id("id", input.id, "Reward")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in REWARD_FIELDS
                if getattr(input, name) is not strawberry.UNSET
            }
            return await service.update_reward(
                session, info.context, reward_id, input.version, changes
            )

        return await mutate(info, work, UpdateRewardPayload.of)

    @strawberry.mutation(
        description="Remove a reward no coupon was ever issued for (make one with coupons "
        "inactive instead).",
        extensions=MANAGE,
    )
    async def delete_reward(
        self, info: Info, input: DeleteRewardInput
    ) -> DeleteRewardPayload | None:
        async def work(session: AsyncSession) -> models.Reward:
            check = Check()
            reward_id = check.node_id("id", input.id, "Reward")
            check.done()
            return await service.delete_reward(session, info.context, reward_id, input.version)

        return await mutate(info, work, DeleteRewardPayload.of)

    @strawberry.mutation(
        description="Spend a member's points on a reward: one from its stock, a REDEEM entry "
        "and a coupon whose code the payload shows once.",
        extensions=WRITE,
    )
    async def redeem_reward(
        self, info: Info, input: RedeemRewardInput
    ) -> RedeemRewardPayload | None:
        async def work(session: AsyncSession) -> service.Redemption:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            reward_id = check.node_id("rewardId", input.reward_id, "Reward")
            check.done()
            return await service.redeem_reward(session, info.context, customer_id, reward_id)

        return await mutate(info, work, RedeemRewardPayload.of)

    @strawberry.mutation(
        description="Issue campaign coupons: one to each member named, or count for nobody in "
        "particular. The payload shows their codes once.",
        extensions=MANAGE,
    )
    async def issue_coupons(
        self, info: Info, input: IssueCouponsInput
    ) -> IssueCouponsPayload | None:
        async def work(session: AsyncSession) -> list[coupons.Issued]:
            check = Check()
            customer_ids = (
                check.node_ids("customerIds", input.customer_ids, "Customer")
                if input.customer_ids is not None
                else None
            )
            return await coupons.issue_coupons(
                session,
                info.context,
                check,
                customer_ids,
                input.count,
                input.campaign,
                input.description,
                input.valid_days,
            )

        return await mutate(info, work, IssueCouponsPayload.of)

    @strawberry.mutation(
        description="Use a coupon by its code, once: a used, cancelled or expired coupon is "
        "refused (naming code, and when it was used).",
        extensions=WRITE,
    )
    async def redeem_coupon(
        self, info: Info, input: RedeemCouponInput
    ) -> RedeemCouponPayload | None:
        async def work(session: AsyncSession) -> models.Coupon:
            return await coupons.redeem_coupon(session, info.context, input.code, input.reference)

        return await mutate(info, work, RedeemCouponPayload.of)

    @strawberry.mutation(
        description="Cancel an unused coupon; a reward's coupon gives its points and its stock "
        "back.",
        extensions=MANAGE,
    )
    async def cancel_coupon(
        self, info: Info, input: CancelCouponInput
    ) -> CancelCouponPayload | None:
        async def work(session: AsyncSession) -> models.Coupon:
            check = Check()
            coupon_id = check.node_id("id", input.id, "Coupon")
            check.done()
            return await coupons.cancel_coupon(session, info.context, coupon_id, input.reason)

        return await mutate(info, work, CancelCouponPayload.of)
