"""Competitors' products (``competitors:manage``) and their prices: the price history
(``competitors:write`` records an observation, ``competitors:manage`` deletes one) and the
comparison of their latest prices with our list prices.

A product may be matched to one of our products in the sales catalogue (``our_product_id``),
reached only through the ``crm_competitor_our_products`` hook the sales plugin implements:
with the sales plugin disabled nobody answers, and no match can be set.

Audited: ``competitor.product.created|updated|deleted`` (entity type ``CompetitorProduct``)
and ``competitor.price.recorded|deleted`` (``CompetitorPrice``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    CRMPluginManager,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    check_amount,
    check_currency,
    not_found,
    quantize_amount,
    require,
    require_version,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.models import Competitor, PriceObservation, Product
from plugins.competitor.service.profiles import ARCHIVED, find_competitor, name_key

_ = translator(__name__)

M = TypeVar("M", Product, PriceObservation)

MAX_NAME, MAX_CATEGORY, MAX_REGION, MAX_SOURCE = 200, 100, 100, 500
HUNDRED = decimal.Decimal(100)
TENTH = decimal.Decimal("0.1")


UP, DOWN, FLAT = "UP", "DOWN", "FLAT"
"""How a product's latest price compares with its previous observation."""


@dataclasses.dataclass(frozen=True)
class OurProduct:
    """One of our products as the sales catalogue describes it (through the hook)."""

    id: int
    name: str
    category: str | None
    list_price: decimal.Decimal
    currency: str
    active: bool


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


def today(context: RequestContext) -> dt.date:
    """The deployment's calendar day now (``CRM_TIME_ZONE``), whoever asks."""
    return context.now().astimezone(context.settings.zone).date()


def rounded_percent(value: decimal.Decimal | None) -> float | None:
    """A percentage as the API shows it: one decimal place, halves rounded up."""
    if value is None:
        return None
    return float(value.quantize(TENTH, rounding=decimal.ROUND_HALF_UP))


async def our_products(
    session: AsyncSession,
    pm: CRMPluginManager,
    product_ids: Sequence[int] | None,
    category: str | None = None,
) -> list[OurProduct] | None:
    """Our products of ``product_ids`` (or else the active ones of ``category``) from the
    sales catalogue, through the ``crm_competitor_our_products`` hook; ``None`` when no
    catalogue answers (the sales plugin is disabled)."""
    answer: Any = pm.hook.crm_competitor_our_products(
        session=session, product_ids=product_ids, category=category
    )
    if inspect.isawaitable(answer):
        answer = await answer
    if answer is None:
        return None
    return [
        OurProduct(
            id=row.id,
            name=row.name,
            category=row.category,
            list_price=quantize_amount(row.list_price, row.currency),
            currency=row.currency,
            active=bool(row.active),
        )
        for row in answer
    ]


async def _check_our_product(
    session: AsyncSession, context: RequestContext, check: Check, our_product_id: int | None
) -> None:
    """An unknown product of ours is NOT_FOUND; without the sales plugin no match is set."""
    if our_product_id is None:
        return
    found = await our_products(session, context.pm, [our_product_id])
    if found is None:
        check.fail(
            "ourProductId",
            _(
                "cannot be set: matching our products needs the sales plugin's catalogue, "
                "and the sales plugin is not enabled"
            ),
            UserErrorCode.BUSINESS_RULE,
        )
    elif not found:
        raise not_found("input.ourProductId", _("no product of ours has this id"))


def snapshot(row: Product) -> dict[str, Any]:
    return {
        "competitorId": row.competitor_id,
        "name": row.name,
        "category": row.category,
        "ourProductId": row.our_product_id,
    }


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
    session: AsyncSession, context: RequestContext, verb: str, row: Any, changes: dict[str, Any]
) -> None:
    """Record ``competitor.<verb>`` on a product or a price observation."""
    entity = "CompetitorPrice" if isinstance(row, PriceObservation) else "CompetitorProduct"
    audit.record(session, actor_of(context), f"competitor.{verb}", entity, row.id, changes)


async def find_product(
    session: AsyncSession, product_id: int | None, argument: str, *, lock: bool = False
) -> Product:
    """The product of ``product_id`` (locked when asked), or NOT_FOUND naming ``argument``."""
    row = await _find(session, Product, product_id, lock)
    if row is None:
        raise not_found(argument, _("no competitor product with this id"))
    return row


