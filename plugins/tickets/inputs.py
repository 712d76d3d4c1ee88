"""GraphQL inputs and enums of the tickets plugin."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.plugin_api import CustomerGrade, DateTimeRange, OrderDirection
from plugins.tickets.domain import SlaState, TicketPriority, TicketStatus, TicketType


@strawberry.input
class TicketFilter:
    status: list[TicketStatus] | None = None
    priority: list[TicketPriority] | None = None
    type: list[TicketType] | None = None
    assignee_id: relay.GlobalID | None = None
    unassigned: bool | None = None
    customer_id: relay.GlobalID | None = None
    sla_state: list[SlaState] | None = None
    opened: DateTimeRange | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Part of the number or subject, any case; or part of the customer's name, "
        "number or email as the customer search matches them (customers the caller may read).",
    )


@strawberry.input(description="Which of a user's assigned tickets `User.assignedTickets` lists.")
class AssignedTicketFilter:
    status: list[TicketStatus] | None = strawberry.field(
        default=None,
        description="Only these statuses. Not given: every status but CLOSED (give all six "
        "to include closed tickets).",
    )
    priority: list[TicketPriority] | None = strawberry.field(
        default=None, description="Only these priorities; not given: every priority."
    )


@strawberry.enum(
    description="What a ticket list sorts by. PRIORITY follows severity: ascending LOW, "
    "MEDIUM, HIGH, URGENT; descending URGENT first. SLA_DUE is the due time that matters "
    "now (the first response's until there is one, then the resolution's); tickets whose "
    "SLA clock stands (WAITING, RESOLVED, CLOSED) have none and sort last ascending, first "
    "descending."
)
class TicketOrderField(enum.Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    NUMBER = "NUMBER"
    PRIORITY = "PRIORITY"
    SLA_DUE = "SLA_DUE"


@strawberry.input(description="One entry of a ticket list's orderBy.")
class TicketOrder:
    field: TicketOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(
    description="What `ticketStats` groups by. CUSTOMER_GRADE and CUSTOMER_STAGE are the "
    "customer's grade and stage now; tickets of customers you may not read are one group "
    "(key `hidden`)."
)
class TicketGroupBy(enum.Enum):
    ASSIGNEE = "ASSIGNEE"
    TYPE = "TYPE"
    PRIORITY = "PRIORITY"
    MONTH = "MONTH"
    CUSTOMER_GRADE = "CUSTOMER_GRADE"
    CUSTOMER_STAGE = "CUSTOMER_STAGE"


@strawberry.enum(description="What happened on a ticket's timeline.")
class TicketEventKind(enum.Enum):
    OPENED = "OPENED"
    STATUS = "STATUS"
    NOTE = "NOTE"
    ASSIGNED = "ASSIGNED"
    TRANSFERRED = "TRANSFERRED"
    ESCALATED = "ESCALATED"
    CONFIRMATION = "CONFIRMATION"


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


@strawberry.input(
    description="The SLA policy of a priority, or of a priority for the customers of one "
    "grade (their tickets follow it instead of the priority's)."
)
class SetSlaPolicyInput:
    priority: TicketPriority
    grade: CustomerGrade | None = strawberry.field(
        default=None,
        description="null: the priority's own policy; else the policy of the priority for "
        "tickets of customers of this grade (the grade when the ticket was opened).",
    )
    first_response_minutes: int | None = strawberry.field(
        default=None, description="Required unless enabled is false."
    )
    resolution_minutes: int | None = strawberry.field(
        default=None, description="Required unless enabled is false."
    )
    enabled: bool = strawberry.field(
        default=True,
        description="false removes the grade's policy (a grade is required): its tickets "
        "follow the priority's policy again.",
    )


@strawberry.input(description="A working span of a day, local time: 09:00 to 12:00.")
class TimeSpanInput:
    start: str = strawberry.field(description="HH:MM.")
    end: str = strawberry.field(description="HH:MM, after start.")


@strawberry.input(description="The working spans of one weekday, when they differ.")
class WeekdaySpansInput:
    weekday: int = strawberry.field(description="1 = Monday; one of weekdays.")
    spans: list[TimeSpanInput]


@strawberry.input
class SetBusinessHoursInput:
    enabled: bool = strawberry.field(description="false removes the calendar (every hour counts).")
    time_zone: str | None = strawberry.field(
        default=None,
        description="IANA time zone of the hours (Asia/Shanghai, any case); null: the "
        "deployment's (CRM_TIME_ZONE).",
    )
    weekdays: list[int] = strawberry.field(
        default_factory=lambda: [1, 2, 3, 4, 5], description="1 = Monday."
    )
    start: str | None = strawberry.field(
        default="09:00", description="HH:MM, local time; one span from start to end, unless spans."
    )
    end: str | None = "17:00"
    spans: list[TimeSpanInput] | None = strawberry.field(
        default=None,
        description=(
            "The working spans of a working day, instead of start and end: 09:00-12:00 and "
            "13:30-18:00 for a lunch break. Extra working days work these spans."
        ),
    )
    weekday_spans: list[WeekdaySpansInput] = strawberry.field(
        default_factory=list, description="Weekdays whose spans differ from spans."
    )
    holidays: list[dt.date] = strawberry.field(
        default_factory=list, description="Days off, beside those of holidayCalendar."
    )
    working_days: list[dt.date] = strawberry.field(
        default_factory=list,
        description=(
            "Extra working days (a make-up Saturday), beside those of holidayCalendar; "
            "they work spans."
        ),
    )
    holiday_calendar: str | None = strawberry.field(
        default=None,
        description=(
            "A public holiday calendar by country code: CN is mainland China's, holidays and "
            "make-up working days (调休). holidays and workingDays override it."
        ),
    )


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
