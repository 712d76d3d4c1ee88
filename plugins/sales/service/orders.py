"""Orders, the purchase history: placing one (through the API or an importer), its status
steps (PLACED -> PAID, PLACED or PAID -> CANCELLED, PAID -> REFUNDED), the hooks and webhook
events that announce them, and keeping the customer's value tier in step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    MAX_AMOUNT,
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    call_in_turn,
    check_amount,
    check_currency,
    format_number,
    global_id,
    next_value,
    not_found,
    quantize_amount,
    require,
    require_version,
    translator,
    writable_customer,
)
from core.plugin_api import Customer as CustomerRow
from plugins.sales import declarations, models, webhooks
from plugins.sales import settings as sales_settings
from plugins.sales.service import purchases
from plugins.sales.service.opportunities import check_owner

_ = translator(__name__)

COUNTER = "sales_order"
NUMBER_PREFIX = "SO"
MAX_LINES = 500
MAX_QUANTITY = decimal.Decimal("1000000000000000")
"""Quantities stay below 10^15 (the column holds 15 digits before the point)."""
HUNDRED = decimal.Decimal(100)


@dataclasses.dataclass(frozen=True)
class LineValues:
    """One line of an order to place, as given (``None``: the default)."""

    product_id: int | None
    quantity: decimal.Decimal | None
    unit_price: decimal.Decimal | None = None
    discount_percent: decimal.Decimal | None = None


def require_read(context: RequestContext) -> None:
    """Refuse a caller holding neither ``sales:read`` nor ``sales:read_orders``."""
    declarations.require_reader(context, declarations.ORDERS)


async def find_by_external_ref(
    session: AsyncSession, source: str, external_ref: str
) -> models.Order | None:
    """The order a feed named ``source`` sent as ``external_ref`` (not scoped: an importer
    uses it to skip what it imported before)."""
    found: models.Order | None = await session.scalar(
        select(models.Order).where(
            models.Order.source == source, models.Order.external_ref == external_ref
        )
    )
    return found


def _line_total(
    quantity: decimal.Decimal, price: decimal.Decimal, discount: decimal.Decimal
) -> decimal.Decimal:
    """quantity x price less the discount, unrounded (compare it with :data:`MAX_AMOUNT`
    before rounding: a product past 28 digits cannot be rounded to cents)."""
    return quantity * price * (1 - discount / HUNDRED)


def _check_quantity(check: Check, field: str, value: decimal.Decimal | None) -> None:
    if value is None:
        check.fail(field, _("is required"), UserErrorCode.REQUIRED)
    elif not value.is_finite():
        check.fail(field, _("must be a number"), UserErrorCode.INVALID)
    elif value <= 0:
        check.fail(field, _("must be more than 0"), UserErrorCode.OUT_OF_RANGE)
    elif value >= MAX_QUANTITY:
        check.fail(field, _("must be less than 10^15"), UserErrorCode.OUT_OF_RANGE)
    elif value != value.quantize(decimal.Decimal("0.001")):
        check.fail(field, _("has more than 3 decimal places"), UserErrorCode.INVALID)


def _check_discount(check: Check, field: str, value: decimal.Decimal) -> None:
    if not value.is_finite():
        check.fail(field, _("must be a number"), UserErrorCode.INVALID)
    elif value < 0 or value > HUNDRED:
        check.fail(field, _("must be between 0 and 100"), UserErrorCode.OUT_OF_RANGE)
    elif value != value.quantize(decimal.Decimal("0.01")):
        check.fail(field, _("has more than 2 decimal places"), UserErrorCode.INVALID)


async def _check_lines(
    session: AsyncSession, check: Check, lines: Sequence[LineValues], currency: str | None
) -> list[models.OrderLine]:
    """The order's lines, or none after recording what is wrong with them."""
    if not lines:
        check.fail("lines", _("an order needs at least one line"), UserErrorCode.REQUIRED)
        return []
    if len(lines) > MAX_LINES:
        check.fail(
            "lines", _("an order has at most {max} lines", max=MAX_LINES), UserErrorCode.TOO_LONG
        )
        return []
    ids = {line.product_id for line in lines if line.product_id is not None}
    products = {
        p.id: p
        for p in (
            await session.scalars(select(models.Product).where(models.Product.id.in_(ids)))
        ).all()
    }
    built: list[models.OrderLine] = []
    for index, line in enumerate(lines):
        field = f"lines.{index}"
        product = products.get(line.product_id) if line.product_id is not None else None
        if line.product_id is None:
            if not check.has_error(f"{field}.productId"):  # else: not a Product's id
                check.fail(f"{field}.productId", _("is required"), UserErrorCode.REQUIRED)
        elif product is None:
            check.fail(f"{field}.productId", _("no product has this id"), UserErrorCode.INVALID)
        elif not product.active:
            check.fail(
                f"{field}.productId",
                _("product {sku} is inactive and cannot be sold", sku=product.sku),
                UserErrorCode.BUSINESS_RULE,
            )
        _check_quantity(check, f"{field}.quantity", line.quantity)
        discount = (
            line.discount_percent if line.discount_percent is not None else decimal.Decimal(0)
        )
        _check_discount(check, f"{field}.discountPercent", discount)
        price = line.unit_price
        if price is None and product is not None and currency is not None:
            if product.currency != currency:
                check.fail(
                    f"{field}.unitPrice",
                    _(
                        "is required: the list price of {sku} is in {theirs}, not the order's "
                        "{currency}",
                        sku=product.sku,
                        theirs=product.currency,
                        currency=currency,
                    ),
                    UserErrorCode.REQUIRED,
                )
            else:
                price = product.list_price
        elif price is not None:
            price = check_amount(check, f"{field}.unitPrice", price, currency)
        if check.errors or product is None or price is None or currency is None:
            continue
        assert line.quantity is not None
        raw = _line_total(line.quantity, price, discount)
        if raw >= MAX_AMOUNT:
            check.fail(field, _("its total must be less than 10^14"), UserErrorCode.OUT_OF_RANGE)
            continue
        total = quantize_amount(raw, currency)
        built.append(
            models.OrderLine(
                position=index + 1,
                product_id=product.id,
                quantity=line.quantity,
                unit_price=price,
                discount_percent=discount,
                total=total,
            )
        )
    return built


