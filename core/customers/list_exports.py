"""Export contacts and interactions as CSV or XLSX (``GET /export/contacts.csv``,
``GET /export/interactions.xlsx``...), through the exports every list shares
(:mod:`core.exports`).

Each takes the ``filter`` and ``orderBy`` of its list query (``contacts``, ``interactions``)
and needs ``customers:export``; its rows are those the list shows the caller (of the
customers they may read) that are also of customers they may export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.sql.elements import True_

from core.context import RequestContext
from core.customers.models import Contact, Customer, Interaction
from core.exports import EXPORT_BATCH, ListExport
from core.identity.models import User
from core.ordering import SortKey

EXPORT = "customers:export"

CONTACT_COLUMNS = [
    "customer_number",
    "customer_name",
    "name",
    "title",
    "phone",
    "mobile",
    "email",
    "birthday",
    "is_primary",
    "locale",
    "time_zone",
    "notes",
]
INTERACTION_COLUMNS = [
    "customer_number",
    "customer_name",
    "channel",
    "summary",
    "contact",
    "author_email",
]


def exportable(context: RequestContext, customer_id: Any) -> ColumnElement[bool]:
    """``customer_id`` names a customer the caller may export."""
    condition = context.visible(EXPORT, "customers")
    if isinstance(condition, True_):
        return condition
    return customer_id.in_(select(Customer.id).where(condition))  # type: ignore[no-any-return]


async def _customers(context: RequestContext, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    async with context.db.read() as session:
        rows = await session.execute(
            select(Customer.id, Customer.number, Customer.name).where(Customer.id.in_(set(ids)))
        )
        return {row.id: (row.number, row.name) for row in rows}


async def _names(context: RequestContext, column: Any, value: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    async with context.db.read() as session:
        rows = await session.execute(select(column, value).where(column.in_(ids)))
        return dict(rows.all())


async def contact_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The contacts export's rows (header first), read in batches."""
    yield [*CONTACT_COLUMNS, f"created_at ({context.zone.key})"]
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=EXPORT_BATCH))
        async for batch in result.partitions(EXPORT_BATCH):
            customers = await _customers(context, (c.customer_id for c in batch))
            for c in batch:
                number, name = customers.get(c.customer_id, ("", ""))
                yield [
                    number,
                    name,
                    c.name,
                    c.title,
                    c.phone,
                    c.mobile,
                    c.email,
                    c.birthday.isoformat() if c.birthday else None,
                    "true" if c.is_primary else "false",
                    c.locale,
                    c.time_zone,
                    c.notes,
                    c.created_at.astimezone(context.zone),
                ]


async def interaction_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The interactions export's rows (header first), read in batches."""
    zone = context.zone
    yield [
        *INTERACTION_COLUMNS[:2],
        f"occurred_at ({zone.key})",
        *INTERACTION_COLUMNS[2:],
        f"next_follow_up_at ({zone.key})",
    ]
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=EXPORT_BATCH))
        async for batch in result.partitions(EXPORT_BATCH):
            customers = await _customers(context, (i.customer_id for i in batch))
            contacts = await _names(
                context, Contact.id, Contact.name, {i.contact_id for i in batch if i.contact_id}
            )
            authors = await _names(
                context, User.id, User.email, {i.author_id for i in batch if i.author_id}
            )
            for i in batch:
                number, name = customers.get(i.customer_id, ("", ""))
                yield [
                    number,
                    name,
                    i.occurred_at.astimezone(zone),
                    i.channel,
                    i.summary,
                    contacts.get(i.contact_id or 0),
                    authors.get(i.author_id or 0),
                    i.next_follow_up_at and i.next_follow_up_at.astimezone(zone),
                ]


async def _contact_statement(
    context: RequestContext, filter_value: Any, order_value: list[Any]
) -> tuple[Any, Sequence[SortKey]]:
    from core.customers.orders import CONTACT_ORDER
    from core.customers.queries import contact_statement

    statement = contact_statement(context, filter_value)
    keys = CONTACT_ORDER.keys(order_value)
    return statement.where(exportable(context, Contact.customer_id)), keys


async def _interaction_statement(
    context: RequestContext, filter_value: Any, order_value: list[Any]
) -> tuple[Any, Sequence[SortKey]]:
    from core.customers.followup_loaders import interaction_conditions, interaction_statement
    from core.customers.orders import INTERACTION_ORDER

    conditions = await interaction_conditions(context, filter_value)
    statement = interaction_statement(context, conditions)
    keys = INTERACTION_ORDER.keys(order_value)
    return statement.where(exportable(context, Interaction.customer_id)), keys


def contact_export() -> ListExport:
    """``GET /export/contacts.csv`` or ``.xlsx``: the ``contacts`` list."""
    from core.customers.inputs import ContactFilter, ContactOrder

    return ListExport(
        name="contacts",
        permission=EXPORT,
        filter_input=("ContactFilter", ContactFilter),
        order_input=("ContactOrder", ContactOrder),
        statement=_contact_statement,
        rows=contact_rows,
    )


def interaction_export() -> ListExport:
    """``GET /export/interactions.csv`` or ``.xlsx``: the ``interactions`` list."""
    from core.customers.followup_inputs import InteractionFilter
    from core.customers.inputs import InteractionOrder

    return ListExport(
        name="interactions",
        permission=EXPORT,
        filter_input=("InteractionFilter", InteractionFilter),
        order_input=("InteractionOrder", InteractionOrder),
        statement=_interaction_statement,
        rows=interaction_rows,
    )
