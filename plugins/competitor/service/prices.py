"""Competitors' prices: the price history of their products (``competitors:write`` records
an observation, ``competitors:manage`` deletes one) and the comparison of their latest
prices with our list prices (from the sales catalogue, through
:func:`.products.our_products`).

Audited: ``competitor.price.recorded|deleted`` (entity type ``CompetitorPrice``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    check_amount,
    check_currency,
    not_found,
    quantize_amount,
    require,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.models import Competitor, PriceObservation, Product
from plugins.competitor.service.calendar import today
from plugins.competitor.service.products import OurProduct, find_product, our_products
from plugins.competitor.service.profiles import ARCHIVED, find_row

_ = translator(__name__)

ENTITY = "CompetitorPrice"
MAX_REGION, MAX_SOURCE = 100, 500
HUNDRED = decimal.Decimal(100)
ONE_PLACE = decimal.Decimal("0.1")

UP, DOWN, FLAT = "UP", "DOWN", "FLAT"
"""How a product's latest price compares with its previous observation."""


@dataclasses.dataclass(frozen=True)
class PriceComparisonRow:
    """A competitor's product beside ours: their latest observed price (in ``region`` when
    one was asked for), the previous observation of the same region and currency, our
    matched product's list price, and the difference (only in one currency: ``their - our``,
    and that as a percentage of ours, unrounded)."""

    product_id: int
    competitor_id: int
    product_name: str
    category: str | None
    our_product_id: int | None
    our_product_name: str | None
    their_amount: decimal.Decimal | None
    their_currency: str | None
    observed_on: dt.date | None
    region: str | None
    previous_amount: decimal.Decimal | None
    our_amount: decimal.Decimal | None
    our_currency: str | None
    difference: decimal.Decimal | None
    difference_percent: decimal.Decimal | None
    trend: str | None
    """UP, DOWN or FLAT against ``previous_amount``; None without a previous observation."""


def one_place(value: decimal.Decimal | None) -> decimal.Decimal | None:
    """A percentage as shown: ``value`` rounded half-up to one decimal place (``None``
    stays ``None``)."""
    return None if value is None else value.quantize(ONE_PLACE, rounding=decimal.ROUND_HALF_UP)


def rounded_percent(value: decimal.Decimal | None) -> float | None:
    """A percentage as the API shows it: one decimal place, halves rounded up."""
    rounded = one_place(value)
    return None if rounded is None else float(rounded)


def price_snapshot(row: PriceObservation) -> dict[str, Any]:
    return {
        "productId": row.product_id,
        "amount": quantize_amount(row.amount, row.currency),
        "currency": row.currency,
        "observedOn": row.observed_on,
        "region": row.region,
        "source": row.source,
    }


def _audit(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: PriceObservation,
    changes: dict[str, Any],
) -> None:
    """Record ``competitor.price.<verb>`` on a price observation."""
    audit.record(session, actor_of(context), f"competitor.price.{verb}", ENTITY, row.id, changes)


async def record_price(
    session: AsyncSession,
    context: RequestContext,
    product_id: int | None,
    values: Mapping[str, Any],
) -> PriceObservation:
    """A price of the product seen on a day (``observed_on``, today when None; never after
    today in the deployment's calendar); ``values`` holds ``amount``, ``currency``,
    ``observed_on``, ``region``, ``source``."""
    caller = require(context, declarations.WRITE)
    # Locked: a product deleted meanwhile is NOT_FOUND rather than a failed insert.
    product = await find_product(session, product_id, "input.productId", lock=True)
    check = Check()
    currency = check_currency(check, "currency", values["currency"])
    amount = check_amount(check, "amount", values["amount"], currency, allow_zero=False)
    day = today(context)
    observed_on = values["observed_on"] or day
    if observed_on > day:
        check.fail(
            "observedOn",
            _("must not be after today ({today})", today=day.isoformat()),
            UserErrorCode.OUT_OF_RANGE,
        )
    region = check.text("region", values["region"], max_length=MAX_REGION, required=False)
    source = check.text("source", values["source"], max_length=MAX_SOURCE, required=False)
    check.done()
    assert amount is not None
    assert currency is not None
    row = PriceObservation(
        product_id=product.id,
        amount=amount,
        currency=currency,
        observed_on=observed_on,
        region=region,
        source=source,
        reporter_id=caller.user_id,
        created_at=context.now(),
    )
    session.add(row)
    await session.flush()
    _audit(session, context, "recorded", row, audit.created(price_snapshot(row)))
    return row


async def delete_price(
    session: AsyncSession, context: RequestContext, price_id: int | None
) -> PriceObservation:
    """Remove a price observation recorded by mistake."""
    require(context, declarations.MANAGE)
    row = await find_row(session, PriceObservation, price_id, lock=True)
    if row is None:
        raise not_found("input.id", _("no price observation with this id"))
    before = price_snapshot(row)
    await session.delete(row)
    await session.flush()
    _audit(session, context, "deleted", row, audit.diff(before, {}))
    return row


