"""Tiers over a rolling 12 months: recomputed on each earn and by the daily job."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import NotificationKind, RequestContext
from plugins.loyalty.models import Account

KINDS: dict[str, NotificationKind] = {}


async def recompute(
    session: AsyncSession, account: Account, now: dt.datetime, context: RequestContext | None
) -> None:
    return None
