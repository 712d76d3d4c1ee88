"""Root query fields of loyalty accounts, and the field they add to core's Customer
(``CUSTOMER_FIELDS``, wired in ``hooks.py``).

Accounts are read with ``loyalty:read`` within its scope (a user reaches the accounts of the
customers they, or their team, own, or all); without it a field is null with a FORBIDDEN
error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import (
    Connection,
    CustomerNode,
    Info,
    PageArgs,
    RequestContext,
    SortKey,
    argument_id,
    batch_field,
    require,
)
from plugins.loyalty import declarations
from plugins.loyalty.inputs.accounts import LoyaltyAccountFilter
from plugins.loyalty.loaders import accounts as loaders
from plugins.loyalty.models import Account
from plugins.loyalty.types.accounts import LoyaltyAccount

KEYS = (SortKey(Account.id),)


def account_statement(context: RequestContext, filter: LoyaltyAccountFilter | None) -> Select[Any]:
    """The accounts the caller may see that ``filter`` keeps."""
    statement = select(Account).where(declarations.visible(context))
    if filter is None:
        return statement
    if filter.tier is not None:
        statement = statement.where(Account.tier_key == filter.tier.strip().upper())
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(Account.customer_id == customer_id)
    if filter.min_balance is not None:
        statement = statement.where(Account.balance >= filter.min_balance)
    return statement


@strawberry.type
class AccountQuery:
    @strawberry.field(
        description="Loyalty accounts you may see (loyalty:read), in the order they enrolled."
    )
    async def loyalty_accounts(
        self,
        info: Info,
        filter: LoyaltyAccountFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LoyaltyAccount] | None:
        require(info.context, declarations.READ)
        return await info.context.page(
            account_statement(info.context, filter),
            keys=KEYS,
            args=PageArgs(first=first, after=after, last=last, before=before),
            to_node=LoyaltyAccount.from_model,
        )

    @strawberry.field(description="One loyalty account by id; null when hidden from you.")
    async def loyalty_account(self, info: Info, id: relay.GlobalID) -> LoyaltyAccount | None:
        require(info.context, declarations.READ)
        return await LoyaltyAccount.load(info, argument_id(id, "LoyaltyAccount", "id"))


# ----------------------------------------------------------------- fields on core's Customer


async def customer_loyalty(
    context: RequestContext, customers: Sequence[CustomerNode]
) -> list[LoyaltyAccount | None]:
    """Each customer's loyalty account; null when not enrolled, or (with a FORBIDDEN error)
    without loyalty:read."""
    require(context, declarations.READ)
    rows = await context.loader(loaders.AccountByCustomerLoader).load_level(
        [customer.id for customer in customers]
    )
    return [LoyaltyAccount.from_model(row) if row is not None else None for row in rows]


CUSTOMER_FIELDS = {"loyalty": batch_field(customer_loyalty, graphql_type=LoyaltyAccount | None)}
"""The fields loyalty adds to core's Customer type."""
