"""Export customers as CSV or XLSX (``GET /export/customers.csv``), in the columns of the
import (a ``custom:<key>`` column per custom field of customers included, so that an edited
export imports back), through the exports every list shares (:mod:`core.exports`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.context import RequestContext
from core.customers.exchange import custom_cell, export_header
from core.customers.models import CustomerTag, CustomFieldDefinition, Tag
from core.exports import EXPORT_BATCH, ListExport
from core.identity.models import User
from core.ordering import SortKey


async def export_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The export's rows (header first), read in batches; date-times in the caller's zone."""
    owner_emails: dict[int, str] = {}
    zone = context.zone
    d = CustomFieldDefinition
    async with context.db.read() as session:
        keys = list(
            (
                await session.scalars(select(d.key).where(d.entity == "CUSTOMER").order_by(d.key))
            ).all()
        )
    yield export_header(zone.key, keys)
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=EXPORT_BATCH))
        async for batch in result.partitions(EXPORT_BATCH):
            ids = [c.id for c in batch]
            tags: dict[int, list[str]] = {}
            async with context.db.read() as lookup:
                for customer_id, name in (
                    await lookup.execute(
                        select(CustomerTag.customer_id, Tag.name)
                        .join(Tag, Tag.id == CustomerTag.tag_id)
                        .where(CustomerTag.customer_id.in_(ids))
                        .order_by(Tag.name_sort, Tag.id)
                    )
                ).all():
                    tags.setdefault(customer_id, []).append(name)
                missing = {
                    c.owner_id for c in batch if c.owner_id and c.owner_id not in owner_emails
                }
                if missing:
                    for user_id, email in (
                        await lookup.execute(
                            select(User.id, User.email).where(User.id.in_(missing))
                        )
                    ).all():
                        owner_emails[user_id] = email
            for c in batch:
                values = c.custom_fields if isinstance(c.custom_fields, dict) else {}
                yield [
                    c.number,
                    c.name,
                    c.kind,
                    c.industry,
                    c.stage,
                    c.grade,
                    c.source,
                    c.phone,
                    c.email,
                    c.website,
                    c.address_line1,
                    c.address_line2,
                    c.city,
                    c.region,
                    c.postal_code,
                    c.country,
                    owner_emails.get(c.owner_id or 0, ""),
                    ";".join(tags.get(c.id, [])),
                    *(custom_cell(values.get(key)) for key in keys),
                    c.created_at.astimezone(zone),
                    c.last_interaction_at and c.last_interaction_at.astimezone(zone),
                ]


async def _statement(
    context: RequestContext, filter_value: Any, order_value: list[Any]
) -> tuple[Any, Sequence[SortKey]]:
    from core.customers.queries import customer_field_types, customer_statement, order_keys

    keys = order_keys(order_value)
    field_types = (
        await customer_field_types(context)
        if filter_value is not None and filter_value.custom_fields
        else None
    )
    return customer_statement(context, filter_value, "customers:export", field_types), keys


def _rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    return export_rows(context, statement)  # looked up at each export (tests replace it)


def customer_export() -> ListExport:
    """``GET /export/customers.csv`` or ``.xlsx``: the ``customers`` list, scoped by
    ``customers:export``, filtered by ``filter`` and ordered by ``orderBy`` (JSON, as in
    the query: a list of entries, or one entry)."""
    from core.customers.inputs import CustomerFilter, CustomerOrder

    return ListExport(
        name="customers",
        permission="customers:export",
        filter_input=("CustomerFilter", CustomerFilter),
        order_input=("CustomerOrder", CustomerOrder),
        statement=_statement,
        rows=_rows,
    )
