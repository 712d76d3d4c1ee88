"""The attachments module's wiring: files on customers, interactions and plugins' records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from core.attachments import download, hookspecs, jobs, service, types
from core.attachments.mutations import AttachmentMutation
from core.attachments.targets import CORE_TARGETS, AttachmentTarget
from core.background import JobHandler
from core.context import RequestContext
from core.customers import types as customer_types
from core.customers.models import Customer
from core.extension import TypeFields
from core.hookspecs import hookimpl


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_attachment_targets() -> Mapping[str, AttachmentTarget]:
    return CORE_TARGETS


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return AttachmentMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [types.Attachment]


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    return [
        TypeFields(
            target=customer_types.Customer,
            fields={"attachments": types.attachments_field("Customer")},
        ),
        TypeFields(
            target=customer_types.Interaction,
            fields={"attachments": types.attachments_field("Interaction")},
        ),
    ]


@hookimpl
def crm_job_handlers() -> Mapping[str, JobHandler]:
    return {jobs.PURGE_KIND: jobs.purge_stored_files}


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [download.ROUTE]


@hookimpl
async def crm_customer_erased(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> None:
    await service.erase_customer_files(session, context, customer.id)


@hookimpl
async def crm_customer_merge(
    session: AsyncSession,
    source: Customer,
    target: Customer,
    dry_run: bool,
    context: RequestContext,
) -> Mapping[str, int]:
    return await service.move_customer_files(session, source.id, target.id, dry_run)
