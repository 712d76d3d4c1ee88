"""GraphQL inputs and enums of contracts."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection


@strawberry.enum(
    description="Where a contract is in its life: DRAFT (being written; every field may "
    "change), ACTIVE (in force; renewed or terminated from here), EXPIRED (its end date "
    "passed without a renewal; it may still be renewed), TERMINATED (ended early; final)."
)
class ContractStatus(enum.Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    TERMINATED = "TERMINATED"


@strawberry.input(description="A span of calendar days, both ends included; either may be open.")
class ContractDateRange:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.input
class ContractFilter:
    customer_id: relay.GlobalID | None = None
    status: list[ContractStatus] | None = None
    ends_between: ContractDateRange | None = strawberry.field(
        default=None, description="Contracts whose endsOn falls in this span."
    )
    owner_id: relay.GlobalID | None = None


@strawberry.enum(description="What a contract list sorts by.")
class ContractOrderField(enum.Enum):
    NUMBER = "NUMBER"
    STARTS_ON = "STARTS_ON"
    ENDS_ON = "ENDS_ON"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input(description="One entry of a contract list's orderBy.")
class ContractOrder:
    field: ContractOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateContractInput:
    customer_id: relay.GlobalID
    title: str
    starts_on: dt.date
    ends_on: dt.date = strawberry.field(description="The last day in force; not before startsOn.")
    value: decimal.Decimal = strawberry.field(
        description="The contract's value, at the currency's precision; not negative."
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; the deployment's main currency (CRM_SALES_CURRENCY)."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who looks after it; you when not given."
    )
    auto_renew: bool = strawberry.field(
        default=False,
        description="true: when endsOn passes, a new term of the same length begins instead "
        "of the contract expiring.",
    )
    notice_days: int = strawberry.field(
        default=30,
        description="The notice period in days (0-365): the renewal reminder goes out at least "
        "this many days before endsOn.",
    )


@strawberry.input(description="Fields not given stay as they are.")
class UpdateContractInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    title: str | None = strawberry.UNSET
    starts_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Only while DRAFT."
    )
    ends_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Only while DRAFT (renewContract extends later)."
    )
    value: decimal.Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Only while DRAFT."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="Only while DRAFT."
    )
    owner_id: relay.GlobalID | None = strawberry.UNSET
    auto_renew: bool | None = strawberry.UNSET
    notice_days: int | None = strawberry.UNSET


@strawberry.input
class ActivateContractInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class TerminateContractInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class RenewContractInput:
    id: relay.GlobalID
    version: int
    ends_on: dt.date = strawberry.field(
        description="The new last day in force: after the current endsOn, and not in the past."
    )
