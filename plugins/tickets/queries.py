"""Root query fields of the tickets plugin, and the fields it adds to core's Customer and
User types."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, case, func, or_, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    SortKey,
    User,
    UserSummary,
    argument_id,
    bad_argument,
    check_page_args,
    customer_visible,
    in_range,
    like_pattern,
    paginate,
    requires,
    search_key_pattern,
    search_text,
    translator,
)
from core.plugin_api import Customer as CustomerRow
from core.plugin_api import CustomerNode as Customer
from plugins.tickets import loaders, models, service
from plugins.tickets.domain import Clock, SlaState, TicketPriority, TicketStatus, sla_view
from plugins.tickets.inputs import (
    AssignedTicketFilter,
    TicketFilter,
    TicketOrder,
    TicketOrderField,
)
from plugins.tickets.loaders import SlaSettingsLoader
from plugins.tickets.types import Ticket

_ = translator(__name__)

MAX_ASSIGNEES = 100
"""The most users ``ticketAssignees`` lists at once (narrow it with ``search``)."""


def ticket_statement(context: RequestContext, filter: TicketFilter | None) -> Select[Any]:
    """The tickets the caller may read that ``filter`` keeps, but for its ``slaState`` (a
    computed state: :func:`sla_matcher`); a bad value is a BAD_USER_INPUT error naming it."""
    t = models.Ticket
    statement = select(t).where(context.visible("tickets:read"))
    if filter is None:
        return statement
    for values, column in (
        (filter.status, t.status),
        (filter.priority, t.priority),
        (filter.type, t.type),
    ):
        if values:
            statement = statement.where(column.in_([v.value for v in values]))
    assignee_id = argument_id(filter.assignee_id, "User", "filter.assigneeId")
    if assignee_id is not None:
        statement = statement.where(t.assignee_id == assignee_id)
    if filter.unassigned is not None:
        statement = statement.where(
            t.assignee_id.is_(None) if filter.unassigned else t.assignee_id.is_not(None)
        )
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(t.customer_id == customer_id)
    statement = statement.where(*in_range(t.created_at, filter.opened, "filter.opened"))
    text = search_text(filter.search)
    if text:
        pattern = like_pattern(text)
        # The customer's name and number through its stored search key (folded alike on
        # every database), of the customers the caller may read only: a hidden customer's
        # name must not be found out by searching for it.
        customers = select(CustomerRow.id).where(
            CustomerRow.search_key.like(search_key_pattern(text), escape="\\"),
            customer_visible(context, CustomerRow.id),
        )
        statement = statement.where(
            or_(
                func.lower(t.number).like(pattern, escape="\\"),
                func.lower(t.subject).like(pattern, escape="\\"),
                t.customer_id.in_(customers),
            )
        )
    return statement


async def sla_matcher(
    context: RequestContext, states: set[SlaState]
) -> Callable[[models.Ticket], bool]:
    """Whether a ticket's SLA state, computed now (calendar and pauses), is in ``states``."""
    targets, calendar = await context.loader(SlaSettingsLoader).load(0)
    now = context.now()

    def matches(row: models.Ticket) -> bool:
        return (
            sla_view(Clock.of(row), targets.of(row.priority, row.sla_grade), calendar, now).state
            in states
        )

    return matches


async def _sla_filtered_page(
    info: Info, statement: Select[Any], keys: list[SortKey], args: PageArgs, states: set[SlaState]
) -> Connection[Ticket]:
    """A page of tickets whose computed SLA state is in ``states``.

    SLA states are computed (calendar and pauses), not stored, so the filter runs on rows as
    they come in keyset order; the cursor stays a plain keyset cursor.
    """
    matches = await sla_matcher(info.context, states)
    ctx = info.context
    if args.last is not None or args.before is not None:
        raise bad_argument(
            "last" if args.last is not None else "before",
            _("an SLA-state filter pages forward only (first/after)"),
        )
    limit, _backwards = check_page_args(args, ctx.settings.max_page_size)
    found: list[relay.Edge[Any]] = []
    after = args.after
    async with ctx.db.read() as session:
        while len(found) <= limit:
            page = await paginate(
                session,
                statement,
                keys=keys,
                args=PageArgs(first=100, after=after),
                max_page_size=100,
                to_node=lambda row: row,
            )
            found.extend(edge for edge in page.edges if matches(edge.node))
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor

    async def count() -> int:  # totalCount: every match, not only this page's
        async with ctx.db.read() as session:
            rows = await session.stream_scalars(statement.execution_options(yield_per=1000))
            return sum([1 async for row in rows if matches(row)])

    edges = [relay.Edge(node=Ticket.from_model(e.node), cursor=e.cursor) for e in found[:limit]]
    page_info = relay.PageInfo(
        has_next_page=len(found) > limit,
        has_previous_page=args.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=page_info, _count=count)


_SEVERITY = [TicketPriority.LOW, TicketPriority.MEDIUM, TicketPriority.HIGH, TicketPriority.URGENT]

