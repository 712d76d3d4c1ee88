"""The sales plugin's hook implementations: everything it adds reaches core through here.

Wiring only: the declarations are in :mod:`.declarations`, the GraphQL fields in
:mod:`.queries`, :mod:`.mutations` and :mod:`.types`, the rules in :mod:`.service`, the demo
data in :mod:`.demo`.
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
    CustomerFilterField,
    CustomerNode,
    Grant,
    Migrations,
    NotificationKind,
    PeriodicJob,
    Permission,
    RequestContext,
    Settings,
    TypeFields,
    export_route,
    hookimpl,
)
from plugins.sales import declarations, demo, exports, filters, hookspecs, webhooks
from plugins.sales.mutations import SalesMutation
from plugins.sales.queries import SalesQuery
from plugins.sales.queries import contracts as contract_queries
from plugins.sales.queries import opportunities as opportunity_queries
from plugins.sales.queries import orders as order_queries
from plugins.sales.service import contract_jobs, customers, products, purchases


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="sales",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.sales",
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
    return contract_jobs.KINDS


@hookimpl
def crm_graphql_query() -> type[Any]:
    return SalesQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return SalesMutation


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    fields = {
        **opportunity_queries.CUSTOMER_FIELDS,
        **contract_queries.CUSTOMER_FIELDS,
        **order_queries.CUSTOMER_FIELDS,
    }
    return [TypeFields(target=CustomerNode, fields=fields)]


@hookimpl
def crm_customer_filter_fields() -> Sequence[CustomerFilterField]:
    return filters.CUSTOMER_FILTER_FIELDS


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [export_route(exports.OPPORTUNITIES), export_route(exports.ORDERS)]


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [
        PeriodicJob("sales.contract_renewals", dt.timedelta(hours=1), contract_jobs.run_renewals),
        PeriodicJob("sales.contract_expiry", dt.timedelta(hours=1), contract_jobs.run_expiry),
        PeriodicJob("sales.value_tiers", dt.timedelta(days=1), purchases.run_value_tiers),
    ]


@hookimpl(optionalhook=True)
async def crm_competitor_our_products(
    session: AsyncSession, product_ids: Sequence[int] | None, category: str | None
) -> Sequence[Any]:
    return await products.our_products(session, product_ids, category)


@hookimpl
async def crm_customer_before_archive(
    session: AsyncSession, customer: Customer, erasing: bool, context: RequestContext
) -> None:
    await customers.refuse_archive(session, customer, erasing)


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
    return await customers.merge(
        session, source.id, target.id, dry_run, context.now(), context.settings.zone
    )


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size, settings.zone)
