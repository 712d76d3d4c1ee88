"""Earning and adjusting points: the rate rule, ``earnPoints`` for shops and point of sale
systems (idempotent by key), ``adjustPoints`` by hand with a reason, ``enrolCustomer``."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    check_currency,
    global_id,
    require,
    translator,
    writable_customer,
)
from plugins.loyalty import declarations, webhooks
from plugins.loyalty.models import Account, Entry, Programme
from plugins.loyalty.service import accounts, ledger, tiers

_ = translator(__name__)

ROUNDING = {
    "DOWN": decimal.ROUND_DOWN,
    "HALF_UP": decimal.ROUND_HALF_UP,
    "UP": decimal.ROUND_UP,
}
MAX_AMOUNT = decimal.Decimal("100000000000000")
"""Amounts stay below 10^14 (the column holds 14 digits before the point)."""
AMOUNT_PLACES = 4
MAX_REFERENCE = 100
MAX_KEY = 160
"""Longest idempotency key a client may send (stored with its scope in 200 characters)."""
MAX_REASON = 2000


def points_for(
    amount: decimal.Decimal,
    currency: str,
    programme: Programme,
    multiplier: decimal.Decimal,
) -> int:
    """The points ``amount`` of ``currency`` earns: the programme's rate for the currency
    times the tier's ``multiplier``, rounded as the programme says (0 for a currency without
    a rate)."""
    rate = (programme.earn_rates or {}).get(currency.upper())
    if rate is None:
        return 0
    exact = amount * decimal.Decimal(rate) * multiplier
    rounding = ROUNDING.get(programme.rounding, decimal.ROUND_DOWN)
    return int(exact.to_integral_value(rounding=rounding))


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` ``months`` calendar months later (the 31st becomes the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(programme: Programme, earned_at: dt.datetime) -> dt.datetime | None:
    """When points earned at ``earned_at`` expire under the programme (``None``: never)."""
    if programme.expiry_months is None:
        return None
    return add_months(earned_at, programme.expiry_months)


async def multiplier_of(session: AsyncSession, account: Account) -> decimal.Decimal:
    tier = await accounts.tier_of(session, account)
    return tier.multiplier if tier is not None else decimal.Decimal(1)


@dataclasses.dataclass(frozen=True)
class Earned:
    """An earning written (or, for a repeated idempotency key, found): its entry and
    account, and whether it was found rather than written."""

    entry: Entry
    account: Account
    replayed: bool = False


async def earn_for(
    session: AsyncSession,
    account: Account,
    points: int,
    *,
    source: str,
    source_ref: str | None,
    reason: str,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
    context: RequestContext | None,
    amount: decimal.Decimal | None = None,
    currency: str | None = None,
    idempotency_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> Entry:
    """Earn ``points`` on the locked ``account`` expiring as the programme says, recompute
    its tier and announce it (``loyalty.points_earned``)."""
    programme = await accounts.programme(session)
    entry = await ledger.earn(
        session,
        account,
        points,
        source=source,
        source_ref=source_ref,
        reason=reason,
        actor_id=actor_id,
        actor_label=actor_label,
        now=now,
        expires_at=expiry_for(programme, now),
        amount=amount,
        currency=currency,
        idempotency_key=idempotency_key,
        data=data,
    )
    await tiers.recompute(session, account, now, context)
    await webhooks.entry_written(session, "loyalty.points_earned", account, entry, now)
    return entry


# --- earnPoints ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EarnValues:
    """``earnPoints``' input, as given."""

    customer_id: int | None
    amount: decimal.Decimal | None
    currency: str | None
    points: int | None
    reference: str | None
    idempotency_key: str | None


