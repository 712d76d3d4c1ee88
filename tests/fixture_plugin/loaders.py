from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.loaders import Loader, group_by_key
from tests.fixture_plugin.models import Widget, WidgetNote


class WidgetByIdLoader(Loader[int, Widget | None]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Widget | None]:
        rows = (await session.scalars(select(Widget).where(Widget.id.in_(keys)))).all()
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class NotesByWidgetLoader(Loader[int, list[WidgetNote]]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[WidgetNote]]:
        rows = (
            await session.scalars(
                select(WidgetNote).where(WidgetNote.widget_id.in_(keys)).order_by(WidgetNote.id)
            )
        ).all()
        return group_by_key(keys, rows, "widget_id")


async def widget_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Widget)) or 0)
