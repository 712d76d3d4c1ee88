"""Dataloaders of the pipeline's stages (one pipeline, read whole once per request)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, Loader
from plugins.sales.models import Stage


class StagesLoader(Loader[int, dict[int, Stage]]):
    """Every stage by id, read once per request (key: always 0)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[dict[int, Stage]]:
        rows = (await session.scalars(select(Stage))).all()
        stages = {row.id: row for row in rows}
        return [stages for _key in keys]


class StageByIdLoader(ByIdLoader[Stage]):
    entity = Stage
