"""The product catalogue: creating and changing products (``sales:manage``)."""

from __future__ import annotations

import decimal
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
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
from plugins.sales import declarations, settings
from plugins.sales.models import Product

_ = translator(__name__)

SKU = re.compile(r"^[A-Z0-9][A-Z0-9._/-]*$")


def _snapshot(row: Product) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "name": row.name,
        "category": row.category,
        "listPrice": str(quantize_amount(row.list_price, row.currency)),
        "currency": row.currency,
        "active": row.active,
    }


async def _check_sku(
    session: AsyncSession, check: Check, value: str | None, product_id: int | None
) -> str | None:
    sku = check.text("sku", value, max_length=64)
    if sku is None:
        return None
    sku = sku.upper()
    if not SKU.match(sku):
        check.fail(
            "sku",
            _("may hold only letters, digits and . _ / - (no spaces)"),
            UserErrorCode.INVALID,
        )
        return None
    taken = await session.scalar(
        select(Product.id).where(Product.sku == sku, Product.id != (product_id or 0))
    )
    if taken is not None:
        check.fail("sku", _("another product has SKU {sku}", sku=sku), UserErrorCode.DUPLICATE)
        return None
    return sku


async def _flush_sku(session: AsyncSession, sku: str) -> None:
    """Flush; a concurrent change that took ``sku`` first is refused as a duplicate."""
    try:
        await session.flush()
    except IntegrityError:
        raise UserErrors.single(
            "sku", _("another product has SKU {sku}", sku=sku), UserErrorCode.DUPLICATE
        ) from None


async def create_product(
    session: AsyncSession,
    context: RequestContext,
    sku: str,
    name: str,
    category: str | None,
    list_price: decimal.Decimal,
    currency: str | None,
    active: bool,
) -> Product:
    require(context, declarations.MANAGE)
    now = context.now()
    check = Check()
    cleaned_sku = await _check_sku(session, check, sku, None)
    cleaned_name = check.text("name", name, max_length=200)
    cleaned_category = check.text("category", category, max_length=100, required=False)
    code = check_currency(check, "currency", currency or settings.load().currency)
    price = check_amount(check, "listPrice", list_price, code)
    check.done()
    assert cleaned_sku
    assert cleaned_name
    assert code
    assert price is not None
    product = Product(
        sku=cleaned_sku,
        name=cleaned_name,
        category=cleaned_category,
        list_price=price,
        currency=code,
        active=active,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    await _flush_sku(session, cleaned_sku)
    audit.record(
        session,
        actor_of(context),
        "sales.product.created",
        "Product",
        product.id,
        audit.created(_snapshot(product)),
    )
    return product


async def update_product(
    session: AsyncSession,
    context: RequestContext,
    product_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Product:
    """Change the fields named in ``changes`` (attribute name -> new value)."""
    require(context, declarations.MANAGE)
    product = None
    if product_id is not None:
        product = await session.scalar(
            select(Product).where(Product.id == product_id).with_for_update()
        )
    if product is None:
        raise not_found("input.id", _("no product with this id"))
    require_version(product, version)
    before = _snapshot(product)
    check = Check()
    if "sku" in changes:
        product_sku = await _check_sku(session, check, changes["sku"], product.id)
    if "name" in changes:
        product_name = check.text("name", changes["name"], max_length=200)
    if "category" in changes:
        category = check.text("category", changes["category"], max_length=100, required=False)
    code: str | None = product.currency
    if "currency" in changes:
        code = check_currency(check, "currency", changes["currency"])
    price: decimal.Decimal | None = product.list_price
    if "list_price" in changes or "currency" in changes:
        price = check_amount(check, "listPrice", changes.get("list_price", price), code)
    if "active" in changes and changes["active"] is None:
        check.fail("active", _("is required"), UserErrorCode.REQUIRED)
    check.done()
    if "sku" in changes:
        product.sku = product_sku or product.sku
    if "name" in changes:
        product.name = product_name or product.name
    if "category" in changes:
        product.category = category
    assert code is not None
    assert price is not None
    product.currency, product.list_price = code, price
    if "active" in changes:
        product.active = bool(changes["active"])
    after = _snapshot(product)
    if after != before:
        product.updated_at = context.now()
        await _flush_sku(session, product.sku)
        audit.record(
            session,
            actor_of(context),
            "sales.product.updated",
            "Product",
            product.id,
            audit.diff(before, after),
        )
    return product


async def our_products(
    session: AsyncSession, product_ids: Sequence[int] | None, category: str | None
) -> list[Product]:
    """The products of ``product_ids`` (inactive ones included), or else the active products
    of ``category`` (compared regardless of case), by name: the catalogue other plugins set
    their products beside (the competitor plugin's ``crm_competitor_our_products``)."""
    if product_ids is not None:
        if not product_ids:
            return []
        statement = select(Product).where(Product.id.in_(sorted(set(product_ids))))
    else:
        wanted = (category or "").strip().lower()
        if not wanted:
            return []
        statement = select(Product).where(
            func.lower(Product.category) == wanted, Product.active.is_(True)
        )
    return list((await session.scalars(statement.order_by(Product.name, Product.id))).all())
