"""The customers module's wiring: customers, contacts, their timeline, import and export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute, Route

from core.background import JobHandler
from core.config import Settings
from core.customers import (
    declarations,
    demo,
    export,
    hookspecs,
    import_types,
    importing,
    jobs,
    key_accounts,
    list_exports,
    profile,
    reminders,
    types,
    upload,
)
from core.customers.mutations import CustomerMutation
from core.customers.queries import CustomerQuery
from core.exports import export_route
from core.extension import AccessPolicy, Grant, Permission
from core.hookspecs import hookimpl
from core.notifications.service import NotificationKind
from core.schedule import PeriodicJob


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_graphql_query() -> type[Any]:
    return CustomerQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return CustomerMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [
        types.Customer,
        types.Contact,
        types.Interaction,
        types.Task,
        types.Tag,
        types.CustomFieldDefinition,
        import_types.CustomerImport,
    ]


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
def crm_http_routes() -> Sequence[BaseRoute]:
    return [
        export_route(export.customer_export()),
        export_route(list_exports.contact_export()),
        export_route(list_exports.interaction_export()),
        profile.ROUTE,
        Route("/import/customers", upload.upload_customer_import, methods=["POST"]),
    ]


@hookimpl
def crm_job_handlers() -> Mapping[str, JobHandler]:
    return {importing.KIND: importing.run_import}


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [*jobs.PERIODIC_JOBS, *key_accounts.PERIODIC_JOBS, *reminders.PERIODIC_JOBS]


@hookimpl
def crm_notification_kinds() -> Mapping[str, NotificationKind]:
    return reminders.KINDS


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size)