async def latest_prices(
    session: AsyncSession, product_ids: Sequence[int], region: str | None = None
) -> dict[int, tuple[PriceObservation, PriceObservation | None]]:
    """Each product's latest observation (by day, then as recorded) and the one before it in
    the same region (regardless of case) and currency; only observations in ``region``
    (regardless of case) when given. Products without an observation are left out."""
    o = PriceObservation
    if not product_ids:
        return {}
    region_key = func.lower(o.region)
    rank = (
        func.row_number()
        .over(
            partition_by=(o.product_id, region_key, o.currency),
            order_by=(o.observed_on.desc(), o.id.desc()),
        )
        .label("rank")
    )
    ranked = select(o.id, rank, region_key.label("region_key")).where(
        o.product_id.in_(sorted(set(product_ids)))
    )
    wanted = (region or "").strip().lower()
    if wanted:
        ranked = ranked.where(region_key == wanted)
    inner = ranked.subquery()
    rows = (
        await session.execute(
            select(o, inner.c.rank, inner.c.region_key)
            .join(inner, inner.c.id == o.id)
            .where(inner.c.rank <= 2)
        )
    ).all()
    firsts: dict[tuple[Any, ...], PriceObservation] = {}
    seconds: dict[tuple[Any, ...], PriceObservation] = {}
    for row, position, key in rows:
        part = (row.product_id, key, row.currency)
        (firsts if position == 1 else seconds)[part] = row
    found: dict[int, tuple[PriceObservation, PriceObservation | None]] = {}
    for part, row in firsts.items():
        best = found.get(row.product_id)
        if best is None or (row.observed_on, row.id) > (best[0].observed_on, best[0].id):
            found[row.product_id] = (row, seconds.get(part))
    return found


def _trend(latest: decimal.Decimal | None, previous: decimal.Decimal | None) -> str | None:
    if latest is None or previous is None:
        return None
    if latest == previous:
        return FLAT
    return UP if latest > previous else DOWN


async def price_comparison(
    session: AsyncSession,
    context: RequestContext,
    *,
    category: str | None = None,
    our_product_id: int | None = None,
    competitor_ids: Collection[int] | None = None,
    region: str | None = None,
) -> list[PriceComparisonRow]:
    """One row per competitor product matched to ``our_product_id``, or in ``category``
    (regardless of case), or (neither given) matched to any product of ours; of the
    competitors of ``competitor_ids`` only when given (archived ones too), else of every
    competitor not archived. Ordered by competitor and product name. A fixed number of
    statements, however many rows."""
    p, c = Product, Competitor
    statement = select(p).join(c, c.id == p.competitor_id)
    if competitor_ids is not None:
        statement = statement.where(p.competitor_id.in_(sorted(set(competitor_ids))))
    else:
        statement = statement.where(c.status != ARCHIVED)
    wanted = (category or "").strip().lower()
    if wanted:
        statement = statement.where(func.lower(p.category) == wanted)
    if our_product_id is not None:
        statement = statement.where(p.our_product_id == our_product_id)
    if not wanted and our_product_id is None:
        statement = statement.where(p.our_product_id.is_not(None))
    products = (await session.scalars(statement.order_by(c.name_key, p.name_key, p.id))).all()
    if not products:
        return []
    prices = await latest_prices(session, [row.id for row in products], region)
    matched = sorted({row.our_product_id for row in products if row.our_product_id is not None})
    ours = await our_products(session, context.pm, matched) if matched else []
    by_id = {product.id: product for product in ours or []}
    return [_row(product, prices.get(product.id), by_id) for product in products]


def _row(
    product: Product,
    observed: tuple[PriceObservation, PriceObservation | None] | None,
    ours: Mapping[int, OurProduct],
) -> PriceComparisonRow:
    our = ours.get(product.our_product_id) if product.our_product_id is not None else None
    latest, previous = observed or (None, None)
    their = before = difference = percent = None
    if latest is not None:
        their = quantize_amount(latest.amount, latest.currency)
        before = quantize_amount(previous.amount, previous.currency) if previous else None
        if our is not None and latest.currency == our.currency:
            difference = their - our.list_price
            percent = difference / our.list_price * HUNDRED if our.list_price else None
    return PriceComparisonRow(
        product_id=product.id,
        competitor_id=product.competitor_id,
        product_name=product.name,
        category=product.category,
        our_product_id=product.our_product_id,
        our_product_name=our.name if our else None,
        their_amount=their,
        their_currency=latest.currency if latest else None,
        observed_on=latest.observed_on if latest else None,
        region=latest.region if latest else None,
        previous_amount=before,
        our_amount=our.list_price if our else None,
        our_currency=our.currency if our else None,
        difference=difference,
        difference_percent=percent,
        trend=_trend(their, before),
    )


def average_delta(rows: Sequence[PriceComparisonRow]) -> decimal.Decimal | None:
    """The mean of the rows' ``difference_percent`` (those that have one), unrounded: how
    much dearer (positive) or cheaper they are than we are; None when no row compares."""
    values = [row.difference_percent for row in rows if row.difference_percent is not None]
    if not values:
        return None
    return sum(values, decimal.Decimal(0)) / len(values)
