"""Dataloaders of rewards and coupons. Rewards are read by anyone holding ``loyalty:read``;
coupons are scoped like their accounts (:func:`plugins.loyalty.service.coupons.visible`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, ChildCountLoader, ChildPageLoader, Loader, SortKey, among
from plugins.loyalty import declarations
from plugins.loyalty.models import Account, Coupon, Reward
from plugins.loyalty.service import coupons


class RewardByIdLoader(ByIdLoader[Reward]):
    entity = Reward

    def statement(self) -> Select[Any]:
        caller = self.context.caller
        readable = caller is not None and caller.scope(declarations.READ) is not None
        return select(Reward).where(true() if readable else false())


class _VisibleCoupons:
    entity = Coupon
    parent = Coupon.account_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(Coupon).where(coupons.visible(self.context))


class CouponByIdLoader(_VisibleCoupons, ByIdLoader[Coupon]):
    pass


class CouponsByAccountLoader(_VisibleCoupons, ChildPageLoader):
    """``LoyaltyAccount.coupons``: an account's coupons, latest first."""

    keys = (SortKey(Coupon.issued_at, True), SortKey(Coupon.id, True))


class CouponCountByAccountLoader(_VisibleCoupons, ChildCountLoader):
    pass


class CustomerIdByAccountLoader(Loader[int, int | None]):
    """The customer of each account (for ``Coupon.customer``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[int | None]:
        rows = (
            await session.execute(
                select(Account.id, Account.customer_id).where(among(Account.id, keys))
            )
        ).all()
        found = {row.id: row.customer_id for row in rows}
        return [found.get(key) for key in keys]