def _check_earn(check: Check, values: EarnValues) -> tuple[str | None, str | None, str | None]:
    """The cleaned currency, reference and key (after recording what is wrong)."""
    if values.customer_id is None:
        check.fail("customerId", _("is required"), UserErrorCode.REQUIRED)
    currency = None
    if values.points is not None:
        if values.amount is not None or values.currency is not None:
            check.fail(
                "points",
                _("give either points or an amount and currency, not both"),
                UserErrorCode.INVALID,
            )
        elif values.points < 1:
            check.fail("points", _("must be more than 0"), UserErrorCode.OUT_OF_RANGE)
        elif values.points > ledger.MAX_POINTS:
            check.fail(
                "points",
                _("must be at most {max}", max=ledger.MAX_POINTS),
                UserErrorCode.OUT_OF_RANGE,
            )
    else:
        amount = values.amount
        if amount is None:
            check.fail("amount", _("is required (or give points instead)"), UserErrorCode.REQUIRED)
        elif not amount.is_finite():
            check.fail("amount", _("must be a number"), UserErrorCode.INVALID)
        elif amount <= 0:
            check.fail("amount", _("must be more than 0"), UserErrorCode.OUT_OF_RANGE)
        elif amount >= MAX_AMOUNT:
            check.fail("amount", _("must be less than 10^14"), UserErrorCode.OUT_OF_RANGE)
        elif amount != amount.quantize(decimal.Decimal(1).scaleb(-AMOUNT_PLACES)):
            check.fail(
                "amount",
                _("has more than {places} decimal places", places=AMOUNT_PLACES),
                UserErrorCode.INVALID,
            )
        code = (values.currency or "").strip().upper()
        if not code and amount is None:
            pass  # the amount's error says it
        elif not code:
            check.fail("currency", _("is required with an amount"), UserErrorCode.REQUIRED)
        else:
            currency = check_currency(check, "currency", code)
    reference = check.text("reference", values.reference, max_length=MAX_REFERENCE, required=False)
    key = check.text("idempotencyKey", values.idempotency_key, max_length=MAX_KEY, required=False)
    return currency, reference, key


def _request_of(values: EarnValues, currency: str | None, reference: str | None) -> dict[str, Any]:
    """What identifies an earnPoints request (a repeated key must repeat it)."""
    return {
        "customer": values.customer_id,
        "amount": str(values.amount.normalize()) if values.amount is not None else None,
        "currency": currency,
        "points": values.points,
        "reference": reference,
    }


def scoped_key(context: RequestContext, key: str) -> str:
    """``key`` as stored: scoped to the calling user (an API token's user), so two clients
    that happen to choose the same key never replay or refuse each other's requests."""
    caller = context.caller
    return f"user:{caller.user_id if caller is not None else '-'}:{key}"


async def replay(session: AsyncSession, key: str, request: dict[str, Any]) -> Earned | None:
    """The first result of an earnPoints request sent before under ``key``: ``None`` when
    the key is new; refused (naming ``idempotencyKey``) when it was used for another one."""
    entry = await session.scalar(select(Entry).where(Entry.idempotency_key == key))
    if entry is None:
        return None
    if (entry.data or {}).get("request") != request:
        raise UserErrors.single(
            "idempotencyKey",
            _("was already used for a different request"),
            UserErrorCode.CONFLICT,
        )
    account = await session.get(Account, entry.account_id)
    assert account is not None
    return Earned(entry=entry, account=account, replayed=True)


async def _account_to_earn(
    session: AsyncSession, context: RequestContext, customer_id: int, now: dt.datetime
) -> Account:
    """The customer's account (opened when the programme enrols automatically), locked."""
    account = await accounts.account_of(session, customer_id)
    if account is None:
        programme = await accounts.programme(session)
        if not programme.auto_enrol:
            raise UserErrors.single(
                "customerId",
                _("is not enrolled in the loyalty programme; enrol the customer first"),
                UserErrorCode.BUSINESS_RULE,
            )
        caller = context.caller
        account = await accounts.enrol(
            session, customer_id, now=now, actor_id=caller.user_id if caller else None
        )
    return await ledger.lock(session, account.id)


async def earn_points(session: AsyncSession, context: RequestContext, values: EarnValues) -> Earned:
    """``earnPoints``: points for a purchase (``amount`` in ``currency`` at the programme's
    rate and the member's tier) or given as ``points``. The same ``idempotencyKey`` earns
    once: a repeat answers the first result."""
    require(context, declarations.WRITE)
    check = Check()
    currency, reference, key = _check_earn(check, values)
    check.done()
    if key is not None:
        key = scoped_key(context, key)
    request = _request_of(values, currency, reference)
    customer = await writable_customer(
        session, context, values.customer_id, "customerId", declarations.WRITE
    )
    if key is not None:  # read after the customer's lock: a concurrent twin has committed
        found = await replay(session, key, request)
        if found is not None:
            return found
    now = context.now()
    account = await _account_to_earn(session, context, customer.id, now)
    points = values.points
    if points is None:
        assert values.amount is not None
        assert currency is not None
        programme = await accounts.programme(session)
        if (programme.earn_rates or {}).get(currency) is None:
            raise UserErrors.single(
                "currency",
                _("earns no points: the programme has no rate for {currency}", currency=currency),
                UserErrorCode.BUSINESS_RULE,
            )
        points = points_for(
            values.amount, currency, programme, await multiplier_of(session, account)
        )
        if points < 1:
            raise UserErrors.single(
                "amount", _("is too small to earn a point"), UserErrorCode.BUSINESS_RULE
            )
        if points > ledger.MAX_POINTS:
            raise UserErrors.single(
                "amount",
                _(
                    "would earn {points} points, more than the {max} one earning may give",
                    points=points,
                    max=ledger.MAX_POINTS,
                ),
                UserErrorCode.OUT_OF_RANGE,
            )
    actor = actor_of(context)
    entry = await earn_for(
        session,
        account,
        points,
        source="API",
        source_ref=reference,
        reason="",
        actor_id=actor.user_id,
        actor_label=actor.label or "",
        now=now,
        context=context,
        amount=values.amount if values.points is None else None,
        currency=currency,
        idempotency_key=key,
        data={"request": request},
    )
    return Earned(entry=entry, account=account)


