"""Demo loyalty accounts for ``crm demo``: about a third of the demo customers are members,
with 18 months of purchases at points of sale, rewards redeemed (the catalogue has a few),
some cancelled purchases taken back, and a ledger written through the ledger service, so
every balance equals its fold. The GOLD, SILVER and STANDARD tiers all occur, each member
holding the tier its last 12 months earn; some members have points expiring within the
notice window.

History is history: nothing is announced (no hook, webhook or notification for tiers the
members reached long ago), and the members whose points expire soon count as told, so the
first ``crm jobs run`` after the demo sends no flood of mails.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer, Settings
from plugins.loyalty.models import Account, Coupon, Programme, Reward
from plugins.loyalty.service import accounts, coupons, ledger, tiers
from plugins.loyalty.service import programme as programmes

REWARDS = [  # name, points cost, stock, minimum tier
    ("Coffee voucher / 咖啡券", 300, None, None),
    ("Spare parts kit discount 10% / 备件九折", 1200, None, None),
    ("Free operator training day / 免费培训一天", 6000, 20, "SILVER"),
    ("Annual gift box / 年度礼盒", 15000, 10, "GOLD"),
]
PROFILES = [  # tier aimed at, spend per purchase in CNY (low, high), purchases in 12 months
    ("GOLD", (1800, 4500), (9, 14)),
    ("SILVER", (600, 1500), (6, 10)),
    ("STANDARD", (80, 600), (1, 6)),
]
LABEL = "demo"


async def load(session: AsyncSession, size: int, settings: Settings) -> None:
    rng = random.Random(20261218)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    customers = list(
        (
            await session.scalars(
                select(Customer.id)
                .where(Customer.archived_at.is_(None), Customer.erased_at.is_(None))
                .order_by(Customer.id)
                .limit(size)
            )
        ).all()
    )
    members = customers[::3]
    if not members:
        return
    programme = await programmes.load(session)
    rewards = await _rewards(session, now)
    for index, customer_id in enumerate(members):
        # the first three hold one tier each, so every tier occurs however small the demo
        profile = PROFILES[index] if index < 3 else rng.choices(PROFILES, (15, 30, 55))[0]
        await _member(session, rng, now, programme, rewards, customer_id, profile, index)


async def _rewards(session: AsyncSession, now: dt.datetime) -> list[Reward]:
    rows = [
        Reward(
            name=name,
            description="",
            points_cost=cost,
            stock=stock,
            min_tier_key=min_tier,
            coupon_days=90,
            active=True,
            created_at=now - dt.timedelta(days=560),
            updated_at=now - dt.timedelta(days=560),
        )
        for name, cost, stock, min_tier in REWARDS
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def _points(programme: Programme, amount: decimal.Decimal, multiplier: decimal.Decimal) -> int:
    rate = decimal.Decimal(programme.earn_rates.get("CNY", "1"))
    return int((amount * rate * multiplier).to_integral_value(rounding=decimal.ROUND_DOWN))


async def _member(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    programme: Programme,
    rewards: list[Reward],
    customer_id: int,
    profile: tuple[str, tuple[int, int], tuple[int, int]],
    index: int,
) -> None:
    aim, (low, high), (fewest, most) = profile
    ladder = {tier.key: tier for tier in await programmes.tiers(session)}
    multiplier = ladder[aim].multiplier if aim in ladder else decimal.Decimal(1)

    def spend() -> decimal.Decimal:
        return decimal.Decimal(rng.randint(low, high)) + decimal.Decimal(rng.randint(0, 99)) / 100

    # Purchases: some 13 to 18 months ago (out of the rolling year by now), the rest within
    # the last 11 months; none in the month around the year's edge.
    purchases = [
        (now - dt.timedelta(days=rng.randint(395, 535)), spend(), decimal.Decimal(1))
        for _n in range(rng.randint(1, 4))
    ]
    purchases += [
        (now - dt.timedelta(days=rng.randint(2, 330)), spend(), multiplier)
        for _n in range(rng.randint(fewest, most))
    ]
    if index < 2:  # the first GOLD and SILVER members reach their tier whatever the dice say
        big = decimal.Decimal(ladder[aim].threshold if aim in ladder else 0)
        purchases.append((now - dt.timedelta(days=20), big, decimal.Decimal(1)))
    if index % 7 == 1:  # points earned almost 24 months ago: they expire within the notice
        months = programme.expiry_months or 24
        soon = programmes.add_months(now, -months) + dt.timedelta(days=rng.randint(3, 20))
        purchases.append((soon, spend(), decimal.Decimal(1)))
    purchases.sort(key=lambda purchase: purchase[0])
    enrolled = purchases[0][0] - dt.timedelta(days=rng.randint(1, 30))
    account = await accounts.enrol(session, customer_id, now=enrolled, actor_id=None)
    for moment, amount, factor in purchases:
        points = _points(programme, amount, factor)
        if points <= 0:
            continue
        reference = f"POS-{rng.randint(100000, 999999)}"
        entry = await ledger.earn(
            session,
            account,
            points,
            source="API",
            source_ref=reference,
            reason="",
            actor_id=None,
            actor_label=LABEL,
            now=moment,
            expires_at=programmes.expiry_of(programme, moment),
            amount=amount,
            currency="CNY",
        )
        if rng.random() < 0.06 and entry.points > 0:  # the purchase was cancelled
            later = moment + dt.timedelta(days=rng.randint(1, 5))
            if later < now:
                await ledger.reverse(
                    session,
                    account,
                    entry,
                    reason="Purchase cancelled",
                    actor_id=None,
                    actor_label=LABEL,
                    now=later,
                )
        if rng.random() < 0.3 and index % 7 != 1:  # those keep their points expiring soon
            await _redeem(session, rng, account, rewards, aim, moment, now)
    await _settle_tier(session, account, now)
    window_end = now + dt.timedelta(days=programme.expiry_notice_days)
    account.expiry_told_for = window_end  # history: told of what expires soon already


async def _redeem(
    session: AsyncSession,
    rng: random.Random,
    account: Account,
    rewards: list[Reward],
    aim: str,
    moment: dt.datetime,
    now: dt.datetime,
) -> None:
    at = moment + dt.timedelta(hours=rng.randint(1, 48))
    if at >= now:
        return
    allowed = {"STANDARD": (None,), "SILVER": (None, "SILVER"), "GOLD": (None, "SILVER", "GOLD")}
    affordable = [
        r for r in rewards if r.points_cost <= account.balance and r.min_tier_key in allowed[aim]
    ]
    affordable = [r for r in affordable if r.stock is None or r.stock > 0]
    if not affordable:
        return
    reward = rng.choice(affordable)
    entry = await ledger.spend(
        session,
        account,
        reward.points_cost,
        kind="REDEEM",
        source="REWARD",
        source_ref=str(reward.id),
        reason=reward.name,
        actor_id=None,
        actor_label=LABEL,
        now=at,
    )
    if reward.stock is not None:
        reward.stock -= 1
    code = coupons.new_code()  # the same kind of code redeemCoupon reads (never shown)
    expires = at + dt.timedelta(days=reward.coupon_days)
    used = rng.random() < 0.7 and at + dt.timedelta(days=3) < now
    session.add(
        Coupon(
            code_hash=coupons.digest(code),
            code_hint=coupons.hint(code),
            account_id=account.id,
            reward_id=reward.id,
            entry_id=entry.id,
            description=reward.name,
            status="USED" if used else "ISSUED",
            issued_at=at,
            expires_at=expires,
            used_at=at + dt.timedelta(days=rng.randint(1, 3)) if used else None,
            used_reference=f"POS-{rng.randint(100000, 999999)}" if used else None,
        )
    )
    await session.flush()


async def _settle_tier(session: AsyncSession, account: Account, now: dt.datetime) -> None:
    """The tier the member's last 12 months reach, held since the demo's history says, with
    nothing announced."""
    ladder = await programmes.tiers(session)
    earned = (await tiers.earned_in_year(session, [account.id], now))[account.id]
    account.tier_key = tiers.reached(ladder, earned).key
    account.tier_since = now - dt.timedelta(days=30)
    account.downgrade_due_at = None
    await session.flush()
