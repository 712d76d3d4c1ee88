"""GraphQL types of the rewards catalogue and coupons: the Reward and Coupon nodes and the
payloads of their mutations. A coupon's code appears only in the payload of the mutation
that issued it (``IssuedCoupon.code``, ``RedeemRewardPayload.code``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import CustomerNode as Customer
from core.plugin_api import ModelNode, RequestContext, UserError, batch_field, related
from plugins.loyalty import models
from plugins.loyalty.inputs.rewards import CouponStatus
from plugins.loyalty.loaders.rewards import (
    CouponByIdLoader,
    CustomerIdByAccountLoader,
    RewardByIdLoader,
)
from plugins.loyalty.service.coupons import ISSUED, Issued


@strawberry.type(description="A reward of the catalogue, bought with points for a coupon.")
class Reward(ModelNode[models.Reward]):
    by_id_loader = RewardByIdLoader
    id: relay.NodeID[int]
    name: str
    description: str
    points_cost: int = strawberry.field(description="Points a redemption spends.")
    stock: int | None = strawberry.field(description="Coupons left to issue; null: unlimited.")
    valid_from: dt.date | None = strawberry.field(
        description="The first day it may be redeemed (the deployment's calendar)."
    )
    valid_until: dt.date | None = strawberry.field(
        description="The last day it may be redeemed (the deployment's calendar)."
    )
    min_tier: str | None = strawberry.field(
        description="The key of the lowest tier that may redeem it; null: any tier."
    )
    coupon_days: int = strawberry.field(description="Days the coupon it issues stays valid.")
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @classmethod
    def from_model(cls, row: models.Reward) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            points_cost=row.points_cost,
            stock=row.stock,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            min_tier=row.min_tier_key,
            coupon_days=row.coupon_days,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


async def _statuses(context: RequestContext, coupons: Sequence[Coupon]) -> list[CouponStatus]:
    now = context.now()
    return [
        CouponStatus.EXPIRED
        if coupon.stored_status == ISSUED and coupon.expires_at <= now
        else CouponStatus(coupon.stored_status)
        for coupon in coupons
    ]


async def _customers(context: RequestContext, coupons: Sequence[Coupon]) -> list[Customer | None]:
    account_ids = [coupon.account_id for coupon in coupons if coupon.account_id is not None]
    customer_ids = await context.loader(CustomerIdByAccountLoader).load_level(account_ids)
    by_account = dict(zip(account_ids, customer_ids, strict=True))
    return await Customer.load_many(
        context,
        [
            by_account[coupon.account_id] if coupon.account_id is not None else None
            for coupon in coupons
        ],
    )


@strawberry.type(
    description="A single-use coupon, issued by redeeming a reward or for a campaign. Its "
    "code is never shown again after it was issued: codeHint helps to recognise it."
)
class Coupon(ModelNode[models.Coupon]):
    by_id_loader = CouponByIdLoader
    id: relay.NodeID[int]
    code_hint: str = strawberry.field(description="The code's last four characters.")
    campaign: str | None
    description: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    used_reference: str | None = strawberry.field(description="What it was used for.")
    version: int
    stored_status: strawberry.Private[str]
    account_id: strawberry.Private[int | None]
    reward_id: strawberry.Private[int | None]
    status: CouponStatus = batch_field(
        _statuses, description="EXPIRED: issued, never used, and now past expiresAt."
    )
    reward: Reward | None = batch_field(
        related(Reward, "reward_id"),
        description="The reward it was bought with; null for a campaign's.",
    )
    customer: Customer | None = batch_field(
        _customers,
        description="The member it was issued to; null for a campaign coupon for nobody in "
        "particular, or when the customer is hidden from you.",
    )

    @classmethod
    def from_model(cls, row: models.Coupon) -> Self:
        return cls(
            id=row.id,
            code_hint=row.code_hint,
            campaign=row.campaign,
            description=row.description,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            used_reference=row.used_reference,
            version=row.version,
            stored_status=row.status,
            account_id=row.account_id,
            reward_id=row.reward_id,
        )


@strawberry.type
class RewardPayload:
    reward: Reward | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Reward | None, errors: list[UserError]) -> Self:
        return cls(reward=Reward.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateRewardPayload(RewardPayload):
    pass


@strawberry.type
class UpdateRewardPayload(RewardPayload):
    pass


@strawberry.type
class DeleteRewardPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the reward removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Reward | None, errors: list[UserError]) -> Self:
        deleted = relay.GlobalID("Reward", str(row.id)) if row is not None and not errors else None
        return cls(deleted_id=deleted, errors=errors)


@strawberry.type(description="A coupon just issued, with its code: shown this once only.")
class IssuedCoupon:
    code: str = strawberry.field(description="The code to give the customer; never shown again.")
    coupon: Coupon


@strawberry.type
class RedeemRewardPayload:
    coupon: Coupon | None
    code: str | None = strawberry.field(
        description="The coupon's code: shown here once and never again."
    )
    balance: int | None = strawberry.field(description="The member's points left.")
    errors: list[UserError]

    @classmethod
    def of(cls, result: Any, errors: list[UserError]) -> Self:
        if result is None:
            return cls(coupon=None, code=None, balance=None, errors=errors)
        return cls(
            coupon=Coupon.from_model(result.coupon.coupon),
            code=result.coupon.code,
            balance=result.balance,
            errors=errors,
        )


@strawberry.type
class IssueCouponsPayload:
    coupons: list[IssuedCoupon]
    errors: list[UserError]

    @classmethod
    def of(cls, result: list[Issued] | None, errors: list[UserError]) -> Self:
        issued = [
            IssuedCoupon(code=item.code, coupon=Coupon.from_model(item.coupon))
            for item in result or []
        ]
        return cls(coupons=issued, errors=errors)


@strawberry.type
class CouponPayload:
    coupon: Coupon | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Coupon | None, errors: list[UserError]) -> Self:
        return cls(coupon=Coupon.from_model(row) if row else None, errors=errors)


@strawberry.type
class RedeemCouponPayload(CouponPayload):
    pass


@strawberry.type
class CancelCouponPayload(CouponPayload):
    pass


NODES: list[type[Any]] = [Reward, Coupon]
"""Node types of this module (for ``node(id:)``)."""
