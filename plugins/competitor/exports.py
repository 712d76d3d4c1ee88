"""The intel log and the encounters as CSV or XLSX downloads:
``GET /export/competitor-intel.csv`` (or ``.xlsx``) with the ``filter`` and ``orderBy`` of
``intelFeed``, and ``GET /export/competitor-encounters.csv`` (``.xlsx``) with those of
``competitorEncounters``, both needing ``competitors:read``.

The encounters are those the caller may read (an encounter goes with its customer, or its
owner: :func:`plugins.competitor.service.encounters.readable`), so the reason given in
words is exported only to those who may read the encounter; the customer's number and name
are left blank where the caller may not read the customer (a rep's own deal at a
colleague's customer). Date-times are in the caller's time zone (named in the header),
amounts a plain decimal beside their currency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import (
    ListExport,
    RequestContext,
    SortKey,
    User,
    export_route,
    global_id,
    quantize_amount,
    require,
)
from plugins.competitor import declarations, models
from plugins.competitor.inputs.encounters import CompetitorEncounterFilter, CompetitorEncounterOrder
from plugins.competitor.inputs.intel import IntelFilter, IntelOrder
from plugins.competitor.queries.encounters import ENCOUNTER_ORDER, encounter_statement
from plugins.competitor.queries.intel import INTEL_ORDER, intel_statement

BATCH = 1000

INTEL_COLUMNS = [
    "entry",
    "competitor",
    "kind",
    "summary",
    "source_url",
    "confidence",
    "occurred_on",
    "reporter_email",
    "created_at",
]
ENCOUNTER_COLUMNS = [
    "encounter",
    "competitor",
    "customer_number",
    "customer_name",
    "opportunity",
    "owner_email",
    "source",
    "outcome",
    "reason",
    "reason_text",
    "amount",
    "currency",
    "occurred_on",
    "created_at",
]
TIME_COLUMNS = {"created_at"}
"""Columns of date-times, given in the caller's zone, which the header names
(``created_at (Asia/Shanghai)``)."""


def header(columns: list[str], zone_name: str) -> list[str]:
    return [f"{c} ({zone_name})" if c in TIME_COLUMNS else c for c in columns]


async def _names(
    context: RequestContext,
    competitor_ids: set[int],
    user_ids: set[int],
    customer_ids: set[int] | None = None,
) -> tuple[dict[int, str], dict[int, str], dict[int, tuple[str, str]]]:
    """Of one batch of rows: the competitors' names, the users' e-mail addresses, and the
    customers' number and name (of those the caller may read)."""
    async with context.db.read() as session:
        competitors: dict[int, str] = dict(
            (
                await session.execute(
                    select(models.Competitor.id, models.Competitor.name).where(
                        models.Competitor.id.in_(competitor_ids)
                    )
                )
            ).all()
        )
        emails: dict[int, str] = dict(
            (await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))).all()
        )
        customers: dict[int, tuple[str, str]] = {}
        if customer_ids:
            customers = {
                row.id: (row.number, row.name)
                for row in await session.execute(
                    select(CustomerRow.id, CustomerRow.number, CustomerRow.name).where(
                        CustomerRow.id.in_(customer_ids),
                        context.visible("customers:read", "customers"),
                    )
                )
            }
    return competitors, emails, customers


async def _intel_statement(
    context: RequestContext, filter: IntelFilter | None, order: list[IntelOrder]
) -> tuple[Any, Sequence[SortKey]]:
    require(context, declarations.READ)
    return await intel_statement(context, filter), INTEL_ORDER.keys(order)


async def _batches(context: RequestContext, statement: Any) -> AsyncIterator[Sequence[Any]]:
    """The rows of ``statement``, :data:`BATCH` at a time."""
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            yield batch


async def intel_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    yield header(INTEL_COLUMNS, zone.key)
    async for batch in _batches(context, statement):
        competitors, emails, _customers = await _names(
            context,
            {row.competitor_id for row in batch},
            {row.reporter_id for row in batch if row.reporter_id},
        )
        for row in batch:
            yield [
                global_id("IntelEntry", row.id),
                competitors.get(row.competitor_id, ""),
                row.kind,
                row.summary,
                row.source_url or "",
                row.confidence,
                row.occurred_on,
                emails.get(row.reporter_id or 0, ""),
                row.created_at.astimezone(zone),
            ]


async def _encounter_statement(
    context: RequestContext,
    filter: CompetitorEncounterFilter | None,
    order: list[CompetitorEncounterOrder],
) -> tuple[Any, Sequence[SortKey]]:
    require(context, declarations.READ)
    return encounter_statement(context, filter), ENCOUNTER_ORDER.keys(order)


async def encounter_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    yield header(ENCOUNTER_COLUMNS, zone.key)
    async for batch in _batches(context, statement):
        competitors, emails, customers = await _names(
            context,
            {row.competitor_id for row in batch},
            {row.owner_id for row in batch if row.owner_id},
            {row.customer_id for row in batch if row.customer_id},
        )
        for row in batch:
            number, name = customers.get(row.customer_id or 0, ("", ""))
            yield [
                global_id("CompetitorEncounter", row.id),
                competitors.get(row.competitor_id, ""),
                number,
                name,
                global_id("Opportunity", row.opportunity_id) or "",
                emails.get(row.owner_id or 0, ""),
                row.source,
                row.outcome,
                row.reason or "",
                row.reason_text or "",
                quantize_amount(row.amount, row.currency)
                if row.amount is not None and row.currency
                else None,
                row.currency or "",
                row.occurred_on,
                row.created_at.astimezone(zone),
            ]


INTEL = ListExport(
    name="competitor-intel",
    permission=declarations.READ,
    filter_input=("IntelFilter", IntelFilter),
    order_input=("IntelOrder", IntelOrder),
    statement=_intel_statement,
    rows=intel_rows,
)
ENCOUNTERS = ListExport(
    name="competitor-encounters",
    permission=declarations.READ,
    filter_input=("CompetitorEncounterFilter", CompetitorEncounterFilter),
    order_input=("CompetitorEncounterOrder", CompetitorEncounterOrder),
    statement=_encounter_statement,
    rows=encounter_rows,
)
ROUTES = [export_route(INTEL), export_route(ENCOUNTERS)]
"""What ``crm_http_routes`` returns (with the battlecard's PDF): the two exports."""
