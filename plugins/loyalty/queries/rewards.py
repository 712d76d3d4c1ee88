"""Root query fields of the rewards catalogue and coupons (``loyalty:read``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, and_, or_, select

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    argument_id,
    bad_argument,
    requires,
    translator,
)
from plugins.loyalty import declarations, models
from plugins.loyalty.inputs.rewards import (
    CouponFilter,
    CouponOrder,
    CouponOrderField,
    CouponStatus,
    RewardFilter,
    RewardOrder,
    RewardOrderField,
)
from plugins.loyalty.service import coupons
from plugins.loyalty.service.rewards import thresholds, today
from plugins.loyalty.types.rewards import Coupon, Reward

_ = translator(__name__)

REWARD_ORDER = ListOrder(
    {
        RewardOrderField.NAME: models.Reward.name,
        RewardOrderField.POINTS_COST: models.Reward.points_cost,
        RewardOrderField.CREATED_AT: models.Reward.created_at,
    },
    models.Reward.id,
    default=[(RewardOrderField.NAME, False)],
)
COUPON_ORDER = ListOrder(
    {
        CouponOrderField.ISSUED_AT: models.Coupon.issued_at,
        CouponOrderField.EXPIRES_AT: models.Coupon.expires_at,
    },
    models.Coupon.id,
    default=[(CouponOrderField.ISSUED_AT, True)],
)


async def reward_statement(info: Info, filter: RewardFilter | None) -> Select[Any]:
    r = models.Reward
    statement = select(r)
    if filter is None:
        return statement
    if filter.active is not None:
        statement = statement.where(r.active.is_(filter.active))
    customer_id = argument_id(filter.available_to, "Customer", "filter.availableTo")
    if customer_id is None:
        return statement
    context = info.context
    async with context.db.read() as session:
        account = await session.scalar(
            select(models.Account).where(
                models.Account.customer_id == customer_id, declarations.visible(context)
            )
        )
        order = await thresholds(session)
    if account is None:
        raise bad_argument("filter.availableTo", _("is not a loyalty member that you may see"))
    day = today(context)
    reachable = [
        key for key, threshold in order.items() if threshold <= order.get(account.tier_key, 0)
    ]
    return statement.where(
        r.active.is_(True),
        or_(r.valid_from.is_(None), r.valid_from <= day),
        or_(r.valid_until.is_(None), r.valid_until >= day),
        or_(r.stock.is_(None), r.stock > 0),
        or_(r.min_tier_key.is_(None), r.min_tier_key.in_(reachable)),
    )


def coupon_statement(info: Info, filter: CouponFilter | None) -> Select[Any]:
    c = models.Coupon
    statement = select(c).where(coupons.visible(info.context))
    if filter is None:
        return statement
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(
            c.account_id.in_(
                select(models.Account.id).where(models.Account.customer_id == customer_id)
            )
        )
    campaign = (filter.campaign or "").strip()
    if campaign:
        statement = statement.where(c.campaign == campaign)
    if filter.status:
        now = info.context.now()
        wanted = []
        for status in set(filter.status):
            if status is CouponStatus.ISSUED:
                wanted.append(and_(c.status == coupons.ISSUED, c.expires_at > now))
            elif status is CouponStatus.EXPIRED:
                wanted.append(and_(c.status == coupons.ISSUED, c.expires_at <= now))
            else:
                wanted.append(c.status == status.value)
        statement = statement.where(or_(*wanted))
    return statement


@strawberry.type
class RewardQuery:
    @strawberry.field(
        description="The rewards catalogue, by name unless orderBy says otherwise.",
        extensions=requires(declarations.READ),
    )
    async def rewards(
        self,
        info: Info,
        filter: RewardFilter | None = None,
        order_by: Annotated[
            list[RewardOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Reward] | None:
        return await info.context.page(
            await reward_statement(info, filter),
            keys=REWARD_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Reward.from_model,
        )

    @strawberry.field(
        description="Coupons of the members you may see (and, with loyalty:read on all, "
        "campaign coupons for nobody in particular), latest first unless orderBy says "
        "otherwise.",
        extensions=requires(declarations.READ),
    )
    async def coupons(
        self,
        info: Info,
        filter: CouponFilter | None = None,
        order_by: Annotated[
            list[CouponOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Coupon] | None:
        return await info.context.page(
            coupon_statement(info, filter),
            keys=COUPON_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Coupon.from_model,
        )
