"""Root query fields of opportunities, and the fields the pipeline adds to core's Customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, func, or_, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    User,
    argument_id,
    bad_argument,
    batch_field,
    in_range,
    like_pattern,
    requires,
    search_text,
    translator,
)
from core.plugin_api import CustomerNode as Customer
from plugins.sales import declarations, models
from plugins.sales.inputs.opportunities import (
    OpportunityFilter,
    OpportunityOrder,
    OpportunityOrderField,
)
from plugins.sales.loaders.opportunities import (
    OpportunitiesByCustomerLoader,
    OpportunityCountByCustomerLoader,
)
from plugins.sales.queries.lookup import by_id_or_key
from plugins.sales.types.opportunities import Opportunity

_ = translator(__name__)

OPP = models.Opportunity

OPPORTUNITY_ORDER = ListOrder(
    {
        OpportunityOrderField.CREATED_AT: OPP.created_at,
        OpportunityOrderField.UPDATED_AT: OPP.updated_at,
        OpportunityOrderField.NUMBER: OPP.number,
        OpportunityOrderField.AMOUNT: OPP.amount,
        OpportunityOrderField.EXPECTED_CLOSE: OPP.expected_close_on,
        OpportunityOrderField.CLOSED_AT: OPP.closed_at,
    },
    OPP.id,
    default=[(OpportunityOrderField.CREATED_AT, True)],
    nullable=[OpportunityOrderField.EXPECTED_CLOSE, OpportunityOrderField.CLOSED_AT],
)
"""Opportunity lists' orderings: newest first unless ``orderBy`` says otherwise."""


def opportunity_statement(context: RequestContext, filter: OpportunityFilter | None) -> Select[Any]:
    statement = select(OPP).where(declarations.visible(context, declarations.OPPORTUNITIES))
    if filter is None:
        return statement
    keys = [key.strip().upper() for key in filter.stage or [] if key.strip()]
    if keys:
        statement = statement.where(
            OPP.stage_id.in_(select(models.Stage.id).where(models.Stage.key.in_(keys)))
        )
    if filter.open is not None:
        statement = statement.where(
            OPP.closed_at.is_(None) if filter.open else OPP.closed_at.is_not(None)
        )
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(OPP.owner_id == owner_id)
    team_id = argument_id(filter.team_id, "Team", "filter.teamId")
    if team_id is not None:
        statement = statement.where(
            OPP.owner_id.in_(select(User.id).where(User.team_id == team_id))
        )
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(OPP.customer_id == customer_id)
    if filter.source:
        statement = statement.where(OPP.source.in_([s.value for s in filter.source]))
    window = filter.expected_close
    if window is not None:
        if window.from_ is not None and window.to is not None and window.to < window.from_:
            raise bad_argument("filter.expectedClose.to", _("must not be before from"))
        if window.from_ is not None:
            statement = statement.where(OPP.expected_close_on >= window.from_)
        if window.to is not None:
            statement = statement.where(OPP.expected_close_on <= window.to)
    statement = statement.where(*in_range(OPP.closed_at, filter.closed, "filter.closed"))
    text = search_text(filter.search)
    if text:
        pattern = like_pattern(text)
        statement = statement.where(
            or_(
                func.lower(OPP.number).like(pattern, escape="\\"),
                func.lower(OPP.title).like(pattern, escape="\\"),
            )
        )
    return statement


@strawberry.type
class OpportunityQuery:
    @strawberry.field(
        description="Opportunities the caller may see, newest first unless orderBy says otherwise.",
        extensions=requires(declarations.READ),
    )
    async def opportunities(
        self,
        info: Info,
        filter: OpportunityFilter | None = None,
        order_by: Annotated[
            list[OpportunityOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Opportunity] | None:
        return await info.context.page(
            opportunity_statement(info.context, filter),
            keys=OPPORTUNITY_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Opportunity.from_model,
        )

    @strawberry.field(
        description="One opportunity by id or number.", extensions=requires(declarations.READ)
    )
    async def opportunity(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Opportunity | None:
        return await by_id_or_key(
            info,
            Opportunity,
            id,
            number,
            column=OPP.number,
            conditions=(declarations.visible(info.context, declarations.OPPORTUNITIES),),
        )


# ----------------------------------------------------------------- fields on core's types


async def customer_opportunities(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[OpportunityOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Opportunity]]:
    """Each customer's opportunities the caller may see, newest first unless orderBy says
    otherwise; null (FORBIDDEN) without ``sales:read``."""
    return await context.child_pages(
        OpportunitiesByCustomerLoader,
        OpportunityCountByCustomerLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Opportunity.from_model,
        OPPORTUNITY_ORDER.keys(order_by),
    )


CUSTOMER_FIELDS: dict[str, Any] = {
    "opportunities": batch_field(
        customer_opportunities,
        graphql_type=Connection[Opportunity] | None,
        extensions=requires(declarations.READ),
    ),
}
"""The fields the sales plugin adds to Customer (each aggregate adds its own here)."""