async def place_order(
    session: AsyncSession,
    context: RequestContext,
    *,
    customer_id: int | None,
    lines: Sequence[LineValues],
    owner_id: int | None = None,
    ordered_at: dt.datetime | None = None,
    currency: str | None = None,
    source: str | None = None,
    external_ref: str | None = None,
    check: Check | None = None,
) -> models.Order:
    """Place an order of plain values (the API's ``placeOrder`` and an importer's row).

    Refused input is :class:`UserErrors` naming the field (``lines.0.unitPrice``); a
    customer the caller may not sell to is NOT_FOUND naming ``input.customerId``."""
    caller = require(context, declarations.WRITE)
    check = check or Check()
    now = context.now()
    code = check_currency(check, "currency", currency or sales_settings.load().currency)
    when = ordered_at or now
    if when > now:
        check.fail("orderedAt", _("must not be in the future"), UserErrorCode.OUT_OF_RANGE)
    await check_owner(session, context, check, owner_id)
    owner = owner_id if owner_id is not None else caller.user_id
    cleaned_source = check.text("source", source, max_length=32, required=False)
    ref = check.text("externalRef", external_ref, max_length=100, required=False)
    if ref is not None and cleaned_source is None and not check.has_error("source"):
        check.fail("source", _("is required with externalRef"), UserErrorCode.REQUIRED)
    built = await _check_lines(session, check, lines, code)
    total = sum((line.total for line in built), decimal.Decimal(0))
    if built and code is not None and total >= MAX_AMOUNT:
        check.fail(
            "lines", _("the order's total must be less than 10^14"), UserErrorCode.OUT_OF_RANGE
        )
    check.done()
    customer = await writable_customer(
        session, context, customer_id, "customerId", declarations.WRITE
    )
    # Only once the customer is in reach: a duplicate says nothing of others' customers.
    if cleaned_source and ref and await find_by_external_ref(session, cleaned_source, ref):
        raise UserErrors.single("externalRef", _duplicate(cleaned_source), UserErrorCode.DUPLICATE)
    assert code is not None
    order = models.Order(
        number=format_number(NUMBER_PREFIX, await next_value(session, COUNTER)),
        customer_id=customer.id,
        owner_id=owner,
        ordered_at=when,
        status="PLACED",
        currency=code,
        total=total,
        source=cleaned_source,
        external_ref=ref,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(order)
            await session.flush()
    except IntegrityError:  # the same (source, externalRef) placed concurrently
        if ref is None:
            raise
        raise UserErrors.single(
            "externalRef", _duplicate(cleaned_source or ""), UserErrorCode.DUPLICATE
        ) from None
    for line in built:
        line.order_id = order.id
    session.add_all(built)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "sales.order.placed",
        "Order",
        order.id,
        audit.created(
            {
                "number": order.number,
                "customerId": global_id("Customer", customer.id),
                "ownerId": global_id("User", owner),
                "orderedAt": when.isoformat(),
                "currency": code,
                "total": str(total),
                "lines": len(built),
                "source": cleaned_source,
                "externalRef": ref,
            }
        ),
    )
    await purchases.refresh_values(session, [customer.id], now, context.settings.zone)
    await call_in_turn(
        context.pm.hook.crm_sales_order_placed, session=session, order=order, context=context
    )
    await webhooks.order_placed(session, order, now)
    return order


