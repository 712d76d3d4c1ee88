"""Competitors' products (``competitors:manage``); their prices are in :mod:`.prices`.

A product may be matched to one of our products in the sales catalogue (``our_product_id``),
reached only through the ``crm_competitor_our_products`` hook the sales plugin implements:
with the sales plugin disabled nobody answers, and no match can be set.

Audited: ``competitor.product.created|updated|deleted`` (entity type ``CompetitorProduct``).
"""

from __future__ import annotations

import dataclasses
import decimal
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

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
    not_found,
    quantize_amount,
    require,
    require_version,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.models import Competitor, PriceObservation, Product
from plugins.competitor.service.profiles import find_competitor, find_row, name_key

_ = translator(__name__)

ENTITY = "CompetitorProduct"
MAX_NAME, MAX_CATEGORY = 200, 100


@dataclasses.dataclass(frozen=True)
class OurProduct:
    """One of our products as the sales catalogue describes it (through the hook)."""

    id: int
    name: str
    category: str | None
    list_price: decimal.Decimal
    currency: str
    active: bool


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


def _audit(
    session: AsyncSession, context: RequestContext, verb: str, row: Product, changes: dict[str, Any]
) -> None:
    """Record ``competitor.product.<verb>`` on a product."""
    audit.record(session, actor_of(context), f"competitor.product.{verb}", ENTITY, row.id, changes)


async def find_product(
    session: AsyncSession, product_id: int | None, argument: str, *, lock: bool = False
) -> Product:
    """The product of ``product_id`` (locked when asked), or NOT_FOUND naming ``argument``."""
    row = await find_row(session, Product, product_id, lock=lock)
    if row is None:
        raise not_found(argument, _("no competitor product with this id"))
    return row


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
    _audit(session, context, "created", row, audit.created(snapshot(row)))
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
        _audit(session, context, "updated", row, audit.diff(before, after))
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
    _audit(session, context, "deleted", row, audit.diff(before, {}))
    return row
