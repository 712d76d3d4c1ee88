"""Root mutation fields of the tickets plugin: each takes one input, runs in a transaction
and answers with a payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.tickets import models, service
from plugins.tickets.inputs import (
    AcknowledgeTicketInput,
    AddTicketNoteInput,
    AssignTicketInput,
    CloseTicketInput,
    ConfirmTicketResolutionInput,
    EscalateTicketInput,
    OpenTicketInput,
    ReopenTicketInput,
    ResolveTicketInput,
    SetBusinessHoursInput,
    SetRoutingRuleInput,
    SetSlaPolicyInput,
    StartTicketWorkInput,
    TicketStepInput,
    TransferTicketInput,
    WaitOnCustomerInput,
)
from plugins.tickets.payloads import (
    AcknowledgeTicketPayload,
    AddTicketNotePayload,
    AssignTicketPayload,
    CloseTicketPayload,
    ConfirmTicketResolutionPayload,
    EscalateTicketPayload,
    OpenTicketPayload,
    ReopenTicketPayload,
    ResolveTicketPayload,
    SetBusinessHoursPayload,
    SetRoutingRulePayload,
    SetSlaPolicyPayload,
    StartTicketWorkPayload,
    TicketPayload,
    TransferTicketPayload,
    WaitOnCustomerPayload,
)

P = TypeVar("P", bound=TicketPayload)


async def _ticket_work(
    info: Info,
    payload: type[P],
    work: Callable[[AsyncSession, Check], Awaitable[models.Ticket]],
) -> P:
    async def run(session: AsyncSession) -> models.Ticket:
        return await work(session, Check())

    return await mutate(info, run, payload.of)


def _step(
    target: str, payload: type[P], *, reopening: bool = False
) -> Callable[[Info, TicketStepInput], Awaitable[P]]:
    """The body of a mutation that moves a ticket to ``target`` (called with the mutation's
    ``info`` and ``input``)."""

    async def resolver(info: Info, input: TicketStepInput) -> P:
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
                input.resolution if isinstance(input, ResolveTicketInput) else None,
                reopening=reopening,
            )

        return await _ticket_work(info, payload, work)

    return resolver


@strawberry.type
class TicketMutation:
    @strawberry.mutation(extensions=requires("tickets:write"))
    async def open_ticket(self, info: Info, input: OpenTicketInput) -> OpenTicketPayload | None:
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

        return await _ticket_work(info, OpenTicketPayload, work)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def acknowledge_ticket(
        self, info: Info, input: AcknowledgeTicketInput
    ) -> AcknowledgeTicketPayload | None:
        return await _step("ACKNOWLEDGED", AcknowledgeTicketPayload)(info, input)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def start_ticket_work(
        self, info: Info, input: StartTicketWorkInput
    ) -> StartTicketWorkPayload | None:
        return await _step("IN_PROGRESS", StartTicketWorkPayload)(info, input)

    @strawberry.mutation(
        description="The ticket waits on the customer; the SLA clock pauses.",
        extensions=requires("tickets:write"),
    )
    async def wait_on_customer(
        self, info: Info, input: WaitOnCustomerInput
    ) -> WaitOnCustomerPayload | None:
        return await _step("WAITING", WaitOnCustomerPayload)(info, input)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def resolve_ticket(
        self, info: Info, input: ResolveTicketInput
    ) -> ResolveTicketPayload | None:
        return await _step("RESOLVED", ResolveTicketPayload)(info, input)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def reopen_ticket(
        self, info: Info, input: ReopenTicketInput
    ) -> ReopenTicketPayload | None:
        return await _step("IN_PROGRESS", ReopenTicketPayload, reopening=True)(info, input)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def close_ticket(self, info: Info, input: CloseTicketInput) -> CloseTicketPayload | None:
        return await _step("CLOSED", CloseTicketPayload)(info, input)

    @strawberry.mutation(extensions=requires("tickets:write"))
    async def add_ticket_note(
        self, info: Info, input: AddTicketNoteInput
    ) -> AddTicketNotePayload | None:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.add_note(
                session, info.context, ticket_id, input.note, input.internal
            )

        return await _ticket_work(info, AddTicketNotePayload, work)

    @strawberry.mutation(extensions=requires("tickets:assign"))
    async def assign_ticket(
        self, info: Info, input: AssignTicketInput
    ) -> AssignTicketPayload | None:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            assignee_id = check.node_id("assigneeId", input.assignee_id, "User")
            check.done()
            return await service.assign(
                session, info.context, ticket_id, input.version, assignee_id, None, kind="ASSIGNED"
            )

        return await _ticket_work(info, AssignTicketPayload, work)

    @strawberry.mutation(extensions=requires("tickets:assign"))
    async def transfer_ticket(
        self, info: Info, input: TransferTicketInput
    ) -> TransferTicketPayload | None:
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

        return await _ticket_work(info, TransferTicketPayload, work)

    @strawberry.mutation(
        description="Raise a ticket's priority, with a reason.",
        extensions=requires("tickets:write"),
    )
    async def escalate_ticket(
        self, info: Info, input: EscalateTicketInput
    ) -> EscalateTicketPayload | None:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.escalate(
                session, info.context, ticket_id, input.version, input.priority.value, input.reason
            )

        return await _ticket_work(info, EscalateTicketPayload, work)

    @strawberry.mutation(
        description="The customer's answer: satisfied closes the ticket, not satisfied reopens it.",
        extensions=requires("tickets:write"),
    )
    async def confirm_ticket_resolution(
        self, info: Info, input: ConfirmTicketResolutionInput
    ) -> ConfirmTicketResolutionPayload | None:
        async def work(session: AsyncSession, check: Check) -> models.Ticket:
            ticket_id = check.node_id("id", input.id, "Ticket")
            check.done()
            return await service.confirm_resolution(
                session, info.context, ticket_id, input.satisfied, input.comment
            )

        return await _ticket_work(info, ConfirmTicketResolutionPayload, work)

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_sla_policy(
        self, info: Info, input: SetSlaPolicyInput
    ) -> SetSlaPolicyPayload | None:
        async def work(session: AsyncSession) -> models.SlaPolicy | models.GradeSlaPolicy | None:
            return await service.set_sla_policy(
                session,
                info.context,
                input.priority.value,
                input.first_response_minutes,
                input.resolution_minutes,
                input.grade.value if input.grade is not None else None,
                input.enabled,
            )

        return await mutate(info, work, SetSlaPolicyPayload.of)

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_business_hours(
        self, info: Info, input: SetBusinessHoursInput
    ) -> SetBusinessHoursPayload | None:
        async def work(session: AsyncSession) -> models.BusinessHours | None:
            return await service.set_business_hours(
                session,
                info.context,
                input.enabled,
                input.time_zone,
                input.weekdays,
                input.start,
                input.end,
                None if input.spans is None else [(span.start, span.end) for span in input.spans],
                [(w.weekday, [(s.start, s.end) for s in w.spans]) for w in input.weekday_spans],
                input.holidays,
                input.working_days,
                input.holiday_calendar,
            )

        return await mutate(info, work, SetBusinessHoursPayload.of)

    @strawberry.mutation(extensions=requires("tickets:manage"))
    async def set_routing_rule(
        self, info: Info, input: SetRoutingRuleInput
    ) -> SetRoutingRulePayload | None:
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

        return await mutate(info, work, SetRoutingRulePayload.of)
