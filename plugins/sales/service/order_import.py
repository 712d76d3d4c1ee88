"""Importing orders from a feed (an ERP's or a shop's CSV export): all rows or none, as
customers are imported, and never the same order twice.

One row per order line; the rows of one order share its ``external_ref`` (the order's id in
its source) and give the order's own columns (customer, time, currency, owner) on its first
row, or the same on every row. An order whose (source, external_ref) was imported before is
skipped, so a feed imported twice, or by two processes at once, creates its orders once.
Each order is placed by the same service as ``placeOrder`` (same checks, same scope, same
hooks and audit), in a savepoint, so one bad order is reported with its lines without
spoiling the others' checks; if any row is bad, or on a dry run, nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ApiError,
    Check,
    ParsedRow,
    RequestContext,
    RowError,
    User,
    UserErrorCode,
    UserErrors,
    read_csv,
    require,
    row_errors,
    translator,
)
from core.plugin_api import Customer as CustomerRow
from plugins.sales import declarations, models
from plugins.sales.service import orders

_ = translator(__name__)

ORDER_COLUMNS = ("customer_number", "ordered_at", "currency", "owner_email")
"""The columns that belong to the order (its first row gives them; later rows repeat or
leave them empty)."""
LINE_COLUMNS = ("sku", "quantity", "unit_price", "discount_percent")
COLUMNS = ("external_ref", *ORDER_COLUMNS, *LINE_COLUMNS)
REQUIRED_COLUMNS = ("external_ref", "customer_number", "sku", "quantity")

# Where a refusal of the order service points, as the file's column.
_COLUMN_OF_FIELD = {
    "customerId": "customer_number",
    "orderedAt": "ordered_at",
    "currency": "currency",
    "ownerId": "owner_email",
    "externalRef": "external_ref",
    "lines": "sku",
}
_COLUMN_OF_LINE_FIELD = {
    "productId": "sku",
    "quantity": "quantity",
    "unitPrice": "unit_price",
    "discountPercent": "discount_percent",
}


@dataclass
class OrderImportResult:
    created: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def imported(self) -> bool:
        return not self.dry_run and not self.errors


def _too_many_rows(max_rows: int) -> str:
    return _(
        "has more than {max} rows, the most importOrders takes in one request "
        "(CRM_IMPORT_SYNC_MAX_ROWS); split the feed",
        max=max_rows,
    )


def _check_header(header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise UserErrors.single(
            "csv",
            _("the CSV has no {columns} column", columns=", ".join(missing)),
            UserErrorCode.INVALID,
        )


async def import_orders(
    session: AsyncSession, context: RequestContext, text: str, source: str | None, dry_run: bool
) -> OrderImportResult:
    """Place the orders of CSV ``text`` from feed ``source`` in the caller's transaction
    (the caller's :func:`mutate` keeps them only when the result says ``imported``)."""
    require(context, declarations.WRITE)
    check = Check()
    name = check.text("source", source, max_length=32)
    check.done()
    assert name is not None
    rows = read_csv(
        text,
        columns=COLUMNS,
        max_rows=context.settings.import_sync_max_rows,
        too_many_rows=_too_many_rows(context.settings.import_sync_max_rows),
        check_header=_check_header,
    )
    result = OrderImportResult(dry_run=dry_run)
    groups: dict[str, list[ParsedRow]] = {}
    for row in rows:
        if row.error is not None:
            result.errors.append(row.error)
            continue
        ref = row.values.get("external_ref") or ""
        if not ref:
            result.errors.append(
                RowError(row.line, "external_ref", _("is required"), UserErrorCode.REQUIRED)
            )
            continue
        groups.setdefault(ref, []).append(row)
    for ref, group in groups.items():
        if await orders.find_by_external_ref(session, name, ref) is not None:
            result.skipped += 1
            continue
        errors = await _place(session, context, name, ref, group)
        if errors is None:
            result.created += 1
        elif _placed_meanwhile(errors):
            result.skipped += 1  # another import of the same feed placed it first
        else:
            result.errors.extend(errors)
    return result


async def _place(
    session: AsyncSession,
    context: RequestContext,
    source: str,
    ref: str,
    group: Sequence[ParsedRow],
) -> list[RowError] | None:
    """Place the order of ``group`` (its rows); the rows' errors if it is refused."""
    errors = _order_values_agree(group)
    head = {
        column: next((r.values[column] for r in group if r.values.get(column)), None)
        for column in ORDER_COLUMNS
    }
    first = group[0].line
    check = Check()
    customer_id = await _customer(session, context, check, head["customer_number"])
    ordered_at = _time(check, head["ordered_at"], context)
    owner_id = await _owner(session, check, head["owner_email"])
    lines = [
        orders.LineValues(
            product_id=await _product(session, check, index, row.values.get("sku")),
            quantity=_decimal(check, f"lines.{index}.quantity", row.values.get("quantity")),
            unit_price=_decimal(check, f"lines.{index}.unitPrice", row.values.get("unit_price")),
            discount_percent=_decimal(
                check, f"lines.{index}.discountPercent", row.values.get("discount_percent")
            ),
        )
        for index, row in enumerate(group)
    ]
    try:
        async with session.begin_nested():
            await orders.place_order(
                session,
                context,
                customer_id=customer_id,
                lines=lines,
                owner_id=owner_id,
                ordered_at=ordered_at,
                currency=head["currency"],
                source=source,
                external_ref=ref,
                check=check,
            )
    except (UserErrors, ApiError) as exc:
        seen = {(e.line, e.field) for e in errors}
        for error in row_errors(first, exc):
            line, column = _where(group, first, error.field)
            if (line, column) not in seen:  # one problem per cell: the first found
                seen.add((line, column))
                errors.append(RowError(line, column, error.message, error.code))
    return errors or None


def _placed_meanwhile(errors: Sequence[RowError]) -> bool:
    return len(errors) == 1 and errors[0].code is UserErrorCode.DUPLICATE


def _where(group: Sequence[ParsedRow], first: int, field: str | None) -> tuple[int, str | None]:
    """The line and column of the file that an error of the order service names."""
    if field is None:
        return first, None
    parts = field.split(".")
    if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
        index = int(parts[1])
        line = group[index].line if index < len(group) else first
        return line, _COLUMN_OF_LINE_FIELD.get(parts[2], parts[2])
    return first, _COLUMN_OF_FIELD.get(parts[0], field)


def _order_values_agree(group: Sequence[ParsedRow]) -> list[RowError]:
    """A later row that gives an order column a value other than the first row's."""
    errors = []
    for column in ORDER_COLUMNS:
        given = None
        for row in group:
            value = row.values.get(column)
            if not value:
                continue
            if given is None:
                given = value
            elif value != given:
                message = _(
                    "differs from the order's first row ({value}); the rows of one "
                    "external_ref are one order",
                    value=given,
                )
                errors.append(RowError(row.line, column, message, UserErrorCode.INVALID))
    return errors


async def _customer(
    session: AsyncSession, context: RequestContext, check: Check, number: str | None
) -> int | None:
    """The customer of this number that the importer may sell to; one message for a number
    that names no customer and one out of reach, so a feed learns nothing of others'."""
    if not number:
        check.fail("customerId", _("is required"), UserErrorCode.REQUIRED)
        return None
    found = await session.scalar(
        select(CustomerRow.id).where(
            CustomerRow.number == number.strip().upper(),
            context.visible(declarations.WRITE, "customers"),
        )
    )
    if found is None:
        check.fail(
            "customerId", _("no customer you may sell to has this number"), UserErrorCode.INVALID
        )
    return found


async def _owner(session: AsyncSession, check: Check, email: str | None) -> int | None:
    if not email:
        return None
    found = await session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if found is None:
        check.fail("ownerId", _("no user has this email"), UserErrorCode.INVALID)
    return found


async def _product(session: AsyncSession, check: Check, index: int, sku: str | None) -> int | None:
    if not sku:
        check.fail(f"lines.{index}.productId", _("is required"), UserErrorCode.REQUIRED)
        return None
    found = await session.scalar(
        select(models.Product.id).where(models.Product.sku == sku.strip().upper())
    )
    if found is None:
        check.fail(f"lines.{index}.productId", _("no product has this SKU"), UserErrorCode.INVALID)
    return found


def _decimal(check: Check, field: str, value: str | None) -> decimal.Decimal | None:
    if not value:
        return None
    try:  # no thousands separators: "2,5" is 2.5 in some places and 25 in others
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        check.fail(
            field,
            _("must be a number such as 12.50 (a point before decimals, no separators)"),
            UserErrorCode.INVALID,
        )
        return None
    if not number.is_finite():
        check.fail(field, _("must be a number such as 12.50"), UserErrorCode.INVALID)
        return None
    return number


def _time(check: Check, value: str | None, context: RequestContext) -> dt.datetime | None:
    """A date (midnight in the caller's zone) or a date-time (in the caller's zone when it
    gives no offset); ``None`` for none (the order service takes now)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        check.fail(
            "orderedAt",
            _("must be a date (2026-11-30) or a date-time (2026-11-30T14:00:00+08:00)"),
            UserErrorCode.INVALID,
        )
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=context.zone)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # a time at the edge of the calendar (year 1 or 9999)
        check.fail("orderedAt", _("is out of range"), UserErrorCode.OUT_OF_RANGE)
        return None
