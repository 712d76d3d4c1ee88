"""Root query fields of invitations and responses, and the fields they add to core's
Customer and to the tickets plugin's Ticket (by its GraphQL name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    batch_field,
    in_range,
    requires,
)
from core.plugin_api import CustomerNode as Customer
from plugins.surveys import declarations, models
from plugins.surveys.inputs.invitations import (
    SurveyInvitationFilter,
    SurveyInvitationOrder,
    SurveyInvitationOrderField,
    SurveyResponseFilter,
    SurveyResponseOrder,
    SurveyResponseOrderField,
)
from plugins.surveys.loaders.invitations import (
    LatestTicketInvitationLoader,
    ResponseCountByCustomerLoader,
    ResponsesByCustomerLoader,
)
from plugins.surveys.types.invitations import SurveyInvitation, SurveyResponse

INV = models.SurveyInvitation
RESP = models.SurveyResponse

INVITATION_ORDER = ListOrder(
    {
        SurveyInvitationOrderField.CREATED_AT: INV.created_at,
        SurveyInvitationOrderField.SENT_AT: INV.sent_at,
    },
    INV.id,
    default=[(SurveyInvitationOrderField.CREATED_AT, True)],
    nullable=[SurveyInvitationOrderField.SENT_AT],
)
RESPONSE_ORDER = ListOrder(
    {SurveyResponseOrderField.SUBMITTED_AT: RESP.submitted_at},
    RESP.id,
    default=[(SurveyResponseOrderField.SUBMITTED_AT, True)],
)


def invitation_statement(
    context: RequestContext, filter: SurveyInvitationFilter | None
) -> Select[Any]:
    statement = select(INV).where(declarations.visible(context, declarations.RESOURCE))
    if filter is None:
        return statement
    template_id = argument_id(filter.template_id, "SurveyTemplate", "filter.templateId")
    if template_id is not None:
        statement = statement.where(INV.template_id == template_id)
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(INV.customer_id == customer_id)
    if filter.status:
        statement = statement.where(INV.status.in_([s.value for s in filter.status]))
    if filter.subject_kind is not None:
        statement = statement.where(INV.subject_kind == filter.subject_kind.value)
    return statement.where(*in_range(INV.sent_at, filter.sent, "filter.sent"))


def response_statement(context: RequestContext, filter: SurveyResponseFilter | None) -> Select[Any]:
    statement = select(RESP).where(declarations.visible(context))
    if filter is None:
        return statement
    template_id = argument_id(filter.template_id, "SurveyTemplate", "filter.templateId")
    if template_id is not None:
        statement = statement.where(RESP.template_id == template_id)
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(RESP.customer_id == customer_id)
    if filter.subject_kind is not None:
        statement = statement.where(RESP.subject_kind == filter.subject_kind.value)
    if filter.low_scored is not None:
        statement = statement.where(RESP.low_scored.is_(filter.low_scored))
    return statement.where(*in_range(RESP.submitted_at, filter.submitted, "filter.submitted"))


@strawberry.type
class InvitationQuery:
    @strawberry.field(
        description="Survey invitations the caller may see (of the tickets they handled and "
        "the customers they own, with an OWN scope), newest first unless orderBy says "
        "otherwise.",
        extensions=requires(declarations.READ),
    )
    async def survey_invitations(
        self,
        info: Info,
        filter: SurveyInvitationFilter | None = None,
        order_by: Annotated[
            list[SurveyInvitationOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SurveyInvitation] | None:
        return await info.context.page(
            invitation_statement(info.context, filter),
            keys=INVITATION_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=SurveyInvitation.from_model,
        )

    @strawberry.field(
        description="Survey responses the caller may see, newest first unless orderBy says "
        "otherwise.",
        extensions=requires(declarations.READ),
    )
    async def survey_responses(
        self,
        info: Info,
        filter: SurveyResponseFilter | None = None,
        order_by: Annotated[
            list[SurveyResponseOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SurveyResponse] | None:
        return await info.context.page(
            response_statement(info.context, filter),
            keys=RESPONSE_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=SurveyResponse.from_model,
        )

    @strawberry.field(
        description="One response; null when it does not exist or is hidden from you.",
        extensions=requires(declarations.READ),
    )
    async def survey_response(self, info: Info, id: relay.GlobalID) -> SurveyResponse | None:
        return await SurveyResponse.load(info, argument_id(id, "SurveyResponse", "id") or 0)


# ----------------------------------------------------------------- fields on other types


async def customer_survey_responses(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[SurveyResponseOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[SurveyResponse]]:
    """Each customer's survey responses the caller may see, newest first unless orderBy says
    otherwise; null (FORBIDDEN) without ``surveys:read``."""
    return await context.child_pages(
        ResponsesByCustomerLoader,
        ResponseCountByCustomerLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        SurveyResponse.from_model,
        RESPONSE_ORDER.keys(order_by),
    )


async def ticket_survey(
    context: RequestContext, tickets: Sequence[Any]
) -> list[SurveyInvitation | None]:
    """The latest survey invitation that followed each ticket (with its response); null when
    there is none or it is outside the caller's ``surveys:read`` scope."""
    rows = await context.loader(LatestTicketInvitationLoader).load_level(
        [int(ticket.id) for ticket in tickets]
    )
    return [SurveyInvitation.from_model(row) if row is not None else None for row in rows]


CUSTOMER_FIELDS: dict[str, Any] = {
    "survey_responses": batch_field(
        customer_survey_responses,
        graphql_type=Connection[SurveyResponse] | None,
        description="The customer's survey responses you may see (surveys:read: with an OWN "
        "scope those of the tickets you handled and the customers you own), newest first "
        "unless orderBy says otherwise; null (FORBIDDEN) without surveys:read.",
        extensions=requires(declarations.READ),
    ),
}
TICKET_FIELDS: dict[str, Any] = {
    "survey": batch_field(
        ticket_survey,
        graphql_type=SurveyInvitation | None,
        description="The latest satisfaction survey invitation that followed this ticket, "
        "with its response once answered; null when none was made or it is outside your "
        "surveys:read scope (with an OWN scope: the tickets you handled and the customers "
        "you own); null (FORBIDDEN) without surveys:read.",
        extensions=requires(declarations.READ),
    ),
}