# --- adjustPoints --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AdjustValues:
    customer_id: int | None
    points: int | None
    reason: str | None


async def adjust_points(
    session: AsyncSession, context: RequestContext, values: AdjustValues
) -> Earned:
    """``adjustPoints``: add (``points`` > 0) or take away (< 0) points by hand, with a
    reason. Taking more than the balance is refused naming ``points``."""
    require(context, declarations.ADJUST)
    check = Check()
    if values.customer_id is None:
        check.fail("customerId", _("is required"), UserErrorCode.REQUIRED)
    if values.points is None:
        check.fail("points", _("is required"), UserErrorCode.REQUIRED)
    elif values.points == 0:
        check.fail("points", _("must not be 0"), UserErrorCode.OUT_OF_RANGE)
    elif abs(values.points) > ledger.MAX_POINTS:
        check.fail(
            "points",
            _("must be between -{max} and {max}", max=ledger.MAX_POINTS),
            UserErrorCode.OUT_OF_RANGE,
        )
    reason = check.text("reason", values.reason, max_length=MAX_REASON)
    check.done()
    assert values.points is not None
    assert reason is not None
    customer = await writable_customer(
        session, context, values.customer_id, "customerId", declarations.ADJUST
    )
    found = await accounts.account_of(session, customer.id)
    if found is None:
        raise UserErrors.single(
            "customerId",
            _("is not enrolled in the loyalty programme"),
            UserErrorCode.BUSINESS_RULE,
        )
    account = await ledger.lock(session, found.id)
    now = context.now()
    actor = actor_of(context)
    common: dict[str, Any] = {
        "source": "MANUAL",
        "source_ref": None,
        "reason": reason,
        "actor_id": actor.user_id,
        "actor_label": actor.label or "",
        "now": now,
    }
    if values.points > 0:
        programme = await accounts.programme(session)
        entry = await ledger.earn(
            session,
            account,
            values.points,
            expires_at=expiry_for(programme, now),
            kind=ledger.ADJUST,
            **common,
        )
    else:
        entry = await ledger.spend(session, account, -values.points, kind=ledger.ADJUST, **common)
    audit.record(
        session,
        actor,
        "loyalty.account.adjusted",
        "LoyaltyAccount",
        account.id,
        {
            "points": values.points,
            "reason": reason,
            "entryId": global_id("LoyaltyEntry", entry.id),
        },
    )
    await webhooks.entry_written(session, "loyalty.points_adjusted", account, entry, now)
    return Earned(entry=entry, account=account)


# --- enrolCustomer -------------------------------------------------------------------------


async def enrol_customer(
    session: AsyncSession, context: RequestContext, customer_id: int | None
) -> Account:
    """``enrolCustomer``: the customer's account, opened now unless they have one."""
    require(context, declarations.WRITE)
    customer = await writable_customer(
        session, context, customer_id, "customerId", declarations.WRITE
    )
    caller = context.caller
    before = await accounts.account_of(session, customer.id)
    account = await accounts.enrol(
        session, customer.id, now=context.now(), actor_id=caller.user_id if caller else None
    )
    if before is None:
        audit.record(
            session,
            actor_of(context),
            "loyalty.account.enrolled",
            "LoyaltyAccount",
            account.id,
            audit.created(
                {
                    "customerId": global_id("Customer", customer.id),
                    "tier": account.tier_key,
                }
            ),
        )
    return account
