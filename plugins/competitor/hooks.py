"""The competitor plugin's hook implementations: everything it adds reaches core (and the
sales plugin, when enabled) through here.

Wiring only: the declarations are in :mod:`.declarations`, the GraphQL fields in
:mod:`.queries`, :mod:`.mutations` and :mod:`.types`, the rules in :mod:`.service`, the
exports and the battlecard PDF in :mod:`.exports` and :mod:`.pdf`, the demo data in
:mod:`.demo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from core.plugin_api import (
    AccessPolicy,
    Customer,
    CustomerNode,
    Grant,
    Migrations,
    NotificationKind,
    PeriodicJob,
    Permission,
    RequestContext,
    Settings,
    TypeFields,
    hookimpl,
)
from plugins.competitor import declarations, demo, exports, hookspecs, pdf, webhooks
from plugins.competitor.mutations import CompetitorMutation
from plugins.competitor.queries import CompetitorQuery
from plugins.competitor.queries import battlecard as battlecard_queries
from plugins.competitor.queries import customers as customer_queries
from plugins.competitor.queries import encounters as encounter_queries
from plugins.competitor.queries import intel as intel_queries
from plugins.competitor.queries import market as market_queries
from plugins.competitor.service import customers, encounters, intel, reminders
from plugins.competitor.types import NODE_TYPES


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="competitor",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.competitor",
    )


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return declarations.PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return declarations.ROLE_GRANTS


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    return declarations.POLICIES


@hookimpl
def crm_webhook_event_types() -> Mapping[str, str]:
    return webhooks.EVENT_TYPES


@hookimpl
def crm_notification_kinds() -> Mapping[str, NotificationKind]:
    return {**intel.KINDS, **reminders.KINDS}


@hookimpl
def crm_graphql_query() -> type[Any]:
    return CompetitorQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return CompetitorMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return NODE_TYPES


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    return [
        TypeFields(target=CustomerNode, fields=customer_queries.CUSTOMER_FIELDS),
        # The Competitor type (types/profiles.py) gathers the other aggregates' fields here.
        TypeFields(target="Competitor", fields=intel_queries.COMPETITOR_FIELDS),
        TypeFields(target="Competitor", fields=market_queries.COMPETITOR_FIELDS),
        TypeFields(target="Competitor", fields=encounter_queries.COMPETITOR_FIELDS),
        TypeFields(target="Competitor", fields=battlecard_queries.COMPETITOR_FIELDS),
        TypeFields(target="CompetitorSwotItem", fields=intel_queries.SWOT_ITEM_FIELDS),
    ]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [*exports.ROUTES, pdf.ROUTE]


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [PeriodicJob("competitor.contract_reminders", dt.timedelta(hours=1), reminders.run)]


@hookimpl(optionalhook=True)
async def crm_sales_opportunity_closed(
    session: AsyncSession,
    opportunity: Any,
    won: bool,
    competitors: Sequence[str],
    context: RequestContext | None,
) -> None:
    await encounters.on_opportunity_closed(session, opportunity, won, competitors, context)


@hookimpl
async def crm_customer_erased(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> None:
    await customers.erase(session, customer.id)


@hookimpl
async def crm_customer_merge(
    session: AsyncSession,
    source: Customer,
    target: Customer,
    dry_run: bool,
    context: RequestContext,
) -> Mapping[str, int]:
    return await customers.merge(session, source.id, target.id, dry_run, context)


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size, settings)
