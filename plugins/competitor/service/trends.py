"""Trends: market share and competitors' prices over periods, each with a forecast of the next
period that is marked as such and never mixed into the data.

A trend covers the last ``periods`` periods of one kind up to the current one (the
deployment's calendar). A series holds a point for each period with data, in order; a
period without data is absent, not zero. The forecast is the straight line fitted by least
squares (:func:`plugins.competitor.periods.least_squares_next`) to the last
``forecast_periods`` (:mod:`plugins.competitor.settings`) points of the series' final run of
consecutive periods, taken at the period after its last point; with fewer than two such
points there is none. A share's forecast is kept within 0-100 and rounded to one decimal
place, a price's kept at 0 or more and rounded to its currency's places (half-up, once, at
the end).

The other reads across observations are here too: the segments observed
(:func:`segments`) and each competitor's latest share per segment
(:func:`latest_per_segment`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext, bad_argument, quantize_amount, translator
from plugins.competitor import settings
from plugins.competitor.enums import PeriodKind, SegmentKind
from plugins.competitor.models import Competitor, MarketShare, PriceObservation, Product
from plugins.competitor.periods import (
    least_squares_next,
    next_period,
    period_label,
    period_start,
)
from plugins.competitor.service.calendar import today
from plugins.competitor.service.shares import HUNDRED, PERIOD_RANK, segment_key

_ = translator(__name__)

MAX_PERIODS = 40
ZERO = decimal.Decimal(0)
TENTH = decimal.Decimal("0.1")


@dataclasses.dataclass
class Point:
    """A period's value: a share (percent) or an average price."""

    start: dt.date
    label: str
    value: decimal.Decimal
    observations: int = 1


@dataclasses.dataclass
class ShareSeries:
    """One subject's share of a segment: a competitor's, or ours (``competitor_id`` None)."""

    competitor_id: int | None
    name: str | None
    points: list[Point]
    forecast: Point | None


@dataclasses.dataclass
class PriceSeries:
    """The average observed price of one competitor product, in one currency, per period."""

    product_id: int
    product_name: str
    competitor_id: int
    competitor_name: str
    currency: str
    points: list[Point]
    forecast: Point | None


def window(day: dt.date, kind: PeriodKind, periods: int) -> list[dt.date]:
    """The first days of the last ``periods`` periods of ``kind`` up to the one holding
    ``day``, oldest first."""
    current = period_start(day, kind)
    starts = [current]
    while len(starts) < periods:
        starts.append(_previous(starts[-1], kind))
    return list(reversed(starts))


def _previous(start: dt.date, kind: PeriodKind) -> dt.date:
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    index = start.year * 12 + start.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def same_text(column: Any, value: str) -> ColumnElement[bool]:
    """``column`` equals ``value`` but for case, both lowered by the database (SQLite's
    ``lower`` folds ASCII only: lowering one side in Python would miss ``Électronique``)."""
    return func.lower(column) == func.lower(literal(value))


def check_periods(periods: int) -> None:
    if not 1 <= periods <= MAX_PERIODS:
        raise bad_argument("periods", _("must be from 1 to {max}", max=MAX_PERIODS))


def forecast_value(
    points: Sequence[Point], kind: PeriodKind, fitted: int
) -> tuple[dt.date, decimal.Decimal] | None:
    """The next period after the last point and the unrounded least-squares value there,
    fitted to the last ``fitted`` points of the final run of consecutive periods; None with
    fewer than two."""
    if not points:
        return None
    run = [points[-1]]
    for point in reversed(points[:-1]):
        if next_period(point.start, kind) != run[0].start:
            break
        run.insert(0, point)
    values = [point.value for point in run[-fitted:]]
    value = least_squares_next(values)
    if value is None:
        return None
    return next_period(points[-1].start, kind), value


async def share_series(
    session: AsyncSession,
    context: RequestContext,
    segment_kind: SegmentKind,
    segment: str,
    period_kind: PeriodKind,
    periods: int,
) -> list[ShareSeries]:
    """The share of every subject of the segment over the window: ours first, then each
    competitor by name."""
    check_periods(periods)
    key = segment_key(segment or "")
    if not key:
        raise bad_argument("segment", _("is required"))
    starts = window(today(context), period_kind, periods)
    rows = (
        await session.execute(
            select(MarketShare, Competitor.name)
            .outerjoin(Competitor, Competitor.id == MarketShare.competitor_id)
            .where(
                MarketShare.segment_kind == segment_kind.value,
                MarketShare.segment_key == key,
                MarketShare.period_kind == period_kind.value,
                MarketShare.period_start >= starts[0],
                MarketShare.period_start <= starts[-1],
            )
            .order_by(MarketShare.period_start, MarketShare.id)
        )
    ).all()
    points: dict[int | None, list[Point]] = defaultdict(list)
    names: dict[int | None, str | None] = {}
    for share, name in rows:
        label = period_label(share.period_start, period_kind)
        points[share.competitor_id].append(Point(share.period_start, label, share.share_percent))
        names[share.competitor_id] = name
    fitted = settings.load().forecast_periods
    result = []
    for competitor_id in sorted(
        points, key=lambda cid: (cid is not None, (names[cid] or "").casefold(), cid or 0)
    ):
        series = points[competitor_id]
        found = forecast_value(series, period_kind, fitted)
        forecast = None
        if found is not None:
            start, value = found
            clamped = min(max(value, ZERO), HUNDRED)
            rounded = clamped.quantize(TENTH, rounding=decimal.ROUND_HALF_UP)
            forecast = Point(start, period_label(start, period_kind), rounded, 0)
        result.append(ShareSeries(competitor_id, names[competitor_id], series, forecast))
    return result


