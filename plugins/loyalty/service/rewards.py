"""The rewards catalogue (``loyalty:manage``) and redeeming a reward (``loyalty:write``).

Redeeming locks the member's account first (:func:`.ledger.lock`, the one lock order every
writer keeps), then checks the reward (active, within its dates in the deployment's
calendar, the member's tier reaching its minimum tier by threshold), takes one from its
stock with a conditional UPDATE (``stock > 0``) so concurrent redemptions never oversell,
spends the points (a REDEEM entry, source REWARD) and issues a coupon whose code the payload
shows once. Every change is audited (``loyalty.reward.<verb>``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.loyalty import declarations
from plugins.loyalty.models import Coupon, Reward, Tier
from plugins.loyalty.service import coupons, ledger

_ = translator(__name__)

MAX_POINTS_COST = ledger.MAX_POINTS
MAX_STOCK = 1_000_000_000
MAX_COUPON_DAYS = coupons.MAX_VALID_DAYS


def snapshot(row: Reward) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "pointsCost": row.points_cost,
        "stock": row.stock,
        "validFrom": row.valid_from,
        "validUntil": row.valid_until,
        "minTier": row.min_tier_key,
        "couponDays": row.coupon_days,
        "active": row.active,
    }


def today(context: RequestContext) -> dt.date:
    """The deployment's calendar day now (``CRM_TIME_ZONE``), whoever asks."""
    return context.now().astimezone(context.settings.zone).date()


async def thresholds(session: AsyncSession) -> dict[str, int]:
    """Each tier's key -> its threshold (the order of tiers)."""
    rows = (await session.execute(select(Tier.key, Tier.threshold))).all()
    return {row.key: row.threshold for row in rows}


async def _check_tier(session: AsyncSession, check: Check, value: str | None) -> str | None:
    key = (value or "").strip().upper()
    if not key:
        return None
    if key not in await thresholds(session):
        check.fail("minTier", _("no tier has the key {key}", key=key), UserErrorCode.INVALID)
        return None
    return key


def _check_int(check: Check, field: str, value: int | None, low: int, high: int) -> None:
    if value is None:
        check.fail(field, _("cannot be null"), UserErrorCode.REQUIRED)
    elif not low <= value <= high:
        check.fail(
            field,
            _("must be from {low} to {high}", low=low, high=high),
            UserErrorCode.OUT_OF_RANGE,
        )


