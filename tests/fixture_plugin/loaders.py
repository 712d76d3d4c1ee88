from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.loaders import Loader, group_by_key, one_by_key
from tests.fixture_plugin.models import Widget, WidgetNote


class WidgetByIdLoader(Loader[int, Widget | None]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Widget | None]:
        rows = (
            await session.scalars(
                select(Widget).where(Widget.id.in_(keys), self.context.visible("widgets:read"))
            )
        ).all()
        return one_by_key(keys, rows)


class WidgetsByOwnerLoader(Loader[int, list[Widget]]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Widget]]:
        rows = (
            await session.scalars(
                select(Widget)
                .where(Widget.owner_id.in_(keys), self.context.visible("widgets:read"))
                .order_by(Widget.name, Widget.id)
            )
        ).all()
        return group_by_key(keys, rows, "owner_id")


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


async def widget_count(session: AsyncSession, visible: ColumnElement[bool]) -> int:
    statement = select(func.count()).select_from(Widget).where(visible)
    return int(await session.scalar(statement) or 0)
