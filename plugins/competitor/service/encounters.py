"""Placeholder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext


async def on_opportunity_closed(
    session: AsyncSession,
    opportunity: Any,
    won: bool,
    competitors: Sequence[str],
    context: RequestContext | None,
) -> None:
    return None
