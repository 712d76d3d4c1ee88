"""The tickets plugin's hook implementations: everything it adds reaches core through here.

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
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from core.plugin_api import (
    AccessPolicy,
    AttachmentTarget,
    Connection,
    CustomerProfileSection,
    Grant,
    JobContext,
    Migrations,
    NotificationKind,
    PeriodicJob,
    Permission,
    RequestContext,
    Settings,
    TypeFields,
    UserErrorCode,
    UserErrors,
    attachments_field,
    batch_field,
    hookimpl,
    move_customer_rows,
    requires,
    translator,
)
from core.plugin_api import Customer as CustomerRow
from core.plugin_api import CustomerNode as Customer
from plugins.tickets import declarations, demo, exports, hookspecs, models, service, webhooks
from plugins.tickets import settings as ticket_settings
from plugins.tickets.models import Ticket as TicketRow
from plugins.tickets.mutations import TicketMutation
from plugins.tickets.queries import (
    TicketQuery,
    customer_open_ticket_count,
    customer_tickets,
    user_assigned_tickets,
)
from plugins.tickets.service import attachments, notices, surveys
from plugins.tickets.settings_queries import TicketSettingsQuery
from plugins.tickets.stats import TicketStatsQuery
from plugins.tickets.types import Ticket

_ = translator(__name__)


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="tickets",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.tickets",
    )


@strawberry.type
class TicketRootQuery(TicketQuery, TicketStatsQuery, TicketSettingsQuery):
    """The plugin's root query fields: lists, figures and settings, from their modules."""


@hookimpl
def crm_graphql_query() -> type[Any]:
    return TicketRootQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return TicketMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [Ticket]


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    from core.plugin_api import UserNode as UserType

    return [
        TypeFields(
            target=Customer,
            fields={
                "tickets": batch_field(
                    customer_tickets,
                    reads=("id",),
                    graphql_type=Connection[Ticket] | None,
                    extensions=requires("tickets:read"),
                ),
                "open_ticket_count": batch_field(
                    customer_open_ticket_count,
                    reads=("id",),
                    graphql_type=int | None,
                    extensions=requires("tickets:read"),
                ),
            },
        ),
        TypeFields(target="Ticket", fields={"attachments": attachments_field("Ticket")}),
        TypeFields(
            target=UserType,
            fields={
                "assigned_tickets": batch_field(
                    user_assigned_tickets,
                    graphql_type=Connection[Ticket] | None,
                    extensions=requires("tickets:read"),
                )
            },
        ),
    ]


@hookimpl
def crm_attachment_targets() -> Mapping[str, AttachmentTarget]:
    return {"Ticket": attachments.TICKET_TARGET}


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
    return exports.ROUTES


@hookimpl
def crm_webhook_event_types() -> Mapping[str, str]:
    return webhooks.EVENT_TYPES


@hookimpl
async def crm_ticket_opened(
    session: AsyncSession, ticket: TicketRow, context: RequestContext | None
) -> None:
    await webhooks.opened(session, ticket, context.now() if context else ticket.updated_at)


@hookimpl
async def crm_ticket_status_changed(
    session: AsyncSession,
    ticket: TicketRow,
    from_status: str,
    to_status: str,
    context: RequestContext | None,
) -> None:
    now = context.now() if context else ticket.updated_at
    await webhooks.status_changed(session, ticket, from_status, to_status, now)


@hookimpl
async def crm_customer_before_archive(
    session: AsyncSession, customer: CustomerRow, erasing: bool, context: RequestContext
) -> None:
    count = await service.open_count(session, customer.id)
    if count:
        messages = {
            (True, False): _(
                "customer {number} has {count} open tickets; resolve or close them before it "
                "can be erased",
                number=customer.number,
                count=count,
            ),
            (True, True): _(
                "customer {number} has 1 open ticket; resolve or close it before it can be erased",
                number=customer.number,
            ),
            (False, False): _(
                "customer {number} has {count} open tickets; resolve or close them before it "
                "can be archived",
                number=customer.number,
                count=count,
            ),
            (False, True): _(
                "customer {number} has 1 open ticket; resolve or close it before it can be "
                "archived",
                number=customer.number,
            ),
        }
        message = messages[(erasing, count == 1)]
        raise UserErrors.single("id", message, UserErrorCode.BUSINESS_RULE)


@hookimpl
async def crm_customer_erased(
    session: AsyncSession, customer: CustomerRow, context: RequestContext
) -> None:
    await service.erase_tickets(session, customer.id)


@hookimpl
async def crm_customer_merge(
    session: AsyncSession,
    source: CustomerRow,
    target: CustomerRow,
    dry_run: bool,
    context: RequestContext,
) -> Mapping[str, int]:
    moved = await move_customer_rows(
        session, models.Ticket.customer_id, source.id, target.id, dry_run
    )
    return {"tickets": moved}


async def _auto_close(job: JobContext) -> Mapping[str, int]:
    days = ticket_settings.load().autoclose_days
    async with job.db.transaction() as session:
        closed = await service.auto_close(session, job.pm, days, job.now)
    return {"tickets auto-closed": closed}


@hookimpl
def crm_notification_kinds() -> Mapping[str, NotificationKind]:
    return notices.KINDS


async def _sla_watch(job: JobContext) -> Mapping[str, int]:
    risk = dt.timedelta(minutes=ticket_settings.load().sla_risk_minutes)
    total_at_risk = total_breached = 0
    while True:  # bounded: each round marks up to a batch of tickets told
        async with job.db.transaction() as session:
            at_risk, breached = await notices.watch_sla(session, job, job.now, risk)
        total_at_risk += at_risk
        total_breached += breached
        if max(at_risk, breached) < notices.BATCH:
            break
    return {
        "tickets at risk of missing their SLA": total_at_risk,
        "tickets past their SLA": total_breached,
    }


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [
        PeriodicJob("tickets.auto_close", dt.timedelta(hours=1), _auto_close),
        PeriodicJob("tickets.sla_watch", dt.timedelta(minutes=1), _sla_watch),
    ]


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size)


@hookimpl(optionalhook=True)
async def crm_survey_response_submitted(
    session: AsyncSession, response: Any, context: RequestContext | None
) -> None:
    """The customer answered a ticket's satisfaction survey: close or reopen it."""
    await surveys.survey_answered(session, response, context)


@hookimpl
async def crm_customer_profile_sections(
    session: AsyncSession, customer: CustomerRow, context: RequestContext
) -> Sequence[CustomerProfileSection]:
    section = await service.profile_section(session, customer.id, context)
    return [section] if section is not None else []
