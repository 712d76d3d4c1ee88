"""``importOrders``: an order feed, all rows or none, each order once."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Info, mutate, requires
from plugins.sales import declarations
from plugins.sales.inputs.order_import import ImportOrdersInput, ImportOrdersPayload
from plugins.sales.service.order_import import OrderImportResult, import_orders


@strawberry.type
class OrderImportMutation:
    @strawberry.mutation(
        description="Place the orders of a feed (CSV, one row per line) in this request: all "
        "rows or none, at most CRM_IMPORT_SYNC_MAX_ROWS rows. An order whose externalRef was "
        "imported from the same source before is skipped, so a feed imported twice creates "
        "its orders once.",
        extensions=requires(declarations.WRITE),
    )
    async def import_orders(
        self, info: Info, input: ImportOrdersInput
    ) -> ImportOrdersPayload | None:
        async def work(session: AsyncSession) -> OrderImportResult:
            return await import_orders(
                session, info.context, input.csv, input.source, input.dry_run
            )

        return await mutate(
            info,
            work,
            lambda done, errors: ImportOrdersPayload.of(done, errors, dry_run=input.dry_run),
            keep=lambda done: done.imported,  # a dry run, or rows with errors, keep nothing
        )
