"""Placeholder."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Settings


async def load(session: AsyncSession, size: int, settings: Settings) -> None:
    return None
