"""Root query fields of customers' competitor links, the field they add to core's Customer
(``CUSTOMER_FIELDS``, wired in ``hooks.py``) and the batch function of ``Competitor.customers``
(added to the Competitor type with the encounters' fields).

A link is read with ``competitors:read`` where the caller may read its customer
(:func:`plugins.competitor.service.customers.readable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import Select, select

from core.plugin_api import (
    Connection,
    CustomerNode,
    Info,
    PageArgs,
    RequestContext,
    SortKey,
    argument_id,
    bad_argument,
    batch_field,
    require,
    requires,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.inputs.customers import CustomerCompetitorFilter
from plugins.competitor.loaders import customers as loaders
from plugins.competitor.models import CustomerCompetitor as Link
from plugins.competitor.service.calendar import today
from plugins.competitor.service.customers import readable
from plugins.competitor.types.customers import CustomerCompetitor

_ = translator(__name__)

MAX_DAYS = 3660
KEYS = (SortKey(Link.contract_ends_on, nullable=True), SortKey(Link.id))


def link_statement(context: RequestContext, filter: CustomerCompetitorFilter | None) -> Select[Any]:
    """The links the caller may read that ``filter`` keeps."""
    statement = select(Link).where(readable(context))
    if filter is None:
        return statement
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(Link.customer_id == customer_id)
    competitor_id = argument_id(filter.competitor_id, "Competitor", "filter.competitorId")
    if competitor_id is not None:
        statement = statement.where(Link.competitor_id == competitor_id)
    if filter.current is not None:
        statement = statement.where(
            Link.ended_on.is_(None) if filter.current else Link.ended_on.is_not(None)
        )
    days = filter.ending_within_days
    if days is not None:
        if not 0 <= days <= MAX_DAYS:
            raise bad_argument(
                "filter.endingWithinDays", _("must be from 0 to {max}", max=MAX_DAYS)
            )
        start = today(context)
        statement = statement.where(
            Link.ended_on.is_(None),
            Link.contract_ends_on >= start,
            Link.contract_ends_on <= start + dt.timedelta(days=days),
        )
    return statement


@strawberry.type
class CustomerLinkQuery:
    @strawberry.field(
        description="Which competitors customers use (the customers you may see), the "
        "contract ending soonest first (those without an end date last).",
        extensions=requires(declarations.READ),
    )
    async def customer_competitors(
        self,
        info: Info,
        filter: CustomerCompetitorFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CustomerCompetitor] | None:
        return await info.context.page(
            link_statement(info.context, filter),
            keys=KEYS,
            args=PageArgs(first=first, after=after, last=last, before=before),
            to_node=CustomerCompetitor.from_model,
        )


# ----------------------------------------------------------------- fields on other types


async def customer_competitors(
    context: RequestContext, customers: Sequence[CustomerNode], include_ended: bool = False
) -> list[list[CustomerCompetitor]]:
    """The competitors each customer uses (and, with includeEnded, used), current ones first;
    null (with a FORBIDDEN error) without competitors:read."""
    require(context, declarations.READ)
    found = await context.loader(loaders.LinksByCustomerLoader).load_level(
        [(customer.id, include_ended) for customer in customers]
    )
    return [[CustomerCompetitor.from_model(row) for row in rows] for rows in found]


async def competitor_customers(
    context: RequestContext,
    competitors: Sequence[Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[CustomerCompetitor]]:
    """The customers (you may see) using each competitor now, the contract ending soonest
    first."""
    return await context.child_pages(
        loaders.CurrentLinksByCompetitorLoader,
        loaders.CurrentLinkCountByCompetitorLoader,
        [competitor.id for competitor in competitors],
        PageArgs(first=first, after=after, last=last, before=before),
        CustomerCompetitor.from_model,
    )


CUSTOMER_FIELDS: dict[str, Any] = {
    "competitors": batch_field(
        customer_competitors,
        graphql_type=list[CustomerCompetitor] | None,
        description="The competitors the customer uses (with includeEnded, used), current "
        "ones first; null (FORBIDDEN) without competitors:read.",
    ),
}
"""The fields the plugin adds to core's Customer."""
