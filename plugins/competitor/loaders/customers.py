"""Dataloaders of customers' competitor links; each filters through the caller's reach of
links (:func:`plugins.competitor.service.customers.readable`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, ChildCountLoader, ChildPageLoader, Loader, SortKey
from plugins.competitor.models import CustomerCompetitor
from plugins.competitor.service.customers import readable

LINK = CustomerCompetitor


class _ReadableLinks:
    entity = LINK
    context: Any

    def statement(self) -> Select[Any]:
        return select(LINK).where(readable(self.context))


class LinkByIdLoader(_ReadableLinks, ByIdLoader[CustomerCompetitor]):
    pass


class _CurrentLinks(_ReadableLinks):
    parent = LINK.competitor_id

    def statement(self) -> Select[Any]:
        return super().statement().where(LINK.ended_on.is_(None))


class CurrentLinksByCompetitorLoader(_CurrentLinks, ChildPageLoader):
    """``Competitor.customers``: the customers using it now, the contract ending soonest
    first (those without an end date last)."""

    keys = (SortKey(LINK.contract_ends_on, nullable=True), SortKey(LINK.id))


class CurrentLinkCountByCompetitorLoader(_CurrentLinks, ChildCountLoader):
    pass


class LinksByCustomerLoader(Loader[tuple[int, bool], list[CustomerCompetitor]]):
    """``Customer.competitors`` (key: customer id, whether ended links are wanted): current
    links first, then ended ones, each in the order they were recorded. One statement per
    batch and choice of ``includeEnded``, whatever the number of customers."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[int, bool]]
    ) -> list[list[CustomerCompetitor]]:
        found: dict[tuple[int, bool], list[CustomerCompetitor]] = {key: [] for key in keys}
        for include_ended in sorted({ended for _customer, ended in keys}):
            customer_ids = sorted({customer for customer, ended in keys if ended == include_ended})
            statement = select(LINK).where(
                LINK.customer_id.in_(customer_ids), readable(self.context)
            )
            if not include_ended:
                statement = statement.where(LINK.ended_on.is_(None))
            rows = (await session.scalars(statement.order_by(LINK.id))).all()
            for row in sorted(rows, key=lambda r: (r.ended_on is not None, r.id)):
                found[(row.customer_id, include_ended)].append(row)
        return [found[key] for key in keys]
