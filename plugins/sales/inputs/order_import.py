"""The input and payload of ``importOrders``."""

from __future__ import annotations

from typing import Self

import strawberry

from core.plugin_api import ImportRowError, UserError
from plugins.sales.service.order_import import OrderImportResult


@strawberry.input
class ImportOrdersInput:
    csv: str = strawberry.field(
        description="CSV text with a header row, one row per order line: external_ref, "
        "customer_number, ordered_at (a date, or a date-time; without an offset in your time "
        "zone), currency, owner_email, sku, quantity, unit_price (default the product's list "
        "price), discount_percent. The rows of one order share its external_ref and give the "
        "order's columns on its first row (later rows repeat them or leave them empty)."
    )
    source: str = strawberry.field(
        description="The feed the orders come from (e.g. erp, shop): an external_ref is "
        "unique within it, and an order imported from it before is skipped."
    )
    dry_run: bool = strawberry.field(default=False, description="Check every row, keep nothing.")


@strawberry.type
class ImportOrdersPayload:
    created: int = strawberry.field(description="Orders placed (or that would be).")
    skipped: int = strawberry.field(
        description="Orders of the file imported from this source before, left as they are."
    )
    imported: bool = strawberry.field(description="Whether the orders were kept.")
    dry_run: bool
    row_errors: list[ImportRowError] = strawberry.field(
        description="Every bad row; if there are any, nothing is imported."
    )
    errors: list[UserError]

    @classmethod
    def of(
        cls, result: OrderImportResult | None, errors: list[UserError], *, dry_run: bool
    ) -> Self:
        return cls(
            created=result.created if result else 0,
            skipped=result.skipped if result else 0,
            imported=bool(result and result.imported),
            dry_run=dry_run,
            row_errors=[e.to_type() for e in (result.errors if result else [])],
            errors=errors,
        )
