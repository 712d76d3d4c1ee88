"""Earning from the sales plugin's orders and the surveys plugin's answers (hooks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext


async def on_order_placed(
    session: AsyncSession, order: Any, context: RequestContext | None
) -> None:
    return None


async def on_order_cancelled(
    session: AsyncSession, order: Any, refunded: bool, context: RequestContext | None
) -> None:
    return None


async def on_survey_answered(
    session: AsyncSession, response: Any, context: RequestContext | None
) -> None:
    return None
