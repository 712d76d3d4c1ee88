"""A customer's profile as a PDF: ``GET /export/customers/{id}.pdf`` (``id``: the customer's
global id, or its number such as ``C000007``), laid out by :mod:`core.customers.profile_layout`.

Authenticated as the exports are: a bearer token, then ``customers:read`` reaching the
customer. A request without a usable token is answered 401, one without the permission 403,
an id that names no customer the caller may read 404, each as a JSON ``errors`` list. The
profile shows the customer's details, its contacts, its latest interactions and its open
tasks, then the sections modules contribute (``crm_customer_profile_sections``: the tickets
plugin's open tickets).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry import relay

from core.access import require
from core.context import RequestContext
from core.customers.hookspecs import CustomerProfileSection
from core.customers.loaders import task_visible
from core.customers.models import (
    Contact,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Interaction,
    Tag,
    Task,
)
from core.errors import ApiError, not_found
from core.exports import refusal
from core.host import call_in_turn
from core.http import internal_error_response
from core.i18n import Text, _, render
from core.identity.models import User
from core.validation import argument_id

logger = logging.getLogger("crm.customers.profile")

RECENT_INTERACTIONS = 10
OPEN_TASKS = 20


@dataclass
class CustomerProfile:
    """What the profile shows: the customer's details as (label, value) pairs and its
    sections (core's first, then the modules'), labels in the request's language."""

    number: str
    name: str
    details: list[tuple[str, str]]
    sections: list[CustomerProfileSection] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def _customer_id(raw: str) -> tuple[int | None, str | None]:
    """(database id, None) for a global id, (None, number) for anything else."""
    try:
        return argument_id(relay.GlobalID.from_id(raw), "Customer", "id"), None
    except (ApiError, ValueError, TypeError):
        return None, raw.strip().upper()


async def _customer(session: AsyncSession, context: RequestContext, raw: str) -> Customer:
    require(context, "customers:read")
    customer_id, number = _customer_id(raw)
    statement = select(Customer).where(context.visible("customers:read", "customers"))
    if customer_id is not None:
        statement = statement.where(Customer.id == customer_id)
    else:
        statement = statement.where(Customer.number == number)
    customer = await session.scalar(statement)
    if customer is None:
        raise not_found("id", _("no customer with this id that you may see"))
    return customer


def _when(moment: dt.datetime | None, context: RequestContext) -> str | None:
    return moment.astimezone(context.zone).strftime("%Y-%m-%d %H:%M") if moment else None


async def _emails(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    ids.discard(0)
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(ids)))
    return dict(rows.all())


async def _details(
    session: AsyncSession, context: RequestContext, c: Customer
) -> list[tuple[str, str]]:
    tags = (
        await session.scalars(
            select(Tag.name)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == c.id)
            .order_by(Tag.name_sort, Tag.id)
        )
    ).all()
    owner = (await _emails(session, {c.owner_id or 0})).get(c.owner_id or 0)
    address = ", ".join(
        part
        for part in (
            c.address_line1,
            c.address_line2,
            c.city,
            c.region,
            c.postal_code,
            c.country,
        )
        if part
    )
    pairs: list[tuple[Any, Any]] = [
        (_("Kind"), c.kind),
        (_("Stage"), c.stage),
        (_("Grade"), c.grade),
        (_("Industry"), c.industry),
        (_("Source"), c.source),
        (_("Phone"), c.phone),
        (_("Email"), c.email),
        (_("Website"), c.website),
        (_("Address"), address),
        (_("Owner"), owner),
        (_("Tags"), "; ".join(tags)),
        (_("Created"), _when(c.created_at, context)),
        (_("Last interaction"), _when(c.last_interaction_at, context)),
    ]
    definitions = (
        await session.scalars(
            select(CustomFieldDefinition)
            .where(CustomFieldDefinition.entity == "CUSTOMER")
            .order_by(CustomFieldDefinition.key)
        )
    ).all()
    values = c.custom_fields if isinstance(c.custom_fields, dict) else {}
    for definition in definitions:
        value = values.get(definition.key)
        if value is not None:
            shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
            pairs.append((definition.label, shown))
    return [(render(label), str(value)) for label, value in pairs if value not in (None, "")]


