"""Dataloaders of the survey analysis: a customer's satisfaction (over the responses the
caller may see), many customers in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Loader
from plugins.surveys.service import satisfaction


class SatisfactionByCustomerLoader(Loader[int, satisfaction.Satisfaction]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[satisfaction.Satisfaction]:
        return await satisfaction.of_customers(session, self.context, keys)
