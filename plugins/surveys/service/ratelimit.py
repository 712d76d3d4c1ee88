"""The public answer page and ``submitSurveyResponse`` are counted per client address, in
fixed windows kept in the database (``survey_rate_limits``), so every app process sees the
same count.

One atomic upsert per request: the first request of a window (re)starts the address's row
at 1, every later one in the same window adds 1. A row of an old window is overwritten by
the next request, so the table holds at most one row per address seen. A request stamped
with an earlier window than the row's (another process whose clock lags) counts in the
row's window rather than restarting it.

An IPv6 client is counted by its /64 network: one subscriber usually holds a whole /64 and
could otherwise take a fresh address for every request.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Database, JobContext
from plugins.surveys import settings as survey_settings
from plugins.surveys.models import SurveyRateLimit

UNKNOWN_ADDRESS = "unknown"
"""The key of requests whose client address is not known (they share one count)."""
MAX_KEY = 100
IPV6_PREFIX = 64
"""IPv6 clients are counted by network of this length."""


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
    """The counter of ``client_address``: the address itself, or its /64 network for IPv6."""
    source = (client_address or "").strip() or UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        source = (
            str(mapped)
            if mapped is not None
            else str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
        )
    return f"address:{source}"[:MAX_KEY]


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
    newer = statement.excluded.window_start > SurveyRateLimit.window_start
    upsert = statement.on_conflict_do_update(
        index_elements=[SurveyRateLimit.key],
        set_={
            "count": case((newer, 1), else_=SurveyRateLimit.count + 1),
            "window_start": case(
                (newer, statement.excluded.window_start), else_=SurveyRateLimit.window_start
            ),
        },
    ).returning(SurveyRateLimit.count, SurveyRateLimit.window_start)
    counted, counted_in = (await session.execute(upsert)).one()
    count = int(counted)
    start = max(start, _aware(counted_in))
    ends = start + dt.timedelta(minutes=window_minutes)
    retry_after = max(1, math.ceil((ends - now).total_seconds()))
    return Verdict(allowed=count <= limit, count=count, retry_after=retry_after)


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


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


async def purge(job: JobContext) -> Mapping[str, int]:
    """Drop the rows of windows that have ended (an hourly job): the next request of such an
    address starts a new window anyway, and the table stays as small as the addresses seen
    in the current window."""
    settings = survey_settings.load()
    current = window_start(job.now, settings.rate_window_minutes)
    async with job.db.transaction() as session:
        dropped = await session.execute(
            delete(SurveyRateLimit).where(SurveyRateLimit.window_start < current)
        )
    return {"survey rate limit windows purged": int(getattr(dropped, "rowcount", 0) or 0)}
