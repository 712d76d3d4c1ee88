"""GraphQL types of accounts: the LoyaltyAccount and LoyaltyEntry (ledger line) nodes, the
points about to expire, and the payloads of the points mutations."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    Connection,
    CustomerNode,
    ModelNode,
    PageArgs,
    RequestContext,
    UserError,
    UserSummary,
    bad_argument,
    batch_field,
    currency_precision,
    related,
    translator,
)
from plugins.loyalty import models
from plugins.loyalty.loaders import accounts as loaders
from plugins.loyalty.loaders.programme import TierByKeyLoader
from plugins.loyalty.loaders.rewards import CouponCountByAccountLoader, CouponsByAccountLoader
from plugins.loyalty.service.earning import Earned
from plugins.loyalty.types.programme import LoyaltyTier
from plugins.loyalty.types.rewards import Coupon

_ = translator(__name__)

MAX_EXPIRING_DAYS = 3660


def _money(amount: decimal.Decimal | None, currency: str | None) -> decimal.Decimal | None:
    """``amount`` at its currency's precision (2 places for CNY), as every database gives it."""
    if amount is None or currency is None:
        return amount
    step = decimal.Decimal(1).scaleb(-currency_precision(currency))
    return amount.quantize(step) if amount == amount.quantize(step) else amount.normalize()


@strawberry.enum(
    description="What a ledger entry did: EARN and a positive ADJUST add points, REDEEM, "
    "EXPIRE, REVERSE (an earning taken back) and a negative ADJUST take them away."
)
class LoyaltyEntryKind(enum.Enum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    REVERSE = "REVERSE"


@strawberry.type(description="Points that expire on one day (in the deployment's time zone).")
class ExpiringPoints:
    points: int
    on: dt.date
    at: dt.datetime = strawberry.field(description="When the first of them expires.")


@strawberry.type(description="One line of a member's ledger; never changed once written.")
class LoyaltyEntry(ModelNode[models.Entry]):
    by_id_loader = loaders.EntryByIdLoader
    id: relay.NodeID[int]
    kind: LoyaltyEntryKind
    points: int = strawberry.field(
        description="The change to the balance (negative takes away): the balance is the sum "
        "of the ledger."
    )
    debt_points: int = strawberry.field(
        description="The change to the debt: for a REVERSE the part beyond the balance (added "
        "to the debt), for an EARN the part that paid debt off (so it earned points + "
        "debtPoints in full)."
    )
    reason: str
    source: str = strawberry.field(
        description="ORDER, REWARD, COUPON, MANUAL, API, BONUS, SURVEY or EXPIRY."
    )
    source_ref: str | None = strawberry.field(
        description="What it is about: an order's or reward's id, an external reference."
    )
    amount: decimal.Decimal | None = strawberry.field(description="The spend that earned it.")
    currency: str | None
    actor_label: str = strawberry.field(description="Who made it when no user did.")
    created_at: dt.datetime
    account_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    reverses_id: strawberry.Private[int | None]
    actor: UserSummary | None = batch_field(
        related(UserSummary, "actor_id"), description="The user who made it; null when none did."
    )
    reverses: LoyaltyEntry | None = batch_field(
        related(lambda: LoyaltyEntry, "reverses_id"),
        description="For a REVERSE: the EARN it took back.",
    )
    account: LoyaltyAccount | None = batch_field(
        related(lambda: LoyaltyAccount, "account_id"), description="The account it belongs to."
    )

    @classmethod
    def from_model(cls, row: models.Entry) -> Self:
        return cls(
            id=row.id,
            kind=LoyaltyEntryKind(row.kind),
            points=row.points,
            debt_points=row.debt_points,
            reason=row.reason,
            source=row.source,
            source_ref=row.source_ref,
            amount=_money(row.amount, row.currency),
            currency=row.currency,
            actor_label=row.actor_label,
            created_at=row.created_at,
            account_id=row.account_id,
            actor_id=row.actor_id,
            reverses_id=row.reverses_id,
        )


async def _tiers(
    context: RequestContext, accounts: Sequence[LoyaltyAccount]
) -> list[LoyaltyTier | None]:
    rows = await context.loader(TierByKeyLoader).load_level(
        [account.tier_key for account in accounts]
    )
    return [LoyaltyTier.from_model(row) if row is not None else None for row in rows]


async def _earned_last_12_months(
    context: RequestContext, accounts: Sequence[LoyaltyAccount]
) -> list[int]:
    earned: list[int] = await context.loader(loaders.EarnedLast12MonthsLoader).load_level(
        [account.id for account in accounts]
    )
    return earned


async def _expiring_soon(
    context: RequestContext, accounts: Sequence[LoyaltyAccount], days: int = 30
) -> list[list[ExpiringPoints]]:
    if not 1 <= days <= MAX_EXPIRING_DAYS:
        raise bad_argument("days", _("must be between 1 and {max}", max=MAX_EXPIRING_DAYS))
    found = await context.loader(loaders.ExpiringLoader).load_level(
        [(account.id, days) for account in accounts]
    )
    return [
        [ExpiringPoints(points=item.points, on=item.on, at=item.at) for item in items]
        for items in found
    ]


async def _ledgers(
    context: RequestContext,
    accounts: Sequence[LoyaltyAccount],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[LoyaltyEntry]]:
    return await context.child_pages(
        loaders.EntriesByAccountLoader,
        loaders.EntryCountByAccountLoader,
        [account.id for account in accounts],
        PageArgs(first=first, after=after, last=last, before=before),
        LoyaltyEntry.from_model,
    )


async def _coupons(
    context: RequestContext,
    accounts: Sequence[LoyaltyAccount],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Coupon]]:
    return await context.child_pages(
        CouponsByAccountLoader,
        CouponCountByAccountLoader,
        [account.id for account in accounts],
        PageArgs(first=first, after=after, last=last, before=before),
        Coupon.from_model,
    )


