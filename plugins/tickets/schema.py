"""Root query and mutation fields of the tickets plugin."""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.plugin_api import (
    Check,
    ChildPage,
    Connection,
    Info,
    PageArgs,
    SortKey,
    UserError,
    argument_id,
    bad_argument,
    check_page_args,
    in_transaction,
    like_pattern,
    paginate,
    requires,
)
from plugins.tickets import models, service
from plugins.tickets.domain import (
    Clock,
    SlaState,
    TicketPriority,
    TicketStatus,
    TicketType,
    sla_view,
)
from plugins.tickets.loaders import SlaSettingsLoader, TicketByIdLoader
from plugins.tickets.types import Ticket, TicketPayload


@strawberry.input
class DateTimeWindow:
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None


@strawberry.input
class TicketFilter:
    status: list[TicketStatus] | None = None
    priority: list[TicketPriority] | None = None
    type: list[TicketType] | None = None
    assignee_id: relay.GlobalID | None = None
    unassigned: bool | None = None
    customer_id: relay.GlobalID | None = None
    sla_state: list[SlaState] | None = None
    opened: DateTimeWindow | None = None
    search: str | None = strawberry.field(default=None, description="Part of number or subject.")


@strawberry.enum
class TicketOrderField(enum.Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    NUMBER = "NUMBER"


@strawberry.enum
class TicketGroupBy(enum.Enum):
    ASSIGNEE = "ASSIGNEE"
    TYPE = "TYPE"
    PRIORITY = "PRIORITY"
    MONTH = "MONTH"


@strawberry.type
class StatusCount:
    status: TicketStatus
    count: int


@strawberry.type(description="Ticket figures for one group (or all tickets, without groupBy).")
class TicketStatsGroup:
    key: list[str] = strawberry.field(
        description="The group's value per groupBy entry (assignee global id or 'unassigned', "
        "type, priority, or YYYY-MM of opening)."
    )
    total: int
    by_status: list[StatusCount]
    mean_first_response_minutes: float | None
    median_first_response_minutes: float | None
    mean_resolution_minutes: float | None
    median_resolution_minutes: float | None
    first_response_sla_compliance: float | None = strawberry.field(
        description="Share of responded tickets that met the first-response target."
    )
    resolution_sla_compliance: float | None = strawberry.field(
        description="Share of resolved tickets that met the resolution target."
    )
    reopen_rate: float | None = strawberry.field(
        description="Share of tickets reopened at least once."
    )
    backlog_age_hours: float | None = strawberry.field(description="Mean age of the open tickets.")


def ticket_statement(info: Info, filter: TicketFilter | None) -> Select[Any]:
    t = models.Ticket
    statement = select(t).where(info.context.visible("tickets:read"))
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
    if filter.opened is not None:
        if filter.opened.from_ is not None:
            statement = statement.where(t.created_at >= filter.opened.from_)
        if filter.opened.to is not None:
            statement = statement.where(t.created_at < filter.opened.to)
    if filter.search and filter.search.strip():
        pattern = like_pattern(filter.search.strip())
        statement = statement.where(
            or_(
                func.lower(t.number).like(pattern, escape="\\"),
                func.lower(t.subject).like(pattern, escape="\\"),
            )
        )
    return statement


def _clock(row: models.Ticket) -> Clock:
    return Clock(
        row.created_at,
        row.paused_seconds or 0.0,
        row.waiting_since,
        row.first_responded_at,
        row.resolved_at,
    )


async def _sla_filtered_page(
    info: Info, statement: Select[Any], keys: list[SortKey], args: PageArgs, states: set[SlaState]
) -> Connection[Ticket]:
    """A page of tickets whose computed SLA state is in ``states``.

    SLA states are computed (calendar and pauses), not stored, so the filter runs on rows as
    they come in keyset order; the cursor stays a plain keyset cursor.
    """
    targets, calendar = await info.context.loader(SlaSettingsLoader).load(0)
    now = info.context.now()

    def matches(row: models.Ticket) -> bool:
        return sla_view(_clock(row), targets[row.priority], calendar, now).state in states

    ctx = info.context
    if args.last is not None or args.before is not None:
        raise bad_argument("last", "an SLA-state filter pages forward only (first/after)")
    limit, _ = check_page_args(args, ctx.settings.max_page_size)
    found: list[models.Ticket] = []
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
            found.extend(edge.node for edge in page.edges if matches(edge.node))
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor

    async def count() -> int:  # totalCount: every match, not only this page's
        async with ctx.db.read() as session:
            rows = await session.stream_scalars(statement.execution_options(yield_per=1000))
            return sum([1 async for row in rows if matches(row)])

    return ChildPage(found, PageArgs(first=limit, after=args.after), limit, False).connection(
        keys, Ticket.from_model, count
    )


def _keys(order: TicketOrderField | None, descending: bool) -> list[SortKey]:
    column = {
        TicketOrderField.CREATED_AT: models.Ticket.created_at,
        TicketOrderField.UPDATED_AT: models.Ticket.updated_at,
        TicketOrderField.NUMBER: models.Ticket.number,
        None: models.Ticket.created_at,
    }[order]
    return [SortKey(column, descending), SortKey(models.Ticket.id, descending)]


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() / 60 if end is not None else None


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@strawberry.type
class TicketQuery:
    @strawberry.field(
        description="Tickets the caller may see.", extensions=requires("tickets:read")
    )
    async def tickets(
        self,
        info: Info,
        filter: TicketFilter | None = None,
        order_by: TicketOrderField | None = None,
        descending: bool = True,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Ticket]:
        statement = ticket_statement(info, filter)
        keys = _keys(order_by, descending)
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
            raise bad_argument("id", "give exactly one of id and number")
        if id is not None:
            row = await info.context.loader(TicketByIdLoader).load(
                argument_id(id, "Ticket", "id") or 0
            )
            return Ticket.from_model(row) if row else None
        async with info.context.db.read() as session:
            row = await session.scalar(
                select(models.Ticket).where(
                    models.Ticket.number == (number or "").strip().upper(),
                    info.context.visible("tickets:read"),
                )
            )
        return Ticket.from_model(row) if row else None

    @strawberry.field(
        description="Ticket figures, optionally grouped.", extensions=requires("tickets:read")
    )
    async def ticket_stats(
        self,
        info: Info,
        filter: TicketFilter | None = None,
        group_by: list[TicketGroupBy] | None = None,
    ) -> list[TicketStatsGroup]:
        statement = ticket_statement(info, filter)
        targets, calendar = await info.context.loader(SlaSettingsLoader).load(0)
        now = info.context.now()
        groups: dict[tuple[str, ...], list[models.Ticket]] = defaultdict(list)
        async with info.context.db.read() as session:
            result = await session.stream_scalars(statement.execution_options(yield_per=1000))
            async for row in result:
                key = tuple(_group_key(row, g) for g in (group_by or []))
                groups[key].append(row)
        out = []
        for key, rows in sorted(groups.items()):
            views = [sla_view(_clock(r), targets[r.priority], calendar, now) for r in rows]
            responded = [(r, v) for r, v in zip(rows, views, strict=True) if r.first_responded_at]
            resolved = [(r, v) for r, v in zip(rows, views, strict=True) if r.resolved_at]
            by_status: dict[str, int] = defaultdict(int)
            for r in rows:
                by_status[r.status] += 1
            first = [
                m
                for r, _ in responded
                if (m := _minutes(r.created_at, r.first_responded_at)) is not None
            ]
            resolution = [
                m for r, _ in resolved if (m := _minutes(r.created_at, r.resolved_at)) is not None
            ]
            open_rows = [r for r in rows if r.status not in ("RESOLVED", "CLOSED")]
            out.append(
                TicketStatsGroup(
                    key=list(key),
                    total=len(rows),
                    by_status=[
                        StatusCount(status=TicketStatus(s), count=c)
                        for s, c in sorted(by_status.items())
                    ],
                    mean_first_response_minutes=_mean(first),
                    median_first_response_minutes=_median(first),
                    mean_resolution_minutes=_mean(resolution),
                    median_resolution_minutes=_median(resolution),
                    first_response_sla_compliance=_share(
                        sum(
                            1
                            for r, v in responded
                            if r.first_responded_at
                            and r.first_responded_at <= v.first_response_due_at
                        ),
                        len(responded),
                    ),
                    resolution_sla_compliance=_share(
                        sum(
                            1
                            for r, v in resolved
                            if r.resolved_at and r.resolved_at <= v.resolution_due_at
                        ),
                        len(resolved),
                    ),
                    reopen_rate=_share(sum(1 for r in rows if r.reopen_count > 0), len(rows)),
                    backlog_age_hours=_mean(
                        [(now - r.created_at).total_seconds() / 3600 for r in open_rows]
                    ),
                )
            )
        return out


def _group_key(row: models.Ticket, group: TicketGroupBy) -> str:
    if group is TicketGroupBy.ASSIGNEE:
        return relay.to_base64("User", row.assignee_id) if row.assignee_id else "unassigned"
    if group is TicketGroupBy.TYPE:
        return row.type
    if group is TicketGroupBy.PRIORITY:
        return row.priority
    return row.created_at.strftime("%Y-%m")


# ----------------------------------------------------------------------------- mutations


@strawberry.input
class OpenTicketInput:
    customer_id: relay.GlobalID
    contact_id: relay.GlobalID | None = None
    type: TicketType
    subject: str
    description: str | None = None
    priority: TicketPriority = TicketPriority.MEDIUM
    expected_resolution_at: dt.datetime | None = None


@strawberry.input
class TicketStepInput:
    id: relay.GlobalID
    version: int
    note: str | None = None
    internal: bool = strawberry.field(
        default=True, description="false: the customer sees the note."
    )


@strawberry.input
class AcknowledgeTicketInput(TicketStepInput):
    pass


@strawberry.input
class StartTicketWorkInput(TicketStepInput):
    pass


@strawberry.input
class WaitOnCustomerInput(TicketStepInput):
    pass


@strawberry.input
class ReopenTicketInput(TicketStepInput):
    pass


@strawberry.input
class CloseTicketInput(TicketStepInput):
    pass


@strawberry.input
class ResolveTicketInput(TicketStepInput):
    resolution: str


@strawberry.input
class AddTicketNoteInput:
    id: relay.GlobalID
    note: str
    internal: bool = True


@strawberry.input
class AssignTicketInput:
    id: relay.GlobalID
    version: int
    assignee_id: relay.GlobalID | None = strawberry.field(description="null unassigns.")


@strawberry.input
class TransferTicketInput:
    id: relay.GlobalID
    version: int
    assignee_id: relay.GlobalID
    reason: str


@strawberry.input
class EscalateTicketInput:
    id: relay.GlobalID
    version: int
    priority: TicketPriority
    reason: str


@strawberry.input
class ConfirmTicketResolutionInput:
    id: relay.GlobalID
    satisfied: bool
    comment: str | None = None


@strawberry.input
class SetSlaPolicyInput:
    priority: TicketPriority
    first_response_minutes: int
    resolution_minutes: int


@strawberry.input
class SetBusinessHoursInput:
    enabled: bool = strawberry.field(description="false removes the calendar (every hour counts).")
    time_zone: str | None = None
    weekdays: list[int] = strawberry.field(
        default_factory=lambda: [1, 2, 3, 4, 5], description="1 = Monday."
    )
    start: str | None = strawberry.field(default="09:00", description="HH:MM, local time.")
    end: str | None = "17:00"
    holidays: list[dt.date] = strawberry.field(default_factory=list)


@strawberry.enum
class RoutingStrategy(enum.Enum):
    ROUND_ROBIN = "ROUND_ROBIN"
    LEAST_OPEN = "LEAST_OPEN"


@strawberry.input
class SetRoutingRuleInput:
    type: TicketType
    strategy: RoutingStrategy | None = strawberry.field(description="null removes the rule.")
    team_id: relay.GlobalID | None = None
    user_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.type
class SlaPolicy:
    priority: TicketPriority
    first_response_minutes: int
    resolution_minutes: int


@strawberry.type
class SetSlaPolicyPayload:
    policy: SlaPolicy | None
    errors: list[UserError]


@strawberry.type
class BusinessHoursInfo:
    time_zone: str
    weekdays: list[int]
    start: str
    end: str
    holidays: list[dt.date]


@strawberry.type
class SetBusinessHoursPayload:
    business_hours: BusinessHoursInfo | None
    errors: list[UserError]


@strawberry.type
class RoutingRuleInfo:
    type: TicketType
    strategy: RoutingStrategy


@strawberry.type
class SetRoutingRulePayload:
    rule: RoutingRuleInfo | None
    errors: list[UserError]


@strawberry.type
class OpenTicketPayload(TicketPayload):
    pass


@strawberry.type
class AcknowledgeTicketPayload(TicketPayload):
    pass


@strawberry.type
class AddTicketNotePayload(TicketPayload):
    pass


@strawberry.type
class StartTicketWorkPayload(TicketPayload):
    pass


@strawberry.type
class WaitOnCustomerPayload(TicketPayload):
    pass


@strawberry.type
class AssignTicketPayload(TicketPayload):
    pass


@strawberry.type
class TransferTicketPayload(TicketPayload):
    pass


@strawberry.type
class EscalateTicketPayload(TicketPayload):
    pass


@strawberry.type
class ResolveTicketPayload(TicketPayload):
    pass


@strawberry.type
class ConfirmTicketResolutionPayload(TicketPayload):
    pass


@strawberry.type
class ReopenTicketPayload(TicketPayload):
    pass


@strawberry.type
class CloseTicketPayload(TicketPayload):
    pass


async def _ticket_work(
    info: Info,
    payload: type[TicketPayload],
    work: Callable[[AsyncSession, Check], Awaitable[models.Ticket]],
) -> Any:
    async def run(session: AsyncSession) -> models.Ticket:
        return await work(session, Check())

    row, errors = await in_transaction(info, run)
    return payload(ticket=Ticket.from_model(row) if row else None, errors=errors)


def _step(target: str, payload: type[TicketPayload], *, reopening: bool = False) -> Any:
    async def resolver(self: Any, info: Info, input: TicketStepInput) -> Any:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.transition(
                session,
                info.context,
                ticket_id,
                input.version,
                target,
                input.note,
                input.internal,
                getattr(input, "resolution", None),
                reopening=reopening,
            )

        return await _ticket_work(info, payload, work)

    return resolver


@strawberry.type
class TicketMutation:
    @strawberry.mutation(extensions=requires("tickets:write"))
    async def open_ticket(self, info: Info, input: OpenTicketInput) -> OpenTicketPayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            contact_id = check.node_id("contactId", input.contact_id, "Contact")
            check.done()
            return await service.open_ticket(
                session,
                info.context,
                customer_id,
                contact_id,
                input.type.value,
                input.subject,
                input.description,
                input.priority.value,
                input.expected_resolution_at,
            )

        return await _ticket_work(info, OpenTicketPayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def acknowledge_ticket(
        self, info: Info, input: AcknowledgeTicketInput
    ) -> AcknowledgeTicketPayload:
        return await _step("ACKNOWLEDGED", AcknowledgeTicketPayload)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def start_ticket_work(
        self, info: Info, input: StartTicketWorkInput
    ) -> StartTicketWorkPayload:
        return await _step("IN_PROGRESS", StartTicketWorkPayload)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="The ticket waits on the customer; the SLA clock pauses.",
        extensions=requires("tickets:write"),
    )
    async def wait_on_customer(
        self, info: Info, input: WaitOnCustomerInput
    ) -> WaitOnCustomerPayload:
        return await _step("WAITING", WaitOnCustomerPayload)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def resolve_ticket(self, info: Info, input: ResolveTicketInput) -> ResolveTicketPayload:
        return await _step("RESOLVED", ResolveTicketPayload)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def reopen_ticket(self, info: Info, input: ReopenTicketInput) -> ReopenTicketPayload:
        return await _step("IN_PROGRESS", ReopenTicketPayload, reopening=True)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def close_ticket(self, info: Info, input: CloseTicketInput) -> CloseTicketPayload:
        return await _step("CLOSED", CloseTicketPayload)(self, info, input)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def add_ticket_note(self, info: Info, input: AddTicketNoteInput) -> AddTicketNotePayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.add_note(
                session, info.context, ticket_id, input.note, input.internal
            )

        return await _ticket_work(info, AddTicketNotePayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:assign"))
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> AssignTicketPayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            assignee_id = check.node_id("assigneeId", input.assignee_id, "User")
            check.done()
            return await service.assign(
                session, info.context, ticket_id, input.version, assignee_id, None, kind="ASSIGNED"
            )

        return await _ticket_work(info, AssignTicketPayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:assign"))
    async def transfer_ticket(
        self, info: Info, input: TransferTicketInput
    ) -> TransferTicketPayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            assignee_id = check.node_id("assigneeId", input.assignee_id, "User")
            check.done()
            return await service.assign(
                session,
                info.context,
                ticket_id,
                input.version,
                assignee_id,
                input.reason,
                kind="TRANSFERRED",
            )

        return await _ticket_work(info, TransferTicketPayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Raise a ticket's priority, with a reason.",
        extensions=requires("tickets:write"),
    )
    async def escalate_ticket(
        self, info: Info, input: EscalateTicketInput
    ) -> EscalateTicketPayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.escalate(
                session, info.context, ticket_id, input.version, input.priority.value, input.reason
            )

        return await _ticket_work(info, EscalateTicketPayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="The customer's answer: satisfied closes the ticket, not satisfied reopens it.",
        extensions=requires("tickets:write"),
    )
    async def confirm_ticket_resolution(
        self, info: Info, input: ConfirmTicketResolutionInput
    ) -> ConfirmTicketResolutionPayload:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.confirm_resolution(
                session, info.context, ticket_id, input.satisfied, input.comment
            )

        return await _ticket_work(info, ConfirmTicketResolutionPayload, work)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_sla_policy(self, info: Info, input: SetSlaPolicyInput) -> SetSlaPolicyPayload:
        async def work(session: AsyncSession) -> models.SlaPolicy:
            return await service.set_sla_policy(
                session,
                info.context,
                input.priority.value,
                input.first_response_minutes,
                input.resolution_minutes,
            )

        row, errors = await in_transaction(info, work)
        policy = (
            SlaPolicy(
                priority=TicketPriority(row.priority),
                first_response_minutes=row.first_response_minutes,
                resolution_minutes=row.resolution_minutes,
            )
            if row
            else None
        )
        return SetSlaPolicyPayload(policy=policy, errors=errors)

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_business_hours(
        self, info: Info, input: SetBusinessHoursInput
    ) -> SetBusinessHoursPayload:
        async def work(session: AsyncSession) -> models.BusinessHours | None:
            return await service.set_business_hours(
                session,
                info.context,
                input.enabled,
                input.time_zone,
                input.weekdays,
                input.start,
                input.end,
                input.holidays,
            )

        row, errors = await in_transaction(info, work)
        hours = (
            BusinessHoursInfo(
                time_zone=row.time_zone,
                weekdays=[d + 1 for d in row.weekdays],
                start=row.start_time,
                end=row.end_time,
                holidays=[dt.date.fromisoformat(d) for d in row.holidays],
            )
            if row
            else None
        )
        return SetBusinessHoursPayload(business_hours=hours, errors=errors)

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_routing_rule(
        self, info: Info, input: SetRoutingRuleInput
    ) -> SetRoutingRulePayload:
        async def work(session: AsyncSession) -> models.RoutingRule | None:
            check = Check()
            team_id = check.node_id("teamId", input.team_id, "Team")
            user_ids = check.node_ids("userIds", input.user_ids, "User")
            check.done()
            return await service.set_routing_rule(
                session,
                info.context,
                input.type.value,
                input.strategy.value if input.strategy else None,
                team_id,
                user_ids,
            )

        row, errors = await in_transaction(info, work)
        rule = (
            RoutingRuleInfo(type=TicketType(row.type), strategy=RoutingStrategy(row.strategy))
            if row
            else None
        )
        return SetRoutingRulePayload(rule=rule, errors=errors)
