"""Dataloaders of the programme's tiers (not scoped by customer: whoever reads loyalty reads
every tier)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, Loader, Scope, among, one_by_key
from plugins.loyalty import declarations
from plugins.loyalty.models import Tier


def _readable(loader: Loader[Any, Any]) -> bool:
    caller = loader.context.caller
    return caller is not None and caller.can(declarations.READ, Scope.OWN)


class TierByIdLoader(ByIdLoader[Tier]):
    entity = Tier

    def statement(self) -> Select[Any]:
        statement = select(Tier)
        return statement if _readable(self) else statement.where(false())


class TierByKeyLoader(Loader[str, Tier | None]):
    """Tiers by key (``account.tier``), inactive ones included."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[str]) -> list[Tier | None]:
        rows = (await session.scalars(select(Tier).where(among(Tier.key, keys)))).all()
        return one_by_key(keys, rows, "key")


class TiersLoader(Loader[bool, list[Tier]]):
    """Every tier from the lowest threshold up; the key says whether inactive ones count."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[bool]) -> list[list[Tier]]:
        rows = list((await session.scalars(select(Tier).order_by(Tier.threshold, Tier.id))).all())
        return [rows if everything else [row for row in rows if row.active] for everything in keys]
