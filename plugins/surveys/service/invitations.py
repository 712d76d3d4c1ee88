"""Invitations: who is asked which survey, sent by e-mail or skipped with the reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext


async def on_ticket_resolved(
    session: AsyncSession, ticket: Any, context: RequestContext | None
) -> None:
    return None
