"""GraphQL object types of the tickets plugin: the Ticket node, its SLA view and timeline,
ticket figures, and the settings mutations answer with."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from core.plugin_api import ContactNode as Contact
from core.plugin_api import CustomerNode as Customer
from core.plugin_api import (
    Info,
    ModelNode,
    UserSummary,
)
from plugins.tickets import loaders, models
from plugins.tickets.domain import (
    Clock,
    SlaState,
    TicketPriority,
    TicketStatus,
    TicketType,
    sla_view,
)
from plugins.tickets.inputs import RoutingStrategy, TicketEventKind


@strawberry.type(description="A ticket's service-level clock, computed from stored times.")
class TicketSla:
    first_response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    first_responded_at: dt.datetime | None
    state: SlaState


@strawberry.type(description="A step on a ticket's timeline: who, when, what, and a note.")
class TicketEvent:
    kind: TicketEventKind
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str | None
    internal: bool = strawberry.field(description="false: visible to the customer.")
    created_at: dt.datetime
    actor_id: strawberry.Private[int | None]

    @strawberry.field(description="Who took the step; null only when no user did.")
    async def actor(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.actor_id)


@strawberry.type(description="A service request (work order) of a customer.")
class Ticket(ModelNode[models.Ticket]):
    by_id_loader = loaders.TicketByIdLoader
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `T000001`.")
    type: TicketType
    subject: str
    description: str
    priority: TicketPriority
    status: TicketStatus
    expected_resolution_at: dt.datetime | None = strawberry.field(
        description="When the customer asked to have it resolved."
    )
    resolution: str | None
    reopen_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    assignee_id: strawberry.Private[int | None]
    clock: strawberry.Private[Clock]

    @classmethod
    def from_model(cls, row: models.Ticket) -> Ticket:
        return cls(
            id=row.id,
            number=row.number,
            type=TicketType(row.type),
            subject=row.subject,
            description=row.description,
            priority=TicketPriority(row.priority),
            status=TicketStatus(row.status),
            expected_resolution_at=row.expected_resolution_at,
            resolution=row.resolution,
            reopen_count=row.reopen_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            version=row.version,
            customer_id=row.customer_id,
            contact_id=row.contact_id,
            assignee_id=row.assignee_id,
            clock=Clock.of(row),
        )

    @strawberry.field(
        description="The ticket's customer; null when it is hidden from you (`customerHidden`)."
    )
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)

    @strawberry.field(
        description="true: the ticket's customer is one you may not see (`customer` is null); "
        "nothing of it is shown, not even its name."
    )
    async def customer_hidden(self, info: Info) -> bool:
        return await Customer.load(info, self.customer_id) is None

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        return await Contact.load(info, self.contact_id)

    @strawberry.field(description="Who works on the ticket; null only when unassigned.")
    async def assignee(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.assignee_id)

    @strawberry.field(description="First-response and resolution targets and how they stand.")
    async def sla(self, info: Info) -> TicketSla:
        targets, calendar = await info.context.loader(loaders.SlaSettingsLoader).load(0)
        view = sla_view(self.clock, targets[self.priority.value], calendar, info.context.now())
        return TicketSla(
            first_response_due_at=view.first_response_due_at,
            resolution_due_at=view.resolution_due_at,
            first_responded_at=view.first_responded_at,
            state=view.state,
        )

    @strawberry.field(description="The ticket's timeline, oldest first.")
    async def events(self, info: Info, include_internal: bool = True) -> list[TicketEvent]:
        rows = await info.context.loader(loaders.EventsByTicketLoader).load(self.id)
        return [
            TicketEvent(
                kind=TicketEventKind(row.kind),
                from_status=TicketStatus(row.from_status) if row.from_status else None,
                to_status=TicketStatus(row.to_status) if row.to_status else None,
                note=row.note,
                internal=row.internal,
                created_at=row.created_at,
                actor_id=row.actor_id,
            )
            for row in rows
            if include_internal or not row.internal
        ]


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


@strawberry.type
class SlaPolicy:
    priority: TicketPriority
    first_response_minutes: int
    resolution_minutes: int


@strawberry.type
class TimeSpan:
    start: str
    end: str


@strawberry.type
class WeekdaySpans:
    weekday: int = strawberry.field(description="1 = Monday.")
    spans: list[TimeSpan]


@strawberry.type
class BusinessHoursInfo:
    time_zone: str
    weekdays: list[int]
    start: str = strawberry.field(description="The start of the first span.")
    end: str = strawberry.field(description="The end of the last span.")
    spans: list[TimeSpan]
    weekday_spans: list[WeekdaySpans]
    holidays: list[dt.date]
    working_days: list[dt.date]
    holiday_calendar: str | None


@strawberry.type
class RoutingRuleInfo:
    type: TicketType
    strategy: RoutingStrategy