async def _find(session: AsyncSession, model: type[M], row_id: int | None, lock: bool) -> M | None:
    if row_id is None:
        return None
    statement = select(model).where(model.id == row_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


def _duplicate(competitor: str, name: str) -> str:
    return _("{competitor} already has a product named {name}", competitor=competitor, name=name)


async def _check_name(
    session: AsyncSession,
    check: Check,
    competitor: Competitor,
    value: str | None,
    product_id: int | None,
) -> str | None:
    name = check.text("name", value, max_length=MAX_NAME)
    if name is None or len(name_key(name)) > MAX_NAME:
        if name is not None:
            too_long = _("must be at most {max} characters", max=MAX_NAME)
            check.fail("name", too_long, UserErrorCode.TOO_LONG)
        return None
    taken = await session.scalar(
        select(Product.name).where(
            Product.competitor_id == competitor.id,
            Product.name_key == name_key(name),
            Product.id != (product_id or 0),
        )
    )
    if taken is not None:
        check.fail("name", _duplicate(competitor.name, taken), UserErrorCode.DUPLICATE)
        return None
    return name


async def _flush_name(session: AsyncSession, competitor: str, name: str) -> None:
    """Flush; a concurrent change that took the name first is refused as a duplicate (the
    names are read before: a failed flush expires the rows)."""
    try:
        await session.flush()
    except IntegrityError:
        raise UserErrors.single(
            "name", _duplicate(competitor, name), UserErrorCode.DUPLICATE
        ) from None


async def create_product(
    session: AsyncSession,
    context: RequestContext,
    competitor_id: int | None,
    values: Mapping[str, Any],
) -> Product:
    """A competitor's product; ``values`` holds ``name``, ``category``, ``our_product_id``."""
    require(context, declarations.MANAGE)
    competitor = await find_competitor(session, competitor_id, "input.competitorId")
    check = Check()
    await _check_our_product(session, context, check, values["our_product_id"])
    name = await _check_name(session, check, competitor, values["name"], None)
    category = check.text("category", values["category"], max_length=MAX_CATEGORY, required=False)
    check.done()
    assert name is not None
    now = context.now()
    row = Product(
        competitor_id=competitor.id,
        name=name,
        name_key=name_key(name),
        category=category,
        our_product_id=values["our_product_id"],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await _flush_name(session, competitor.name, name)
    _audit(session, context, "product.created", row, audit.created(snapshot(row)))
    return row


async def update_product(
    session: AsyncSession,
    context: RequestContext,
    product_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Product:
    """Change the fields named in ``changes`` (``name``, ``category``, ``our_product_id``:
    ``None`` clears the match); a stale version is a CONFLICT."""
    require(context, declarations.MANAGE)
    row = await find_product(session, product_id, "input.id", lock=True)
    require_version(row, version)
    competitor = await find_competitor(session, row.competitor_id, "input.id")
    check = Check()
    new: dict[str, Any] = {}
    if "our_product_id" in changes:
        if changes["our_product_id"] != row.our_product_id:
            await _check_our_product(session, context, check, changes["our_product_id"])
        new["our_product_id"] = changes["our_product_id"]
    if "name" in changes:
        name = await _check_name(session, check, competitor, changes["name"], row.id)
        if name is not None:
            new["name"], new["name_key"] = name, name_key(name)
    if "category" in changes:
        new["category"] = check.text(
            "category", changes["category"], max_length=MAX_CATEGORY, required=False
        )
    check.done()
    before = snapshot(row)
    for attribute, value in new.items():
        setattr(row, attribute, value)
    after = snapshot(row)
    if after != before:
        row.updated_at = context.now()
        await _flush_name(session, competitor.name, row.name)
        _audit(session, context, "product.updated", row, audit.diff(before, after))
    return row


async def delete_product(
    session: AsyncSession, context: RequestContext, product_id: int | None, version: int
) -> Product:
    """Remove a product with its price history (customers' links to it keep the competitor
    and lose the product)."""
    require(context, declarations.MANAGE)
    row = await find_product(session, product_id, "input.id", lock=True)
    require_version(row, version)
    prices = await session.scalar(
        select(func.count())
        .select_from(PriceObservation)
        .where(PriceObservation.product_id == row.id)
    )
    before = snapshot(row) | {"prices": int(prices or 0)}
    await session.delete(row)
    await session.flush()
    _audit(session, context, "product.deleted", row, audit.diff(before, {}))
    return row


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
    _audit(session, context, "price.recorded", row, audit.created(price_snapshot(row)))
    return row


async def delete_price(
    session: AsyncSession, context: RequestContext, price_id: int | None
) -> PriceObservation:
    """Remove a price observation recorded by mistake."""
    require(context, declarations.MANAGE)
    row = await _find(session, PriceObservation, price_id, lock=True)
    if row is None:
        raise not_found("input.id", _("no price observation with this id"))
    before = price_snapshot(row)
    await session.delete(row)
    await session.flush()
    _audit(session, context, "price.deleted", row, audit.diff(before, {}))
    return row


async def latest_prices(
    session: AsyncSession, product_ids: Sequence[int], region: str | None = None
) -> dict[int, tuple[PriceObservation, PriceObservation | None]]:
    """Each product's latest observation (by day, then as recorded) and the one before it in
    the same region and currency; only observations in ``region`` (regardless of case) when
    given. Products without an observation are left out."""
    o = PriceObservation
    if not product_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=(o.product_id, o.region, o.currency),
            order_by=(o.observed_on.desc(), o.id.desc()),
        )
        .label("rank")
    )
    ranked = select(o.id, rank).where(o.product_id.in_(sorted(set(product_ids))))
    wanted = (region or "").strip().lower()
    if wanted:
        ranked = ranked.where(func.lower(o.region) == wanted)
    inner = ranked.subquery()
    rows = (
        await session.execute(
            select(o, inner.c.rank).join(inner, inner.c.id == o.id).where(inner.c.rank <= 2)
        )
    ).all()
    firsts: dict[tuple[Any, ...], PriceObservation] = {}
    seconds: dict[tuple[Any, ...], PriceObservation] = {}
    for row, position in rows:
        part = (row.product_id, row.region, row.currency)
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
    competitor_id: int | None = None,
    region: str | None = None,
) -> list[PriceComparisonRow]:
    """One row per competitor product matched to ``our_product_id``, or in ``category``
    (regardless of case), or (neither given) matched to any product of ours; of
    ``competitor_id`` only when given, else of every competitor not archived. Ordered by
    competitor and product name."""
    p, c = Product, Competitor
    statement = select(p).join(c, c.id == p.competitor_id)
    if competitor_id is not None:
        statement = statement.where(p.competitor_id == competitor_id)
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
