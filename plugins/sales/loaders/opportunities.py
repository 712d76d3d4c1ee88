"""Dataloaders of opportunities; each filters through the caller's ``sales:read`` scope."""

from __future__ import annotations

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
    group_by_key,
)
from plugins.sales import declarations
from plugins.sales.models import Opportunity, StageChange


class _VisibleOpportunities:
    entity = Opportunity
    context: Any

    def statement(self) -> Select[Any]:
        return select(Opportunity).where(
            declarations.visible(self.context, declarations.OPPORTUNITIES)
        )


class OpportunityByIdLoader(_VisibleOpportunities, ByIdLoader[Opportunity]):
    pass


class OpportunitiesByCustomerLoader(_VisibleOpportunities, ChildPageLoader):
    parent = Opportunity.customer_id
    keys = (SortKey(Opportunity.created_at, True), SortKey(Opportunity.id, True))


class OpportunityCountByCustomerLoader(_VisibleOpportunities, ChildCountLoader):
    parent = Opportunity.customer_id


class StageChangesLoader(Loader[int, list[StageChange]]):
    """An opportunity's stage history, oldest first (the opportunity itself was loaded
    through the scoped loaders)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[StageChange]]:
        rows = (
            await session.scalars(
                select(StageChange)
                .where(
                    among(StageChange.opportunity_id, keys),
                    StageChange.opportunity_id.in_(
                        select(Opportunity.id).where(
                            declarations.visible(self.context, declarations.OPPORTUNITIES)
                        )
                    ),
                )
                .order_by(StageChange.changed_at, StageChange.id)
            )
        ).all()
        return group_by_key(keys, rows, "opportunity_id")