def _duplicate(source: str) -> str:
    return _("an order from {source} with this reference exists", source=source)


async def writable_order(
    session: AsyncSession, context: RequestContext, order_id: int | None
) -> models.Order:
    """The order, locked, if the caller may change it; NOT_FOUND naming ``input.id``.

    Its customer is locked first, then the order: the order in which placing an order, a
    merge and the value tier take their locks, so that two of them never wait on each other.
    """
    require(context, declarations.WRITE)
    order = None
    if order_id is not None:
        reachable = (
            models.Order.id == order_id,
            declarations.visible(context, declarations.ORDERS, declarations.WRITE),
        )
        customer_id = await session.scalar(select(models.Order.customer_id).where(*reachable))
        if customer_id is not None:
            await session.execute(
                select(CustomerRow.id).where(CustomerRow.id == customer_id).with_for_update()
            )
            order = await session.scalar(select(models.Order).where(*reachable).with_for_update())
    if order is None:
        raise not_found("input.id", _("no order with this id that you may change"))
    return order


FROM = {"PAID": ("PLACED",), "CANCELLED": ("PLACED", "PAID"), "REFUNDED": ("PAID",)}
"""The statuses an order may reach each target status from."""


async def move(
    session: AsyncSession,
    context: RequestContext,
    order_id: int | None,
    version: int | None,
    target: str,
) -> models.Order:
    """Mark an order paid, cancel it or refund it; announce cancellations and refunds."""
    order = await writable_order(session, context, order_id)
    require_version(order, version)
    current = order.status
    if current not in FROM[target]:
        raise UserErrors.single(
            "id",
            _("an order cannot go from {current} to {target}", current=current, target=target),
            UserErrorCode.INVALID_TRANSITION,
        )
    now = context.now()
    order.status = target
    order.updated_at = now
    stamp = {"PAID": "paid_at", "CANCELLED": "cancelled_at", "REFUNDED": "refunded_at"}[target]
    setattr(order, stamp, now)
    await session.flush()
    verbs = {"PAID": "paid", "CANCELLED": "cancelled", "REFUNDED": "refunded"}
    audit.record(
        session,
        actor_of(context),
        f"sales.order.{verbs[target]}",
        "Order",
        order.id,
        audit.diff({"status": current}, {"status": target}),
    )
    await purchases.refresh_values(session, [order.customer_id], now, context.settings.zone)
    if target in ("CANCELLED", "REFUNDED"):
        refunded = target == "REFUNDED"
        hook: Any = context.pm.hook
        await call_in_turn(
            hook.crm_sales_order_cancelled,
            session=session,
            order=order,
            refunded=refunded,
            context=context,
        )
        await webhooks.order_cancelled(session, order, current, now)
    return order
