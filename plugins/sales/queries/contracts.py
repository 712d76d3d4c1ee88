"""Root query fields of contracts, and ``Customer.contracts``.

Contracts are read with ``sales:read`` (the pipeline's people, in their scope) or with
finance's ``sales:read_contracts``; each list and loader keeps the rows
``declarations.visible`` lets the caller see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    CustomerNode,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    bad_argument,
    batch_field,
    translator,
)
from plugins.sales import declarations, models
from plugins.sales.inputs.contracts import ContractFilter, ContractOrder, ContractOrderField
from plugins.sales.loaders.contracts import (
    ContractCountByCustomerLoader,
    ContractsByCustomerLoader,
)
from plugins.sales.queries.lookup import by_id_or_key
from plugins.sales.types.contracts import Contract

_ = translator(__name__)

ORDER = ListOrder(
    {
        ContractOrderField.NUMBER: models.Contract.number,
        ContractOrderField.STARTS_ON: models.Contract.starts_on,
        ContractOrderField.ENDS_ON: models.Contract.ends_on,
        ContractOrderField.CREATED_AT: models.Contract.created_at,
        ContractOrderField.UPDATED_AT: models.Contract.updated_at,
    },
    models.Contract.id,
    default=[(ContractOrderField.STARTS_ON, True)],  # the pages loader's keys
)
"""Contract lists' orderings: latest start first unless ``orderBy`` says otherwise."""

OrderBy = Annotated[list[ContractOrder] | None, strawberry.argument(description=ORDER_BY_HELP)]


def require_contract_reader(context: RequestContext) -> None:
    """Refuse (FORBIDDEN) a caller holding neither ``sales:read`` nor
    ``sales:read_contracts``."""
    declarations.require_reader(context, declarations.CONTRACTS)


def contract_statement(info: Info, filter: ContractFilter | None) -> Select[Any]:
    c = models.Contract
    statement = select(c).where(declarations.visible(info.context, declarations.CONTRACTS))
    if filter is None:
        return statement
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(c.customer_id == customer_id)
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(c.owner_id == owner_id)
    if filter.status:
        statement = statement.where(c.status.in_([status.value for status in filter.status]))
    span = filter.ends_between
    if span is not None:
        if span.from_ is not None and span.to is not None and span.to < span.from_:
            raise bad_argument("filter.endsBetween.to", _("must not be before from"))
        if span.from_ is not None:
            statement = statement.where(c.ends_on >= span.from_)
        if span.to is not None:
            statement = statement.where(c.ends_on <= span.to)
    return statement


@strawberry.type
class ContractQuery:
    @strawberry.field(
        description="Contracts you may see (sales:read or sales:read_contracts), latest start "
        "first unless orderBy says otherwise."
    )
    async def contracts(
        self,
        info: Info,
        filter: ContractFilter | None = None,
        order_by: OrderBy = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Contract] | None:
        require_contract_reader(info.context)
        statement = contract_statement(info, filter)
        keys = ORDER.keys(order_by)
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await info.context.page(statement, keys=keys, args=args, to_node=Contract.from_model)

    @strawberry.field(description="One contract by id or number; null when you may not see it.")
    async def contract(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Contract | None:
        require_contract_reader(info.context)
        return await by_id_or_key(
            info,
            Contract,
            id,
            number,
            column=models.Contract.number,
            conditions=(declarations.visible(info.context, declarations.CONTRACTS),),
        )


async def customer_contracts(
    context: RequestContext,
    customers: Sequence[CustomerNode],
    order_by: OrderBy = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Contract]]:
    """Each customer's contracts you may see, latest start first unless orderBy says
    otherwise; null (FORBIDDEN) without sales:read or sales:read_contracts."""
    require_contract_reader(context)
    return await context.child_pages(
        ContractsByCustomerLoader,
        ContractCountByCustomerLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Contract.from_model,
        ORDER.keys(order_by),
    )


CUSTOMER_FIELDS = {
    "contracts": batch_field(customer_contracts, graphql_type=Connection[Contract] | None)
}
"""What contracts add to core's Customer type (``crm_graphql_type_fields``)."""
