"""Dataloaders of accounts and their ledgers: each filters through the caller's reach of
``loyalty`` accounts (:func:`plugins.loyalty.declarations.visible`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    SortKey,
    among,
    one_by_key,
)
from plugins.loyalty import declarations
from plugins.loyalty.models import Account, Entry, Lot
from plugins.loyalty.service import tiers


class AccountByIdLoader(ByIdLoader[Account]):
    entity = Account

    def statement(self) -> Select[Any]:
        return select(Account).where(declarations.visible(self.context))


class AccountByCustomerLoader(Loader[int, Account | None]):
    """Each customer's account, if enrolled and visible (``Customer.loyalty``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Account | None]:
        rows = (
            await session.scalars(
                select(Account).where(
                    among(Account.customer_id, keys), declarations.visible(self.context)
                )
            )
        ).all()
        return one_by_key(keys, rows, "customer_id")


def _visible_account_ids(context: Any) -> Select[Any]:
    return select(Account.id).where(declarations.visible(context))


class _VisibleEntries:
    entity = Entry
    parent = Entry.account_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(Entry).where(Entry.account_id.in_(_visible_account_ids(self.context)))


class EntryByIdLoader(_VisibleEntries, ByIdLoader[Entry]):
    pass


class EntriesByAccountLoader(_VisibleEntries, ChildPageLoader):
    """``LoyaltyAccount.ledger``: the latest entry first."""

    keys = (SortKey(Entry.id, True),)


class EntryCountByAccountLoader(_VisibleEntries, ChildCountLoader):
    pass


class EarnedLast12MonthsLoader(Loader[int, int]):
    """Points each account earned in the 12 months ending now, as its tier counts them
    (:func:`plugins.loyalty.service.tiers.earned_in_year`)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[int]:
        found = await tiers.earned_in_year(session, list(keys), self.context.now())
        return [found.get(key, 0) for key in keys]


@dataclasses.dataclass(frozen=True)
class Expiring:
    points: int
    on: dt.date
    at: dt.datetime


class ExpiringLoader(Loader[tuple[int, int], list[Expiring]]):
    """Points each account holds that expire within ``days`` days (key: account id, days),
    summed per day in the deployment's time zone, the soonest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[int, int]]
    ) -> list[list[Expiring]]:
        now = self.context.now()
        longest = max(days for _account, days in keys)
        rows = await session.execute(
            select(Lot.account_id, Lot.expires_at, Lot.remaining)
            .where(
                Lot.account_id.in_(sorted({account_id for account_id, _days in keys})),
                Lot.remaining > 0,
                Lot.expires_at.is_not(None),
                Lot.expires_at > now,
                Lot.expires_at <= now + dt.timedelta(days=longest),
            )
            .order_by(Lot.expires_at, Lot.id)
        )
        zone = self.context.settings.zone
        lots: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for account_id, expires_at, remaining in rows:
            if expires_at is not None:
                lots[account_id].append((expires_at, remaining))
        result: list[list[Expiring]] = []
        for account_id, days in keys:
            until = now + dt.timedelta(days=days)
            by_day: dict[dt.date, tuple[int, dt.datetime]] = {}
            for expires_at, remaining in lots[account_id]:
                if expires_at > until:
                    continue
                day = expires_at.astimezone(zone).date()
                points, first = by_day.get(day, (0, expires_at))
                by_day[day] = (points + remaining, first)
            result.append([Expiring(points, day, first) for day, (points, first) in by_day.items()])
        return result
