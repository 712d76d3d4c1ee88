"""GraphQL payloads of the tickets plugin's mutations: the result and the user errors."""

from __future__ import annotations

import strawberry

from core.plugin_api import UserError
from plugins.tickets.types import BusinessHoursInfo, RoutingRuleInfo, SlaPolicy, Ticket


@strawberry.type
class TicketPayload:
    ticket: Ticket | None
    errors: list[UserError]


@strawberry.type
class SetSlaPolicyPayload:
    policy: SlaPolicy | None
    errors: list[UserError]


@strawberry.type
class SetBusinessHoursPayload:
    business_hours: BusinessHoursInfo | None
    errors: list[UserError]


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
