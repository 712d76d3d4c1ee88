"""GraphQL types of accounts: the LoyaltyAccount and LoyaltyEntry (ledger line) nodes, the
points about to expire, and the payloads of the points mutations."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    Connection,
    CustomerNode,
    Info,
    ModelNode,
    PageArgs,
    UserError,
    UserSummary,
    bad_argument,
    currency_precision,
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

    @strawberry.field(description="The user who made it; null when none did.")
    async def actor(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.actor_id)

    @strawberry.field(description="For a REVERSE: the EARN it took back.")
    async def reverses(self, info: Info) -> LoyaltyEntry | None:
        return await LoyaltyEntry.load(info, self.reverses_id)

    @strawberry.field(description="The account it belongs to.")
    async def account(self, info: Info) -> LoyaltyAccount | None:
        return await LoyaltyAccount.load(info, self.account_id)


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

    @strawberry.field(description="The member; null when it is hidden from you.")
    async def customer(self, info: Info) -> CustomerNode | None:
        return await CustomerNode.load(info, self.customer_id)

    @strawberry.field(description="The tier the member holds.")
    async def tier(self, info: Info) -> LoyaltyTier | None:
        row = await info.context.loader(TierByKeyLoader).load(self.tier_key)
        return LoyaltyTier.from_model(row) if row is not None else None

    @strawberry.field(
        name="earnedLast12Months",
        description="Points earned in the 12 months ending now (what the tier is held on).",
    )
    async def earned_last_12_months(self, info: Info) -> int:
        return await info.context.loader(loaders.EarnedLast12MonthsLoader).load(self.id)

    @strawberry.field(
        description="Points that expire within `days` days (1 to 3660), per day, soonest first."
    )
    async def expiring_soon(self, info: Info, days: int = 30) -> list[ExpiringPoints]:
        if not 1 <= days <= MAX_EXPIRING_DAYS:
            raise bad_argument("days", _("must be between 1 and {max}", max=MAX_EXPIRING_DAYS))
        found = await info.context.loader(loaders.ExpiringLoader).load((self.id, days))
        return [ExpiringPoints(points=item.points, on=item.on, at=item.at) for item in found]

    @strawberry.field(description="The ledger, the latest entry first.")
    async def ledger(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LoyaltyEntry]:
        return await info.context.child_page(
            loaders.EntriesByAccountLoader,
            loaders.EntryCountByAccountLoader,
            self.id,
            PageArgs(first=first, after=after, last=last, before=before),
            LoyaltyEntry.from_model,
        )

    @strawberry.field(description="The member's coupons, the latest issued first.")
    async def coupons(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Coupon]:
        return await info.context.child_page(
            CouponsByAccountLoader,
            CouponCountByAccountLoader,
            self.id,
            PageArgs(first=first, after=after, last=last, before=before),
            Coupon.from_model,
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
