"""Placeholder."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext


async def erase(session: AsyncSession, customer_id: int) -> None:
    return None


async def merge(
    session: AsyncSession, source_id: int, target_id: int, dry_run: bool, context: RequestContext
) -> dict[str, int]:
    return {}
