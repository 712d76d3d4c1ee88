"""The tickets as CSV or XLSX downloads: ``GET /export/tickets.csv`` (or ``.xlsx``) with the
``filter`` and ``orderBy`` of the ``tickets`` query, needing ``tickets:read``.

The rows are the tickets the caller may read (as the list shows them, an SLA-state filter
included); the customer's number and name are left blank where the caller may not read the
customer. Date-times are in the caller's time zone, named in the header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import (
    ListExport,
    RequestContext,
    SortKey,
    User,
    customer_visible,
    export_route,
)
from plugins.tickets.inputs import TicketFilter, TicketOrder
from plugins.tickets.queries import TICKET_ORDER, sla_matcher, ticket_statement

BATCH = 1000
SLA_STATES = "crm_sla_states"
"""The execution option carrying an SLA-state filter from the statement to the rows (the
state is computed, not stored, so the rows are filtered as they are read)."""

COLUMNS = [
    "number",
    "customer_number",
    "customer_name",
    "type",
    "priority",
    "status",
    "subject",
    "assignee_email",
    "reopen_count",
]
TIME_COLUMNS = ["created_at", "sla_due_at", "resolved_at", "closed_at"]


async def _statement(
    context: RequestContext, filter_value: TicketFilter | None, order_value: list[Any]
) -> tuple[Any, Sequence[SortKey]]:
    statement = ticket_statement(context, filter_value)
    if filter_value is not None and filter_value.sla_state:
        statement = statement.execution_options(**{SLA_STATES: frozenset(filter_value.sla_state)})
    return statement, TICKET_ORDER.keys(order_value)


async def _lookup(
    context: RequestContext, customer_ids: set[int], user_ids: set[int]
) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    async with context.db.read() as session:
        customers = await session.execute(
            select(CustomerRow.id, CustomerRow.number, CustomerRow.name).where(
                CustomerRow.id.in_(customer_ids), customer_visible(context, CustomerRow.id)
            )
        )
        users = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        return {c.id: (c.number, c.name) for c in customers}, dict(users.all())


async def ticket_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The export's rows (header first), read in batches."""
    zone = context.zone
    yield [*COLUMNS, *(f"{column} ({zone.key})" for column in TIME_COLUMNS)]
    states = statement.get_execution_options().get(SLA_STATES)
    matches = await sla_matcher(context, set(states)) if states else None
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            rows = [t for t in batch if matches is None or matches(t)]
            customers, users = await _lookup(
                context,
                {t.customer_id for t in rows},
                {t.assignee_id for t in rows if t.assignee_id},
            )
            for t in rows:
                number, name = customers.get(t.customer_id, ("", ""))
                yield [
                    t.number,
                    number,
                    name,
                    t.type,
                    t.priority,
                    t.status,
                    t.subject,
                    users.get(t.assignee_id or 0),
                    t.reopen_count,
                    *(
                        moment and moment.astimezone(zone)
                        for moment in (t.created_at, t.sla_due_at, t.resolved_at, t.closed_at)
                    ),
                ]


TICKETS = ListExport(
    name="tickets",
    permission="tickets:read",
    filter_input=("TicketFilter", TicketFilter),
    order_input=("TicketOrder", TicketOrder),
    statement=_statement,
    rows=ticket_rows,
)

ROUTES = [export_route(TICKETS)]
"""What ``crm_http_routes`` returns."""