def _section(
    title: Text, columns: Sequence[Text], rows: Sequence[Sequence[str | None]], empty: Text
) -> CustomerProfileSection:
    """A section of the profile, its labels rendered in the request's language."""
    return CustomerProfileSection(
        title=render(title),
        columns=[render(column) for column in columns],
        rows=rows,
        empty=render(empty),
    )


async def _contacts(session: AsyncSession, customer: Customer) -> CustomerProfileSection:
    rows = (
        await session.scalars(
            select(Contact)
            .where(Contact.customer_id == customer.id, Contact.archived_at.is_(None))
            .order_by(Contact.is_primary.desc(), Contact.name, Contact.id)
        )
    ).all()
    primary = render(_("primary"))
    return _section(
        _("Contacts"),
        [_("Name"), _("Title"), _("Phone"), _("Email")],
        [
            [
                f"{c.name} ({primary})" if c.is_primary else c.name,
                c.title,
                c.phone or c.mobile,
                c.email,
            ]
            for c in rows
        ],
        _("No contacts."),
    )


async def _timeline(
    session: AsyncSession, context: RequestContext, customer: Customer
) -> CustomerProfileSection:
    rows = (
        await session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == customer.id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(RECENT_INTERACTIONS)
        )
    ).all()
    authors = await _emails(session, {i.author_id or 0 for i in rows})
    return _section(
        _("Recent interactions"),
        [_("When"), _("Channel"), _("Summary"), _("By")],
        [
            [_when(i.occurred_at, context), i.channel, i.summary, authors.get(i.author_id or 0)]
            for i in rows
        ],
        _("No interactions logged."),
    )


async def _tasks(
    session: AsyncSession, context: RequestContext, customer: Customer
) -> CustomerProfileSection:
    rows = (
        await session.scalars(
            select(Task)
            .where(
                Task.customer_id == customer.id,
                Task.done_at.is_(None),
                Task.cancelled_at.is_(None),
                task_visible(context),
            )
            .order_by(Task.due_at, Task.id)
            .limit(OPEN_TASKS)
        )
    ).all()
    assignees = await _emails(session, {t.assignee_id or 0 for t in rows})
    return _section(
        _("Open tasks"),
        [_("Due"), _("Task"), _("Type"), _("Assignee")],
        [
            [_when(t.due_at, context), t.title, t.type, assignees.get(t.assignee_id or 0)]
            for t in rows
        ],
        _("No open tasks."),
    )


async def customer_profile(context: RequestContext, raw_id: str) -> CustomerProfile:
    """The profile of the customer ``raw_id`` names, if the caller may read it."""
    async with context.db.read() as session:
        customer = await _customer(session, context, raw_id)
        profile = CustomerProfile(
            number=customer.number,
            name=customer.name,
            details=await _details(session, context, customer),
            generated_at=context.now(),
        )
        profile.sections += [
            await _contacts(session, customer),
            await _timeline(session, context, customer),
            await _tasks(session, context, customer),
        ]
        for contributed in await call_in_turn(
            context.pm.hook.crm_customer_profile_sections,
            session=session,
            customer=customer,
            context=context,
        ):
            profile.sections += contributed
    return profile


async def customer_profile_pdf(request: Request) -> Response:
    from core.customers.profile_layout import render_profile

    context: RequestContext = await request.app.state.crm.make_context(request)
    request.state.operation = "customer profile.pdf"
    try:
        profile = await customer_profile(context, request.path_params["id"])
    except ApiError as error:
        return refusal(error)
    try:
        body = await asyncio.to_thread(render_profile, profile, context.zone, context.locale)
    except Exception:
        logger.exception("customer profile failed", extra={"request_id": context.request_id})
        return internal_error_response(context.request_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{profile.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


ROUTE = Route("/export/customers/{id}.pdf", customer_profile_pdf, methods=["GET"])
