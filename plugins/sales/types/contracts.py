"""GraphQL types of contracts: the Contract node and the payloads of its mutations."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import CustomerNode as Customer
from core.plugin_api import (
    ModelNode,
    Money,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.sales import models
from plugins.sales import settings as sales_settings
from plugins.sales.inputs.contracts import ContractStatus
from plugins.sales.loaders.contracts import ContractByIdLoader


def reminder_lead_days(notice_days: int) -> int:
    """How many days before its end a contract's renewal reminder goes out: the notice period
    or ``CRM_SALES_RENEWAL_REMINDER_DAYS``, whichever is longer."""
    return max(sales_settings.load().renewal_reminder_days, notice_days)


async def _values(_context: RequestContext, contracts: Sequence[Contract]) -> list[Money]:
    return [Money.of(contract.amount, contract.currency) for contract in contracts]


async def _renewals_due_on(
    _context: RequestContext, contracts: Sequence[Contract]
) -> list[dt.date]:
    return [
        contract.ends_on - dt.timedelta(days=reminder_lead_days(contract.notice_days))
        for contract in contracts
    ]


@strawberry.type(description="A contract with a customer: its term, value and status.")
class Contract(ModelNode[models.Contract]):
    by_id_loader = ContractByIdLoader
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `CT000001`.")
    title: str
    starts_on: dt.date = strawberry.field(description="The first day of the current term.")
    ends_on: dt.date = strawberry.field(description="The last day in force of the current term.")
    status: ContractStatus
    auto_renew: bool = strawberry.field(
        description="true: when endsOn passes, a new term of the same length (startsOn to "
        "endsOn) begins the next day instead of the contract expiring."
    )
    notice_days: int = strawberry.field(description="The notice period in days.")
    terminated_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int]
    owner_id: strawberry.Private[int | None]
    amount: strawberry.Private[decimal.Decimal]
    currency: strawberry.Private[str]
    value: Money = batch_field(_values, description="The contract's value.")
    renewal_due_on: dt.date = batch_field(
        _renewals_due_on,
        description="The day the renewal reminder goes out while the contract is ACTIVE: "
        "endsOn less the longer of noticeDays and CRM_SALES_RENEWAL_REMINDER_DAYS.",
    )
    customer: Customer | None = batch_field(
        related(Customer, "customer_id"),
        description="The customer; null when it is hidden from you.",
    )
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"),
        description="Who looks after the contract; null only when nobody does.",
    )

    @classmethod
    def from_model(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            title=row.title,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            status=ContractStatus(row.status),
            auto_renew=row.auto_renew,
            notice_days=row.notice_days,
            terminated_at=row.terminated_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            owner_id=row.owner_id,
            amount=row.value,
            currency=row.currency,
        )


@strawberry.type
class ContractPayload:
    contract: Contract | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Contract | None, errors: list[UserError]) -> Self:
        return cls(contract=Contract.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateContractPayload(ContractPayload):
    pass


@strawberry.type
class UpdateContractPayload(ContractPayload):
    pass


@strawberry.type
class ActivateContractPayload(ContractPayload):
    pass


@strawberry.type
class TerminateContractPayload(ContractPayload):
    pass


@strawberry.type
class RenewContractPayload(ContractPayload):
    pass
