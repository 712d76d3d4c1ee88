"""GraphQL payloads of the tickets plugin's mutations: the result and the user errors."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from core.plugin_api import UserError
from plugins.tickets import models
from plugins.tickets.domain import TicketPriority, TicketType
from plugins.tickets.inputs import RoutingStrategy
from plugins.tickets.types import (
    BusinessHoursInfo,
    RoutingRuleInfo,
    SlaPolicy,
    Ticket,
    TimeSpan,
    WeekdaySpans,
)


@strawberry.type
class TicketPayload:
    ticket: Ticket | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Ticket | None, errors: list[UserError]) -> Self:
        return cls(ticket=Ticket.from_model(row) if row else None, errors=errors)


@strawberry.type
class SetSlaPolicyPayload:
    policy: SlaPolicy | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.SlaPolicy | None, errors: list[UserError]) -> Self:
        if row is None:
            return cls(policy=None, errors=errors)
        policy = SlaPolicy(
            priority=TicketPriority(row.priority),
            first_response_minutes=row.first_response_minutes,
            resolution_minutes=row.resolution_minutes,
        )
        return cls(policy=policy, errors=errors)


@strawberry.type
class SetBusinessHoursPayload:
    business_hours: BusinessHoursInfo | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.BusinessHours | None, errors: list[UserError]) -> Self:
        if row is None:
            return cls(business_hours=None, errors=errors)
        hours = BusinessHoursInfo(
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
        return cls(business_hours=hours, errors=errors)


@strawberry.type
class SetRoutingRulePayload:
    rule: RoutingRuleInfo | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.RoutingRule | None, errors: list[UserError]) -> Self:
        if row is None:
            return cls(rule=None, errors=errors)
        rule = RoutingRuleInfo(type=TicketType(row.type), strategy=RoutingStrategy(row.strategy))
        return cls(rule=rule, errors=errors)


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