TICKET_ORDER = ListOrder(
    {
        TicketOrderField.CREATED_AT: models.Ticket.created_at,
        TicketOrderField.UPDATED_AT: models.Ticket.updated_at,
        TicketOrderField.NUMBER: models.Ticket.number,
        TicketOrderField.PRIORITY: case(
            {p.value: rank for rank, p in enumerate(_SEVERITY)},
            value=models.Ticket.priority,
            else_=len(_SEVERITY),
        ),
        TicketOrderField.SLA_DUE: models.Ticket.sla_due_at,
    },
    models.Ticket.id,
    default=[(TicketOrderField.CREATED_AT, True)],
    nullable=[TicketOrderField.SLA_DUE],
)
"""Ticket lists' orderings: newest first unless ``orderBy`` says otherwise."""


@strawberry.type
class TicketQuery:
    @strawberry.field(
        description="Tickets the caller may see, newest first unless orderBy says otherwise.",
        extensions=requires("tickets:read"),
    )
    async def tickets(
        self,
        info: Info,
        filter: TicketFilter | None = None,
        order_by: Annotated[
            list[TicketOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Ticket] | None:
        statement = ticket_statement(info.context, filter)
        keys = TICKET_ORDER.keys(order_by)
        args = PageArgs(first, after, last, before)
        if filter is not None and filter.sla_state:
            return await _sla_filtered_page(info, statement, keys, args, set(filter.sla_state))
        return await info.context.page(statement, keys=keys, args=args, to_node=Ticket.from_model)

    @strawberry.field(
        description="One ticket by id or number.", extensions=requires("tickets:read")
    )
    async def ticket(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Ticket | None:
        if (id is None) == (number is None):
            raise bad_argument("id", _("give exactly one of id and number"))
        if id is not None:
            return await Ticket.load(info, argument_id(id, "Ticket", "id") or 0)
        async with info.context.db.read() as session:
            row = await session.scalar(
                select(models.Ticket).where(
                    models.Ticket.number == (number or "").strip().upper(),
                    info.context.visible("tickets:read"),
                )
            )
        return Ticket.from_model(row) if row else None

    @strawberry.field(
        description="The users the caller may assign tickets to, by name: active, within "
        "the scope of the caller's `tickets:assign` (ALL: anyone; TEAM: the team; OWN: "
        "themselves) or on the support desk (holding `tickets:handle` at ALL scope, or at "
        "TEAM scope in the caller's team). Names only: the full `User` stays behind "
        "`users:read`.",
        extensions=requires("tickets:assign"),
    )
    async def ticket_assignees(
        self,
        info: Info,
        search: Annotated[
            str | None, strawberry.argument(description="Part of the name, any case.")
        ] = None,
        first: Annotated[
            int, strawberry.argument(description=f"At most this many (1 to {MAX_ASSIGNEES}).")
        ] = MAX_ASSIGNEES,
    ) -> list[UserSummary] | None:
        if not 1 <= first <= MAX_ASSIGNEES:
            raise bad_argument("first", _("must be between 1 and {max}", max=MAX_ASSIGNEES))
        text = search_text(search, "search")
        async with info.context.db.read() as session:
            statement = select(User.id).where(await service.assignable_users(session, info.context))
            if text:
                statement = statement.where(
                    func.lower(User.name).like(like_pattern(text), escape="\\")
                )
            ids = (await session.scalars(statement.order_by(User.name, User.id).limit(first))).all()
        found = await asyncio.gather(*(UserSummary.load(info, user_id) for user_id in ids))
        return [summary for summary in found if summary is not None]


# ----------------------------------------------------------------- fields on core's types


async def customer_tickets(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[TicketOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Ticket]]:
    """Each customer's tickets the caller may see, newest first unless orderBy says
    otherwise (``Customer.tickets``; null, FORBIDDEN, without ``tickets:read``)."""
    return await context.child_pages(
        loaders.TicketsByCustomerLoader,
        loaders.TicketCountByCustomerLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Ticket.from_model,
        TICKET_ORDER.keys(order_by),
    )


async def customer_open_ticket_count(
    context: RequestContext, customers: Sequence[Customer]
) -> list[int]:
    """Tickets of each customer not yet RESOLVED or CLOSED that the caller may see
    (``Customer.openTicketCount``; null, FORBIDDEN, without ``tickets:read``)."""
    counts: list[int] = await context.loader(loaders.OpenTicketCountLoader).load_level(
        [customer.id for customer in customers]
    )
    return counts


async def user_assigned_tickets(
    context: RequestContext,
    users: Sequence[Any],
    filter: AssignedTicketFilter | None = None,
    order_by: Annotated[
        list[TicketOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Ticket]]:
    """Tickets assigned to each user that the caller may see, newest first unless orderBy
    says otherwise; without a status filter, every status but CLOSED. Null (FORBIDDEN)
    without ``tickets:read``."""
    filter = filter or AssignedTicketFilter()
    statuses = (
        {s.value for s in filter.status}
        if filter.status
        else {s.value for s in TicketStatus} - {TicketStatus.CLOSED.value}
    )
    pages, counts = loaders.assigned_loaders(
        frozenset(statuses), frozenset(p.value for p in filter.priority or [])
    )
    return await context.child_pages(
        pages,
        counts,
        [user.id for user in users],
        PageArgs(first=first, after=after, last=last, before=before),
        Ticket.from_model,
        TICKET_ORDER.keys(order_by),
    )
