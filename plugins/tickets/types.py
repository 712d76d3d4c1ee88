"""GraphQL object types of the tickets plugin: the Ticket node, its SLA view and timeline,
ticket figures, and the settings mutations answer with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import strawberry
from strawberry import relay

from core.plugin_api import ContactNode as Contact
from core.plugin_api import (
    CustomerGrade,
    ModelNode,
    RequestContext,
    UserSummary,
    batch_field,
    related,
)
from core.plugin_api import CustomerNode as Customer
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


@strawberry.type(
    description="An SLA policy: the targets of a priority, for every customer (`grade` null) "
    "or for the customers of one grade."
)
class SlaPolicy:
    priority: TicketPriority
    grade: CustomerGrade | None = strawberry.field(
        description="null: the priority's own policy; else the policy of the priority for "
        "customers of this grade (when the ticket was opened)."
    )
    first_response_minutes: int
    resolution_minutes: int

    @classmethod
    def of(cls, priority: str, grade: str | None, targets: tuple[int, int]) -> SlaPolicy:
        return cls(
            priority=TicketPriority(priority),
            grade=CustomerGrade(grade) if grade is not None else None,
            first_response_minutes=targets[0],
            resolution_minutes=targets[1],
        )


@strawberry.type(description="A ticket's service-level clock, computed from stored times.")
class TicketSla:
    first_response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    first_responded_at: dt.datetime | None
    state: SlaState
    policy: SlaPolicy = strawberry.field(
        description="The policy the ticket follows: its priority's, or the one of that "
        "priority for its customer's grade when it was opened, if there is one."
    )


@strawberry.type(description="A step on a ticket's timeline: who, when, what, and a note.")
class TicketEvent:
    kind: TicketEventKind
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str | None
    internal: bool = strawberry.field(description="false: visible to the customer.")
    created_at: dt.datetime
    satisfied: bool | None = strawberry.field(
        description="CONFIRMATION: whether the customer was satisfied; null for other kinds."
    )
    from_priority: TicketPriority | None = strawberry.field(
        description="ESCALATED: the priority before; null for other kinds."
    )
    to_priority: TicketPriority | None = strawberry.field(
        description="ESCALATED: the priority after; null for other kinds."
    )
    actor_id: strawberry.Private[int | None]
    actor: UserSummary | None = batch_field(
        related(UserSummary, "actor_id"),
        description="Who took the step; null only when no user did.",
    )

    @classmethod
    def from_model(cls, row: models.TicketEvent) -> TicketEvent:
        data = row.data or {}
        satisfied = data.get("satisfied") if row.kind == "CONFIRMATION" else None
        escalated = row.kind == "ESCALATED"
        return cls(
            kind=TicketEventKind(row.kind),
            from_status=TicketStatus(row.from_status) if row.from_status else None,
            to_status=TicketStatus(row.to_status) if row.to_status else None,
            note=row.note,
            internal=row.internal,
            created_at=row.created_at,
            satisfied=bool(satisfied) if satisfied is not None else None,
            from_priority=_priority(data.get("from")) if escalated else None,
            to_priority=_priority(data.get("to")) if escalated else None,
            actor_id=row.actor_id,
        )


def _priority(value: object) -> TicketPriority | None:
    return TicketPriority(value) if isinstance(value, str) and value else None


async def _customers_hidden(context: RequestContext, tickets: Sequence[Ticket]) -> list[bool]:
    customers = await Customer.load_many(context, [ticket.customer_id for ticket in tickets])
    return [customer is None for customer in customers]


async def _slas(context: RequestContext, tickets: Sequence[Ticket]) -> list[TicketSla]:
    targets, calendar = await context.loader(loaders.SlaSettingsLoader).load(0)
    now = context.now()
    slas = []
    for ticket in tickets:
        grade, minutes = targets.policy(ticket.priority.value, ticket.sla_grade)
        view = sla_view(ticket.clock, minutes, calendar, now)
        slas.append(
            TicketSla(
                first_response_due_at=view.first_response_due_at,
                resolution_due_at=view.resolution_due_at,
                first_responded_at=view.first_responded_at,
                state=view.state,
                policy=SlaPolicy.of(ticket.priority.value, grade, minutes),
            )
        )
    return slas


async def _events(
    context: RequestContext, tickets: Sequence[Ticket], include_internal: bool = True
) -> list[list[TicketEvent]]:
    found = await context.loader(loaders.EventsByTicketLoader).load_level(
        [ticket.id for ticket in tickets]
    )
    return [
        [TicketEvent.from_model(row) for row in rows if include_internal or not row.internal]
        for rows in found
    ]


@strawberry.type(description="A service request (work order) of a customer.")
class Ticket(ModelNode[models.Ticket]):
    by_id_loader = loaders.TicketByIdLoader
    read_columns = {
        **{name: name for name in ("id", "number", "subject", "description", "resolution")},
        **{name: name for name in ("expected_resolution_at", "reopen_count", "version")},
        **{name: name for name in ("created_at", "updated_at", "resolved_at", "closed_at")},
        "type": ("type", TicketType),
        "priority": ("priority", TicketPriority),
        "status": ("status", TicketStatus),
    }
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
    sla_grade: strawberry.Private[str | None]
    clock: strawberry.Private[Clock]
    customer: Customer | None = batch_field(
        related(Customer, "customer_id"),
        description="The ticket's customer; null when it is hidden from you (`customerHidden`).",
    )
    customer_hidden: bool = batch_field(
        _customers_hidden,
        description="true: the ticket's customer is one you may not see (`customer` is null); "
        "nothing of it is shown, not even its name.",
    )
    contact: Contact | None = batch_field(related(Contact, "contact_id"))
    assignee: UserSummary | None = batch_field(
        related(UserSummary, "assignee_id"),
        description="Who works on the ticket; null only when unassigned.",
    )
    sla: TicketSla = batch_field(
        _slas, description="First-response and resolution targets and how they stand."
    )
    events: list[TicketEvent] = batch_field(
        _events, description="The ticket's timeline, oldest first."
    )

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
            sla_grade=row.sla_grade,
            clock=Clock.of(row),
        )


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

    @classmethod
    def from_model(cls, row: models.BusinessHours) -> BusinessHoursInfo:
        return cls(
            time_zone=row.time_zone,
            weekdays=[d + 1 for d in row.weekdays],
            start=row.spans[0][0],
            end=row.spans[-1][1],
            spans=[TimeSpan(start=start, end=end) for start, end in row.spans],
            weekday_spans=[
                WeekdaySpans(
                    weekday=int(day) + 1,
                    spans=[TimeSpan(start=start, end=end) for start, end in spans],
                )
                for day, spans in sorted(row.weekday_spans.items())
            ],
            holidays=[dt.date.fromisoformat(d) for d in row.holidays],
            working_days=[dt.date.fromisoformat(d) for d in row.working_days],
            holiday_calendar=row.holiday_calendar,
        )


@strawberry.type(description="A team, by name: the full `Team` stays behind `users:read`.")
class TeamSummary:
    id: strawberry.ID = strawberry.field(description="The team's global id (as `Team.id`).")
    name: str


async def _rule_teams(
    context: RequestContext, rules: Sequence[RoutingRuleInfo]
) -> list[TeamSummary | None]:
    ids = [rule.team_id for rule in rules]
    names = await context.loader(loaders.TeamNameLoader).load_level(
        [team_id for team_id in ids if team_id is not None]
    )
    found = dict(zip([team_id for team_id in ids if team_id is not None], names, strict=True))
    teams: list[TeamSummary | None] = []
    for team_id in ids:
        name = found.get(team_id) if team_id is not None else None
        teams.append(
            None
            if team_id is None or name is None
            else TeamSummary(id=strawberry.ID(relay.to_base64("Team", team_id)), name=name)
        )
    return teams


async def _rule_users(
    context: RequestContext, rules: Sequence[RoutingRuleInfo]
) -> list[list[UserSummary]]:
    found = await UserSummary.load_many(
        context, [user_id for rule in rules for user_id in rule.user_ids]
    )
    users = iter(found)
    return [
        [summary for summary in (next(users) for _ in rule.user_ids) if summary is not None]
        for rule in rules
    ]


@strawberry.type(description="How new tickets of a type get their handler.")
class RoutingRuleInfo:
    type: TicketType
    strategy: RoutingStrategy
    team_id: strawberry.Private[int | None]
    user_ids: strawberry.Private[list[int]]
    team: TeamSummary | None = batch_field(
        _rule_teams,
        description="The team whose active members take turns; null when the rule names users "
        "(or its team was deleted).",
    )
    users: list[UserSummary] = batch_field(
        _rule_users, description="The users who take turns, by name; empty for a team's rule."
    )

    @classmethod
    def from_model(cls, row: models.RoutingRule) -> RoutingRuleInfo:
        return cls(
            type=TicketType(row.type),
            strategy=RoutingStrategy(row.strategy),
            team_id=row.team_id,
            user_ids=list(row.user_ids or []),
        )