def _check_dates(check: Check, valid_from: dt.date | None, valid_until: dt.date | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        check.fail("validUntil", _("must not be before validFrom"), UserErrorCode.OUT_OF_RANGE)


def _record(
    context: RequestContext,
    session: AsyncSession,
    verb: str,
    row: Reward,
    before: dict[str, Any] | None,
) -> None:
    after = snapshot(row)
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(session, actor_of(context), f"loyalty.reward.{verb}", "Reward", row.id, changes)


async def create_reward(
    session: AsyncSession, context: RequestContext, values: Mapping[str, Any]
) -> Reward:
    """A new reward; ``values`` holds every field of CreateRewardInput (snake case)."""
    require(context, declarations.MANAGE)
    check = Check()
    name = check.text("name", values["name"], max_length=200)
    description = check.text("description", values["description"], max_length=2000, required=False)
    _check_int(check, "pointsCost", values["points_cost"], 1, MAX_POINTS_COST)
    if values["stock"] is not None:
        _check_int(check, "stock", values["stock"], 0, MAX_STOCK)
    _check_int(check, "couponDays", values["coupon_days"], 1, MAX_COUPON_DAYS)
    _check_dates(check, values["valid_from"], values["valid_until"])
    min_tier = await _check_tier(session, check, values["min_tier"])
    check.done()
    assert name is not None
    now = context.now()
    row = Reward(
        name=name,
        description=description or "",
        points_cost=values["points_cost"],
        stock=values["stock"],
        valid_from=values["valid_from"],
        valid_until=values["valid_until"],
        min_tier_key=min_tier,
        coupon_days=values["coupon_days"],
        active=bool(values["active"]),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    _record(context, session, "created", row, None)
    return row


async def update_reward(
    session: AsyncSession,
    context: RequestContext,
    reward_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Reward:
    """Change the fields named in ``changes`` (snake case); a stale version is a CONFLICT."""
    require(context, declarations.MANAGE)
    row = None
    if reward_id is not None:
        row = await session.scalar(
            select(Reward)
            .where(Reward.id == reward_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if row is None:
        raise not_found("input.id", _("no reward with this id"))
    require_version(row, version)
    before = snapshot(row)
    check = Check()
    new: dict[str, Any] = {}
    if "name" in changes:
        new["name"] = check.text("name", changes["name"], max_length=200)
    if "description" in changes:
        text = check.text("description", changes["description"], max_length=2000, required=False)
        new["description"] = text or ""
    if "points_cost" in changes:
        _check_int(check, "pointsCost", changes["points_cost"], 1, MAX_POINTS_COST)
        new["points_cost"] = changes["points_cost"]
    if "stock" in changes:
        if changes["stock"] is not None:
            _check_int(check, "stock", changes["stock"], 0, MAX_STOCK)
        new["stock"] = changes["stock"]
    if "coupon_days" in changes:
        _check_int(check, "couponDays", changes["coupon_days"], 1, MAX_COUPON_DAYS)
        new["coupon_days"] = changes["coupon_days"]
    if "active" in changes:
        if changes["active"] is None:
            check.fail("active", _("cannot be null"), UserErrorCode.REQUIRED)
        new["active"] = changes["active"]
    for field in ("valid_from", "valid_until"):
        if field in changes:
            new[field] = changes[field]
    _check_dates(
        check, new.get("valid_from", row.valid_from), new.get("valid_until", row.valid_until)
    )
    if "min_tier" in changes:
        new["min_tier_key"] = await _check_tier(session, check, changes["min_tier"])
    check.done()
    for attribute, value in new.items():
        setattr(row, attribute, value)
    if snapshot(row) != before:
        row.updated_at = context.now()
        await session.flush()
        _record(context, session, "updated", row, before)
    return row


async def delete_reward(
    session: AsyncSession, context: RequestContext, reward_id: int | None, version: int
) -> Reward:
    """Remove a reward no coupon was ever issued for; one with coupons is made inactive
    instead (their history names it)."""
    require(context, declarations.MANAGE)
    row = None
    if reward_id is not None:
        row = await session.scalar(
            select(Reward)
            .where(Reward.id == reward_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if row is None:
        raise not_found("input.id", _("no reward with this id"))
    require_version(row, version)
    issued = await session.scalar(select(Coupon.id).where(Coupon.reward_id == row.id).limit(1))
    if issued is not None:
        raise UserErrors.single(
            "id",
            _(
                "reward {name} has issued coupons: set active to false instead",
                name=row.name,
            ),
            UserErrorCode.BUSINESS_RULE,
        )
    before = snapshot(row)
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "loyalty.reward.deleted",
        "Reward",
        row.id,
        audit.diff(before, {}),
    )
    return row


@dataclasses.dataclass
class Redemption:
    """A reward redeemed: the coupon issued, its code (shown once), the balance left."""

    coupon: coupons.Issued
    balance: int


def _refuse(field: str, message: str) -> UserErrors:
    return UserErrors.single(field, message, UserErrorCode.BUSINESS_RULE)


async def redeem_reward(
    session: AsyncSession, context: RequestContext, customer_id: int | None, reward_id: int | None
) -> Redemption:
    """Spend a member's points on a reward and issue its coupon (``loyalty:write``)."""
    caller = require(context, declarations.WRITE)
    account = await coupons.member_account(
        session, context, customer_id, "customerId", declarations.WRITE
    )
    reward = None
    if reward_id is not None:
        reward = await session.scalar(
            select(Reward).where(Reward.id == reward_id).execution_options(populate_existing=True)
        )
    if reward is None:
        raise not_found("input.rewardId", _("no reward with this id"))
    now = context.now()
    await ledger.expire_due(session, account, now)
    day = today(context)
    if not reward.active:
        raise _refuse("rewardId", _("reward {name} is not active", name=reward.name))
    if reward.valid_from is not None and day < reward.valid_from:
        raise _refuse(
            "rewardId",
            _("reward {name} may be redeemed from {day}", name=reward.name, day=reward.valid_from),
        )
    if reward.valid_until is not None and day > reward.valid_until:
        raise _refuse(
            "rewardId",
            _(
                "reward {name} could be redeemed until {day}",
                name=reward.name,
                day=reward.valid_until,
            ),
        )
    if reward.min_tier_key is not None:
        order = await thresholds(session)
        needed = order.get(reward.min_tier_key)
        held = order.get(account.tier_key, 0)
        if needed is None or held < needed:
            raise _refuse(
                "customerId",
                _(
                    "reward {name} needs tier {needed} or higher; the member is {held}",
                    name=reward.name,
                    needed=reward.min_tier_key,
                    held=account.tier_key,
                ),
            )
    if account.balance < reward.points_cost:
        raise _refuse(
            "customerId",
            _(
                "the member has {balance} points; reward {name} costs {cost}",
                balance=account.balance,
                name=reward.name,
                cost=reward.points_cost,
            ),
        )
    if reward.stock is not None:
        taken = cast(
            CursorResult[Any],
            await session.execute(
                update(Reward)
                .where(Reward.id == reward.id, Reward.stock > 0)
                .values(stock=Reward.stock - 1, version=Reward.version + 1)
                .execution_options(synchronize_session=False)
            ),
        )
        if taken.rowcount != 1:
            raise _refuse("rewardId", _("reward {name} is out of stock", name=reward.name))
    entry = await ledger.spend(
        session,
        account,
        reward.points_cost,
        kind=ledger.REDEEM,
        source="REWARD",
        source_ref=str(reward.id),
        reason=_("reward {name}", name=reward.name),
        actor_id=caller.user_id,
        actor_label=caller.email,
        now=now,
    )
    issued = coupons.make_coupon(
        session,
        context,
        account_id=account.id,
        reward_id=reward.id,
        entry_id=entry.id,
        campaign=None,
        description=reward.name,
        valid_days=reward.coupon_days,
    )
    try:
        await session.flush()
    except IntegrityError:  # deleted by a concurrent deleteReward since it was read
        raise _refuse("rewardId", _("reward {name} no longer exists", name=reward.name)) from None
    audit.record(
        session,
        actor_of(context),
        "loyalty.reward.redeemed",
        "Reward",
        reward.id,
        {"points": reward.points_cost, "couponHint": issued.coupon.code_hint},
    )
    coupons.record(context, session, "issued", issued.coupon, None)
    return Redemption(issued, account.balance)
