"""GraphQL inputs of the rewards catalogue and coupons."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection


@strawberry.enum(description="Where a coupon stands.")
class CouponStatus(enum.Enum):
    ISSUED = "ISSUED"
    """Issued and still usable."""
    USED = "USED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    """Issued, never used, and past its expiresAt (read from the clock)."""


@strawberry.input
class RewardFilter:
    active: bool | None = None
    available_to: relay.GlobalID | None = strawberry.field(
        default=None,
        description="A customer (Customer id): only the rewards they may redeem today: active, "
        "within their dates, in stock, and their tier reaching the reward's minimum tier.",
    )


@strawberry.enum(description="What a reward list sorts by.")
class RewardOrderField(enum.Enum):
    NAME = "NAME"
    POINTS_COST = "POINTS_COST"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of a reward list's orderBy.")
class RewardOrder:
    field: RewardOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CouponFilter:
    customer_id: relay.GlobalID | None = None
    status: list[CouponStatus] | None = None
    campaign: str | None = strawberry.field(default=None, description="Exactly this campaign.")


@strawberry.enum(description="What a coupon list sorts by.")
class CouponOrderField(enum.Enum):
    ISSUED_AT = "ISSUED_AT"
    EXPIRES_AT = "EXPIRES_AT"


@strawberry.input(description="One entry of a coupon list's orderBy.")
class CouponOrder:
    field: CouponOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateRewardInput:
    name: str
    description: str = ""
    points_cost: int = strawberry.field(description="Points a redemption spends; more than 0.")
    stock: int | None = strawberry.field(
        default=None, description="Coupons left to issue; null: unlimited."
    )
    valid_from: dt.date | None = strawberry.field(
        default=None, description="The first day it may be redeemed (the deployment's calendar)."
    )
    valid_until: dt.date | None = strawberry.field(
        default=None, description="The last day it may be redeemed (the deployment's calendar)."
    )
    min_tier: str | None = strawberry.field(
        default=None, description="The key of the lowest tier that may redeem it; null: any."
    )
    coupon_days: int = strawberry.field(
        default=90, description="Days the coupon a redemption issues stays valid (1-3650)."
    )
    active: bool = True


@strawberry.input(description="Fields left out stay as they are.")
class UpdateRewardInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    points_cost: int | None = strawberry.UNSET
    stock: int | None = strawberry.field(default=strawberry.UNSET, description="null: unlimited.")
    valid_from: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    valid_until: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    min_tier: str | None = strawberry.field(default=strawberry.UNSET, description="null: any tier.")
    coupon_days: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class DeleteRewardInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")


@strawberry.input
class RedeemRewardInput:
    customer_id: relay.GlobalID
    reward_id: relay.GlobalID


@strawberry.input(
    description="Give customerIds (one coupon each) or count (coupons for nobody "
    "in particular), not both."
)
class IssueCouponsInput:
    customer_ids: list[relay.GlobalID] | None = None
    count: int | None = strawberry.field(default=None, description="1-500.")
    campaign: str
    description: str = ""
    valid_days: int = strawberry.field(description="Days the coupons stay valid (1-3650).")


@strawberry.input
class RedeemCouponInput:
    code: str = strawberry.field(
        description="The coupon's code as printed (case, spaces and dashes do not matter)."
    )
    reference: str | None = strawberry.field(
        default=None, description="What it was used for (a receipt number), up to 100 characters."
    )


@strawberry.input
class CancelCouponInput:
    id: relay.GlobalID
    reason: str | None = None
