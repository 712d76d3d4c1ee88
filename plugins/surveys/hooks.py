"""The surveys plugin's hook implementations: everything it adds reaches core (and the
tickets plugin) through here.

Wiring only: the declarations are in :mod:`.declarations`, the GraphQL fields in
:mod:`.queries`, :mod:`.mutations` and :mod:`.types`, the rules in :mod:`.service`, the public
answer page in :mod:`.page`, the demo data in :mod:`.demo`.
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
    export_route,
    hookimpl,
)
from plugins.surveys import declarations, demo, exports, hookspecs, page, webhooks
from plugins.surveys.mutations import SurveysMutation
from plugins.surveys.queries import SurveysQuery
from plugins.surveys.queries import analysis as analysis_queries
from plugins.surveys.queries import invitations as invitation_queries
from plugins.surveys.service import (
    actions,
    customers,
    invitations,
    ratelimit,
    satisfaction,
    schedules,
)
from plugins.surveys.types import NODE_TYPES


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="surveys",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.surveys",
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
    return actions.KINDS


@hookimpl
def crm_mail_templates() -> Mapping[str, Path]:
    return {"surveys": Path(__file__).parent / "mail_templates"}


@hookimpl
def crm_graphql_query() -> type[Any]:
    return SurveysQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return SurveysMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return NODE_TYPES


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    customer_fields = {**invitation_queries.CUSTOMER_FIELDS, **analysis_queries.CUSTOMER_FIELDS}
    return [
        TypeFields(target=CustomerNode, fields=customer_fields),
        # The tickets plugin's type, by name: present only while that plugin is enabled.
        TypeFields(target="Ticket", fields=invitation_queries.TICKET_FIELDS),
    ]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [*page.ROUTES, *(export_route(export) for export in exports.EXPORTS)]


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [
        PeriodicJob("surveys.schedules", dt.timedelta(hours=1), schedules.run_due),
        PeriodicJob("surveys.rate_limits", dt.timedelta(hours=1), ratelimit.purge),
    ]


@hookimpl(optionalhook=True)
async def crm_ticket_resolved(
    session: AsyncSession, ticket: Any, context: RequestContext | None
) -> None:
    await invitations.on_ticket_resolved(session, ticket, context)


@hookimpl(optionalhook=True)
async def crm_ticket_satisfaction(
    session: AsyncSession, ticket_ids: Sequence[int], context: RequestContext
) -> Mapping[int, Any] | None:
    return await satisfaction.of_tickets(session, context, ticket_ids)


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
    return await customers.merge(session, source.id, target.id, dry_run)


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size, settings)
