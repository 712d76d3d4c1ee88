"""The programme's figures (``loyaltyStats``): the points liability outstanding, what was
earned, redeemed, expired and reversed per month, members per tier, the redemption rate and
the rewards redeemed most. Points a cancelled coupon gives back (an EARN entry of source
COUPON) are not earned: they take back what its redemption counted as redeemed.

Every figure is an SQL aggregate over the accounts the caller may read (the ``loyalty``
policy). Months are calendar months in the deployment's time zone (``CRM_TIME_ZONE``): their
first moments are worked out here and the entries bucketed by a ``CASE`` over
``created_at``, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext, bad_argument, translator
from plugins.loyalty import declarations
from plugins.loyalty.models import Account, Coupon, Entry, Reward, Tier
from plugins.loyalty.service import ledger

_ = translator(__name__)

MAX_MONTHS = 36
"""The most calendar months one request may span."""
TOP_REWARDS = 5


@dataclasses.dataclass
class Month:
    month: str
    """``YYYY-MM`` in the deployment's zone."""
    starts_at: dt.datetime
    ends_at: dt.datetime
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    adjusted: int = 0


@dataclasses.dataclass
class TierMembers:
    key: str
    name: str
    members: int


@dataclasses.dataclass
class RewardFigures:
    reward_id: int
    name: str
    redemptions: int
    points: int


@dataclasses.dataclass
class Stats:
    starts_at: dt.datetime
    ends_at: dt.datetime
    liability: int
    debt: int
    members: int
    months: list[Month]
    tiers: list[TierMembers]
    top_rewards: list[RewardFigures]

    def total(self, figure: str) -> int:
        return sum(getattr(month, figure) for month in self.months)

    @property
    def redemption_rate(self) -> float | None:
        earned = self.total("earned")
        return self.total("redeemed") / earned if earned else None


def _month_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, 1, tzinfo=zone).astimezone(dt.UTC)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_of(starts_at: dt.datetime, ends_at: dt.datetime, zone: ZoneInfo) -> list[Month]:
    """The calendar months (in ``zone``) that ``[starts_at, ends_at)`` overlaps, each cut to
    the period."""
    months: list[Month] = []
    day = starts_at.astimezone(zone).date().replace(day=1)
    while True:
        start = max(_month_start(day, zone), starts_at)
        following = _next_month(day)
        end = min(_month_start(following, zone), ends_at)
        if start >= ends_at:
            break
        months.append(Month(month=f"{day.year:04d}-{day.month:02d}", starts_at=start, ends_at=end))
        if len(months) > MAX_MONTHS:
            raise bad_argument(
                "period", _("may span at most {months} calendar months", months=MAX_MONTHS)
            )
        day = following
    return months


def default_start(end: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first moment of the 12 calendar months (in ``zone``) up to ``end``: its month and
    the 11 before."""
    day = end.astimezone(zone).date().replace(day=1)
    for _step in range(11):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return _month_start(day, zone)


def _bucket(column: Any, months: Sequence[Month]) -> ColumnElement[Any]:
    return case(*((column < month.ends_at, index) for index, month in enumerate(months)))


async def stats(
    session: AsyncSession,
    context: RequestContext,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
) -> Stats:
    zone = context.settings.zone
    end = ends_at or max(context.now(), starts_at or context.now())
    start = starts_at or default_start(end, zone)
    if end < start:
        raise bad_argument("period.to", _("must not be before from"))
    months = months_of(start, end, zone) if end > start else []
    visible = declarations.visible(context)
    liability, debt, members = (
        await session.execute(
            select(
                func.coalesce(func.sum(Account.balance), 0),
                func.coalesce(func.sum(Account.debt), 0),
                func.count(Account.id),
            ).where(visible)
        )
    ).one()
    if months:
        bucket = _bucket(Entry.created_at, months)
        given_back = case((Entry.source.in_(ledger.GIVEN_BACK), 1), else_=0)
        rows = await session.execute(
            select(
                bucket, Entry.kind, given_back, func.sum(Entry.points), func.sum(Entry.debt_points)
            )
            .join(Account, Account.id == Entry.account_id)
            .where(visible, Entry.created_at >= start, Entry.created_at < end)
            .group_by(bucket, Entry.kind, given_back)
        )
        for index, kind, back, points, debt_points in rows.all():
            month = months[int(index)]
            points, debt_points = int(points or 0), int(debt_points or 0)
            if kind == "EARN" and back:  # a cancelled coupon's points: not earned, unredeemed
                month.redeemed -= points + debt_points
            elif kind == "EARN":
                month.earned += points + debt_points
            elif kind == "REDEEM":
                month.redeemed -= points
            elif kind == "EXPIRE":
                month.expired -= points
            elif kind == "REVERSE":
                month.reversed += debt_points - points
            elif kind == "ADJUST":
                month.adjusted += points
    per_tier = dict(
        (
            await session.execute(
                select(Account.tier_key, func.count(Account.id))
                .where(visible)
                .group_by(Account.tier_key)
            )
        ).all()
    )
    ladder = (
        await session.scalars(select(Tier).where(Tier.active).order_by(Tier.threshold, Tier.id))
    ).all()
    tiers = [TierMembers(t.key, t.name, int(per_tier.pop(t.key, 0))) for t in ladder]
    tiers += [TierMembers(key, key, int(count)) for key, count in sorted(per_tier.items())]
    redemptions = func.count(Coupon.id)
    top = await session.execute(
        select(Reward.id, Reward.name, redemptions, func.coalesce(func.sum(-Entry.points), 0))
        .join(Coupon, Coupon.reward_id == Reward.id)
        .join(Entry, Entry.id == Coupon.entry_id)
        .join(Account, Account.id == Coupon.account_id)
        .where(
            visible,
            Coupon.status != "CANCELLED",
            Coupon.issued_at >= start,
            Coupon.issued_at < end,
        )
        .group_by(Reward.id, Reward.name)
        .order_by(redemptions.desc(), Reward.id)
        .limit(TOP_REWARDS)
    )
    return Stats(
        starts_at=start,
        ends_at=end,
        liability=int(liability),
        debt=int(debt),
        members=int(members),
        months=months,
        tiers=tiers,
        top_rewards=[
            RewardFigures(int(reward_id), name, int(count), int(points))
            for reward_id, name, count, points in top.all()
        ],
    )
