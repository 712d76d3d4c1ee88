"""The tickets plugin's hook implementations: everything it adds reaches core through here."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
import strawberry
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
    AccessPolicy,
    Connection,
    Database,
    Grant,
    Info,
    Migrations,
    PageArgs,
    Permission,
    RequestContext,
    Role,
    Scope,
    Settings,
    TypeFields,
    User,
    UserErrorCode,
    UserErrors,
    UserRole,
    bulk_insert,
    check_page_args,
    format_number,
    hookimpl,
    next_values,
)
from core.plugin_api import Customer as CustomerRow
from core.plugin_api import CustomerNode as Customer
from plugins.tickets import hookspecs, loaders, models, service
from plugins.tickets import settings as ticket_settings
from plugins.tickets.schema import TicketMutation, TicketQuery
from plugins.tickets.types import Ticket


def _page_args(info: Info, first: int | None, after: str | None) -> PageArgs:
    args = PageArgs(first=first, after=after)
    check_page_args(args, info.context.settings.max_page_size)
    return args


async def customer_tickets(
    root: Customer, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Ticket]:
    """The customer's tickets the caller may see, newest first."""
    args = _page_args(info, first, after)
    page = await info.context.loader(loaders.TicketsByCustomerLoader).load((root.id, args))
    counter = info.context.loader(loaders.TicketCountByCustomerLoader)
    return page.connection(
        loaders.TicketsByCustomerLoader.keys, Ticket.from_model, lambda: counter.load(root.id)
    )


async def customer_open_ticket_count(root: Customer, info: Info) -> int:
    """Tickets of the customer not yet RESOLVED or CLOSED (that the caller may see)."""
    return await info.context.loader(loaders.OpenTicketCountLoader).load(root.id)


async def user_assigned_tickets(
    root: Any, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Ticket]:
    """Tickets assigned to the user that the caller may see, newest first."""
    args = _page_args(info, first, after)
    page = await info.context.loader(loaders.TicketsByAssigneeLoader).load((root.id, args))
    counter = info.context.loader(loaders.TicketCountByAssigneeLoader)
    return page.connection(
        loaders.TicketsByAssigneeLoader.keys, Ticket.from_model, lambda: counter.load(root.id)
    )


def _tickets_owned_by(ids: Any) -> ColumnElement[bool]:
    # OWN: tickets assigned to the user or on customers they own (TEAM: of their team).
    return or_(
        models.Ticket.assignee_id.in_(ids),
        models.Ticket.customer_id.in_(select(CustomerRow.id).where(CustomerRow.owner_id.in_(ids))),
    )


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


@hookimpl
def crm_graphql_query() -> type[Any]:
    return TicketQuery


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
                "tickets": strawberry.field(resolver=customer_tickets),
                "open_ticket_count": strawberry.field(resolver=customer_open_ticket_count),
            },
        ),
        TypeFields(
            target=UserType,
            fields={"assigned_tickets": strawberry.field(resolver=user_assigned_tickets)},
        ),
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [
        Permission("tickets:read", "See service tickets and their timelines."),
        Permission("tickets:write", "Open tickets and work them: notes, status, escalation."),
        Permission("tickets:assign", "Assign and transfer tickets."),
        Permission("tickets:manage", "Set SLA policies, business hours and routing rules."),
    ]


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return {
        SUPPORT_REPRESENTATIVE: [
            Grant("tickets:read", Scope.ALL),
            Grant("tickets:write", Scope.OWN),
            Grant("tickets:assign", Scope.TEAM),
        ],
        SALES_REPRESENTATIVE: [Grant("tickets:read", Scope.OWN), Grant("tickets:write", Scope.OWN)],
        CUSTOMER_MANAGER: [
            Grant("tickets:read", Scope.TEAM),
            Grant("tickets:write", Scope.TEAM),
            Grant("tickets:assign", Scope.TEAM),
        ],
        SYSTEM_ADMINISTRATOR: [
            Grant("tickets:read", Scope.ALL),
            Grant("tickets:manage", Scope.ALL),
        ],
    }


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    return [AccessPolicy("tickets", _tickets_owned_by)]


@hookimpl
async def crm_customer_before_archive(
    session: AsyncSession, customer: CustomerRow, erasing: bool, context: RequestContext
) -> None:
    count = await service.open_count(session, customer.id)
    if count:
        action = "erased" if erasing else "archived"
        raise UserErrors.single(
            "id",
            f"customer {customer.number} has {count} open ticket{'s' if count > 1 else ''}; "
            f"resolve or close {'them' if count > 1 else 'it'} before it can be {action}",
            UserErrorCode.BUSINESS_RULE,
        )


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
    return {"tickets": await service.move_tickets(session, source.id, target.id, dry_run)}


@hookimpl
async def crm_jobs_run(
    db: Database, settings: Settings, now: dt.datetime, pm: pluggy.PluginManager
) -> Mapping[str, int]:
    days = ticket_settings.load().autoclose_days
    async with db.transaction() as session:
        closed = await service.auto_close(session, pm, days, now)
    return {"tickets auto-closed": closed}


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    rng = random.Random(20261124)
    now = dt.datetime.now(dt.UTC)
    customers = list(
        (await session.scalars(select(CustomerRow.id).order_by(CustomerRow.id).limit(size))).all()
    )
    agents = list(
        (
            await session.scalars(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.key == SUPPORT_REPRESENTATIVE)
            )
        ).all()
    )
    subjects = [
        ("FAULT", "Device does not start after update"),
        ("FAULT", "Invoice PDF cannot be opened"),
        ("CONSULTATION", "How to export monthly reports?"),
        ("COMPLAINT", "Delivery arrived two weeks late"),
        ("SUGGESTION", "Please add a dark mode"),
        ("OTHER", "Change of billing address"),
    ]
    rows = []
    for customer_id in customers[:: max(1, len(customers) // max(1, size // 2))]:
        ticket_type, subject = rng.choice(subjects)
        opened = now - dt.timedelta(hours=rng.randint(1, 24 * 60))
        status = rng.choice(["NEW", "ACKNOWLEDGED", "IN_PROGRESS", "WAITING", "RESOLVED", "CLOSED"])
        # Times after opening, never in the future (a ticket opened an hour ago).
        responded = (
            min(opened + dt.timedelta(minutes=rng.randint(5, 300)), now)
            if status != "NEW"
            else None
        )
        resolved = (
            min(responded + dt.timedelta(hours=rng.randint(1, 100)), now)
            if responded and status in ("RESOLVED", "CLOSED")
            else None
        )
        rows.append(
            {
                "customer_id": customer_id,
                "type": ticket_type,
                "subject": subject,
                "description": "",
                "priority": rng.choice(["URGENT", "HIGH", "MEDIUM", "MEDIUM", "LOW"]),
                "status": status,
                "assignee_id": rng.choice(agents) if agents and status != "NEW" else None,
                "reopen_count": 0,
                "first_responded_at": responded,
                "resolved_at": resolved,
                "closed_at": resolved if status == "CLOSED" else None,
                "waiting_since": (
                    max(now - dt.timedelta(hours=2), responded or opened)
                    if status == "WAITING"
                    else None
                ),
                "paused_seconds": 0.0,
                "created_at": opened,
                "updated_at": resolved or responded or opened,
                "version": 1,
            }
        )
    numbers = await next_values(session, service.COUNTER, len(rows))
    for row, value in zip(rows, numbers, strict=True):
        row["number"] = format_number(service.NUMBER_PREFIX, value)
    await bulk_insert(session, models.Ticket, rows)