async def price_series(
    session: AsyncSession,
    context: RequestContext,
    *,
    category: str | None,
    product_id: int | None,
    region: str | None,
    period_kind: PeriodKind,
    periods: int,
) -> list[PriceSeries]:
    """The average price of each competitor product of ``category`` (case does not matter),
    or of the one product, per period and currency over the window, with the observations
    of ``region`` only when it is given; by competitor, product and currency."""
    check_periods(periods)
    starts = window(today(context), period_kind, periods)
    end = next_period(starts[-1], period_kind)
    statement = (
        select(
            PriceObservation.product_id,
            PriceObservation.amount,
            PriceObservation.currency,
            PriceObservation.observed_on,
            Product.name,
            Product.competitor_id,
            Competitor.name.label("competitor_name"),
        )
        .join(Product, Product.id == PriceObservation.product_id)
        .join(Competitor, Competitor.id == Product.competitor_id)
        .where(PriceObservation.observed_on >= starts[0], PriceObservation.observed_on < end)
    )
    if product_id is not None:
        statement = statement.where(Product.id == product_id)
    else:
        statement = statement.where(same_text(Product.category, category or ""))
    if region is not None:
        statement = statement.where(same_text(PriceObservation.region, region))
    rows = (await session.execute(statement)).all()
    sums: dict[tuple[int, str], dict[dt.date, list[decimal.Decimal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    about: dict[int, tuple[str, int, str]] = {}
    for row in rows:
        start = period_start(row.observed_on, period_kind)
        sums[(row.product_id, row.currency)][start].append(row.amount)
        about[row.product_id] = (row.name, row.competitor_id, row.competitor_name)
    fitted = settings.load().forecast_periods
    result = []
    for (product, currency), by_period in sums.items():
        points = [
            Point(
                start,
                period_label(start, period_kind),
                sum(amounts, ZERO) / len(amounts),
                len(amounts),
            )
            for start, amounts in sorted(by_period.items())
        ]
        found = forecast_value(points, period_kind, fitted)
        forecast = None
        if found is not None:
            start, value = found
            amount = quantize_amount(max(value, ZERO), currency)
            forecast = Point(start, period_label(start, period_kind), amount, 0)
        name, competitor_id, competitor_name = about[product]
        result.append(
            PriceSeries(product, name, competitor_id, competitor_name, currency, points, forecast)
        )
    result.sort(
        key=lambda item: (
            item.competitor_name.casefold(),
            item.product_name.casefold(),
            item.product_id,
            item.currency,
        )
    )
    return result


def latest_per_segment(rows: Sequence[MarketShare]) -> dict[int | None, list[MarketShare]]:
    """Each subject's latest observation of each segment (the period that starts last; of
    two starting the same day, the shorter), by segment kind and segment."""
    best: dict[tuple[int | None, str, str], MarketShare] = {}
    for row in rows:
        slot = (row.competitor_id, row.segment_kind, row.segment_key)
        held = best.get(slot)
        if held is None or _recency(row) > _recency(held):
            best[slot] = row
    found: dict[int | None, list[MarketShare]] = defaultdict(list)
    for (competitor_id, _kind, _key), row in sorted(
        best.items(), key=lambda item: (item[0][1], item[0][2])
    ):
        found[competitor_id].append(row)
    return dict(found)


def _recency(row: MarketShare) -> tuple[dt.date, int, int]:
    return (row.period_start, -PERIOD_RANK.get(row.period_kind, 0), row.id)


async def segments(session: AsyncSession, kind: SegmentKind | None) -> list[dict[str, Any]]:
    """Each segment observed (its kind, a spelling of its name, and the labels of the periods
    observed, in order), by kind and name."""
    statement = select(
        MarketShare.segment_kind,
        MarketShare.segment_key,
        MarketShare.period_kind,
        MarketShare.period_start,
        func.min(MarketShare.segment),
    ).group_by(
        MarketShare.segment_kind,
        MarketShare.segment_key,
        MarketShare.period_kind,
        MarketShare.period_start,
    )
    if kind is not None:
        statement = statement.where(MarketShare.segment_kind == kind.value)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for segment_kind, key, period_kind, start, name in (await session.execute(statement)).all():
        entry = found.setdefault(
            (segment_kind, key), {"kind": segment_kind, "segment": name, "periods": []}
        )
        entry["segment"] = min(entry["segment"], name)
        entry["periods"].append((start, PERIOD_RANK.get(period_kind, 0), period_kind))
    result = []
    for _segment, entry in sorted(found.items()):
        periods = sorted(entry["periods"], key=lambda item: (item[0], -item[1]))
        entry["periods"] = [period_label(start, PeriodKind(pk)) for start, _rank, pk in periods]
        result.append(entry)
    return result
