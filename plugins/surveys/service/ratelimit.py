"""The public answer page and ``submitSurveyResponse`` are counted per client address, in
fixed windows kept in the database (``survey_rate_limits``), so every app process sees the
same count.

One atomic upsert per request: the first request of a window (re)starts the address's row
at 1, every later one in the same window adds 1. A row of an old window is overwritten by
the next request, so the table holds at most one row per address seen.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Database
from plugins.surveys import settings as survey_settings
from plugins.surveys.models import SurveyRateLimit

UNKNOWN_ADDRESS = "unknown"
"""The key of requests whose client address is not known (they share one count)."""
MAX_KEY = 100


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; if not, how many seconds until the window ends."""

    allowed: bool
    count: int
    retry_after: int


def window_start(now: dt.datetime, minutes: int) -> dt.datetime:
    """The start of the fixed window ``now`` falls in (windows are aligned to the epoch)."""
    length = minutes * 60
    seconds = math.floor(now.timestamp())
    return dt.datetime.fromtimestamp(seconds - seconds % length, dt.UTC)


def key_of(client_address: str | None) -> str:
    return f"address:{client_address or UNKNOWN_ADDRESS}"[:MAX_KEY]


async def hit(
    session: AsyncSession,
    client_address: str | None,
    now: dt.datetime,
    *,
    limit: int,
    window_minutes: int,
) -> Verdict:
    """Count one request of ``client_address`` at ``now``; refused past ``limit`` requests in
    the window."""
    start = window_start(now, window_minutes)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SurveyRateLimit).values(
        key=key_of(client_address), window_start=start, count=1
    )
    same_window = SurveyRateLimit.window_start == statement.excluded.window_start
    upsert = statement.on_conflict_do_update(
        index_elements=[SurveyRateLimit.key],
        set_={
            "count": case((same_window, SurveyRateLimit.count + 1), else_=1),
            "window_start": statement.excluded.window_start,
        },
    ).returning(SurveyRateLimit.count)
    count = int((await session.execute(upsert)).scalar_one())
    ends = start + dt.timedelta(minutes=window_minutes)
    retry_after = max(1, math.ceil((ends - now).total_seconds()))
    return Verdict(allowed=count <= limit, count=count, retry_after=retry_after)


async def check(db: Database, client_address: str | None, now: dt.datetime) -> Verdict:
    """Count a request in a transaction of its own (a refused request still counts), with
    the deployment's ``CRM_SURVEYS_RATE_LIMIT`` and ``CRM_SURVEYS_RATE_WINDOW_MINUTES``."""
    settings = survey_settings.load()
    async with db.transaction() as session:
        return await hit(
            session,
            client_address,
            now,
            limit=settings.rate_limit,
            window_minutes=settings.rate_window_minutes,
        )
