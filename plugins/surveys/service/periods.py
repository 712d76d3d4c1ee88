"""Shares, NPS scores and calendar buckets the survey figures share.

WEEK and MONTH buckets are calendar weeks and months in a time zone: their bounds are
computed here, in UTC, and the database puts each row in its bucket with a ``CASE`` over
them, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, literal


def rounded(numerator: int, denominator: int, places: int) -> float:
    """``numerator / denominator`` to ``places`` decimals, halves away from zero, computed
    exactly (``round()`` on a float rounds halves to even and errs on halves a binary float
    cannot hold: ``round(3.125, 2)`` is 3.12, ``round(2.675, 2)`` is 2.67)."""
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def share(hits: int, total: int, places: int = 4) -> float | None:
    """``hits / total`` to ``places`` decimals (halves up); ``None`` when ``total`` is 0."""
    return rounded(hits, total, places) if total else None


def nps_score(promoters: int, detractors: int, total: int) -> float | None:
    """Promoters% minus detractors%, to one place (halves away from zero); ``None`` without
    answers."""
    return rounded((promoters - detractors) * 100, total, 1) if total else None


def mean_of(counts: Mapping[int, int], places: int = 2) -> float | None:
    """The mean of scores given as ``{score: how many}``, to ``places`` decimals (halves
    up); ``None`` without scores."""
    total = sum(counts.values())
    if not total:
        return None
    return rounded(sum(score * count for score, count in counts.items()), total, places)


Buckets = list[tuple[str, dt.datetime]]
"""Calendar buckets: each one's label and its start in UTC, in time order."""


def _utc(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def month_buckets(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> Buckets:
    """The months (``2026-04``) of ``zone`` from the one holding ``start`` to the one before
    ``end``."""
    local = start.astimezone(zone)
    year, month = local.year, local.month
    out: Buckets = []
    while True:
        begins = _utc(dt.date(year, month, 1), zone)
        if out and begins >= end:
            return out
        out.append((f"{year:04d}-{month:02d}", begins))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def week_buckets(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> Buckets:
    """The ISO weeks (``2026-W14``, Monday to Sunday) of ``zone`` from the one holding
    ``start`` to the one before ``end``."""
    day = start.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    out: Buckets = []
    while True:
        begins = _utc(monday, zone)
        if out and begins >= end:
            return out
        iso = monday.isocalendar()
        out.append((f"{iso.year:04d}-W{iso.week:02d}", begins))
        monday += dt.timedelta(days=7)


def bucket_of(column: Any, buckets: Buckets) -> ColumnElement[str]:
    """The label of the bucket ``column`` (a UTC time at or after the first start) is in."""
    if len(buckets) == 1:
        return literal(buckets[0][0])
    whens = [(column < buckets[i + 1][1], buckets[i][0]) for i in range(len(buckets) - 1)]
    return case(*whens, else_=buckets[-1][0])