@strawberry.type(description="A customer's membership of the loyalty programme.")
class LoyaltyAccount(ModelNode[models.Account]):
    by_id_loader = loaders.AccountByIdLoader
    id: relay.NodeID[int]
    balance: int = strawberry.field(description="Points that can be spent: the ledger's sum.")
    debt: int = strawberry.field(
        description="Points reversed beyond the balance, paid from the next earnings."
    )
    lifetime_earned: int
    tier_since: dt.datetime
    downgrade_due_at: dt.datetime | None = strawberry.field(
        description="When the member falls to a lower tier unless it earns its way back."
    )
    enrolled_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int]
    tier_key: strawberry.Private[str]
    customer: CustomerNode | None = batch_field(
        related(CustomerNode, "customer_id"),
        description="The member; null when it is hidden from you.",
    )
    tier: LoyaltyTier | None = batch_field(_tiers, description="The tier the member holds.")
    earned_last_12_months: int = batch_field(
        _earned_last_12_months,
        name="earnedLast12Months",
        description="Points earned in the 12 months ending now (what the tier is held on).",
    )
    expiring_soon: list[ExpiringPoints] = batch_field(
        _expiring_soon,
        description="Points that expire within `days` days (1 to 3660), per day, soonest first.",
    )
    ledger: Connection[LoyaltyEntry] = batch_field(
        _ledgers, description="The ledger, the latest entry first."
    )
    coupons: Connection[Coupon] = batch_field(
        _coupons, description="The member's coupons, the latest issued first."
    )

    @classmethod
    def from_model(cls, row: models.Account) -> Self:
        return cls(
            id=row.id,
            balance=row.balance,
            debt=row.debt,
            lifetime_earned=row.lifetime_earned,
            tier_since=row.tier_since,
            downgrade_due_at=row.downgrade_due_at,
            enrolled_at=row.enrolled_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            tier_key=row.tier_key,
        )


@strawberry.type
class EnrolCustomerPayload:
    account: LoyaltyAccount | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Account | None, errors: list[UserError]) -> Self:
        return cls(account=LoyaltyAccount.from_model(row) if row else None, errors=errors)


@strawberry.type
class PointsPayload:
    entry: LoyaltyEntry | None = strawberry.field(description="The ledger entry written.")
    account: LoyaltyAccount | None = strawberry.field(description="The account after it.")
    errors: list[UserError]

    @classmethod
    def of(cls, result: Earned | None, errors: list[UserError]) -> Self:
        if result is None:
            return cls(entry=None, account=None, errors=errors)
        return cls(
            entry=LoyaltyEntry.from_model(result.entry),
            account=LoyaltyAccount.from_model(result.account),
            errors=errors,
        )


@strawberry.type
class EarnPointsPayload(PointsPayload):
    replayed: bool = strawberry.field(
        default=False,
        description="True when the idempotency key was seen before: the entry is the first "
        "request's, and nothing was earned again.",
    )

    @classmethod
    def of(cls, result: Earned | None, errors: list[UserError]) -> Self:
        payload = super().of(result, errors)
        payload.replayed = result.replayed if result is not None else False
        return payload


@strawberry.type
class AdjustPointsPayload(PointsPayload):
    pass


NODES: list[type[Any]] = [LoyaltyAccount, LoyaltyEntry]
"""Node types of this module (for ``node(id:)``)."""
