"""GraphQL payloads of the tickets plugin's mutations: the result and the user errors."""

from __future__ import annotations

from typing import Self

import strawberry

from core.plugin_api import UserError
from plugins.tickets import models
from plugins.tickets.types import (
    BusinessHoursInfo,
    RoutingRuleInfo,
    SlaPolicy,
    Ticket,
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
    def of(
        cls, row: models.SlaPolicy | models.GradeSlaPolicy | None, errors: list[UserError]
    ) -> Self:
        """The policy set; null when a grade's policy was removed (or on errors)."""
        if row is None:
            return cls(policy=None, errors=errors)
        grade = row.grade if isinstance(row, models.GradeSlaPolicy) else None
        targets = (row.first_response_minutes, row.resolution_minutes)
        return cls(policy=SlaPolicy.of(row.priority, grade, targets), errors=errors)


@strawberry.type
class SetBusinessHoursPayload:
    business_hours: BusinessHoursInfo | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.BusinessHours | None, errors: list[UserError]) -> Self:
        if row is None:
            return cls(business_hours=None, errors=errors)
        hours = BusinessHoursInfo.from_model(row)
        return cls(business_hours=hours, errors=errors)


@strawberry.type
class SetRoutingRulePayload:
    rule: RoutingRuleInfo | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.RoutingRule | None, errors: list[UserError]) -> Self:
        if row is None:
            return cls(rule=None, errors=errors)
        return cls(rule=RoutingRuleInfo.from_model(row), errors=errors)


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
