"""The loyalty plugin's hook implementations: everything it adds reaches core (and the sales
and surveys plugins, when enabled) through here.

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
import typer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from core.plugin_api import (
    AccessPolicy,
    CommandRunner,
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
from plugins.loyalty import commands, declarations, demo, exports, hookspecs, webhooks
from plugins.loyalty.mutations import LoyaltyMutation
from plugins.loyalty.queries import LoyaltyQuery
from plugins.loyalty.queries import accounts as account_queries
from plugins.loyalty.service import customers, jobs, orders, tiers
from plugins.loyalty.types import NODE_TYPES


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="loyalty",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.loyalty",
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
    return tiers.KINDS


@hookimpl
def crm_mail_templates() -> Mapping[str, Path]:
    return {"loyalty": Path(__file__).parent / "mail_templates"}


@hookimpl
def crm_graphql_query() -> type[Any]:
    return LoyaltyQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return LoyaltyMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return NODE_TYPES


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    return [TypeFields(target=CustomerNode, fields=account_queries.CUSTOMER_FIELDS)]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [exports.ROUTE]


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [
        PeriodicJob("loyalty.expiry", dt.timedelta(hours=1), jobs.run_expiry),
        PeriodicJob("loyalty.tiers", dt.timedelta(days=1), jobs.run_tiers),
    ]


@hookimpl
def crm_cli_commands(cli: typer.Typer, run: CommandRunner) -> None:
    commands.register(cli, run)


@hookimpl(optionalhook=True)
async def crm_sales_order_placed(
    session: AsyncSession, order: Any, context: RequestContext | None
) -> None:
    await orders.on_order_placed(session, order, context)


@hookimpl(optionalhook=True)
async def crm_sales_order_cancelled(
    session: AsyncSession, order: Any, refunded: bool, context: RequestContext | None
) -> None:
    await orders.on_order_cancelled(session, order, refunded, context)


@hookimpl(optionalhook=True)
async def crm_survey_response_submitted(
    session: AsyncSession, response: Any, context: RequestContext | None
) -> None:
    await orders.on_survey_answered(session, response, context)


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
