"""Coupons: issued by redeeming a reward (:mod:`.rewards`) or directly for a campaign, used
once, cancelled.

A coupon's code is shown once, in the payload of the mutation that issued it: only its
SHA-256 and its last four characters are stored. Codes are 16 characters from an alphabet of
32 (80 random bits from :mod:`secrets`), printed in groups of four; case, spaces and dashes
do not matter when one is typed back.

Using and cancelling are conditional UPDATEs (``ISSUED`` -> ``USED``/``CANCELLED`` where not
expired), so of two concurrent attempts on one coupon exactly one succeeds, on PostgreSQL
(the second waits for the row and then finds it no longer ISSUED) as on SQLite. Cancelling a
reward's coupon locks its account first (the lock order every writer keeps), gives the
points back through the ledger (with the expiry dates of the lots they were taken from, so a
cancellation never lengthens a point's life) and the stock back to the reward. Every change
is audited
(``loyalty.coupon.<verb>``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    Customer,
    RequestContext,
    Scope,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    global_id,
    not_found,
    require,
    translator,
)
from plugins.loyalty import declarations
from plugins.loyalty.models import Account, Coupon, Entry, Lot, LotSpend, Reward
from plugins.loyalty.service import ledger, locks
from plugins.loyalty.service import programme as programmes

_ = translator(__name__)

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 characters, none that reads like another (no I, O, 0, 1)."""
CODE_LENGTH = 16
MAX_CAMPAIGN_COUPONS = 500
MAX_VALID_DAYS = 3650
ISSUED, USED, CANCELLED, EXPIRED = "ISSUED", "USED", "CANCELLED", "EXPIRED"


def new_code() -> str:
    """A fresh code as printed: ``ABCD-EFGH-JKLM-NPQR``."""
    raw = "".join(secrets.choice(ALPHABET) for _index in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise(code: str | None) -> str:
    """A code as typed, reduced to what is hashed: upper case, no spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t\r\n")


def digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def hint(code: str) -> str:
    return normalise(code)[-4:]


def status_at(row: Coupon, now: dt.datetime) -> str:
    """ISSUED, USED or CANCELLED as stored, or EXPIRED for an ISSUED coupon past its end."""
    if row.status == ISSUED and row.expires_at <= now:
        return EXPIRED
    return row.status


def shown(moment: dt.datetime, context: RequestContext) -> str:
    """A moment as messages show it, in the caller's zone."""
    zone = context.zone
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def visible(context: RequestContext, permission: str = declarations.READ) -> ColumnElement[bool]:
    """The coupons the caller reaches with ``permission``: those of the accounts it reaches,
    and (for nobody's campaign coupons) any with ``permission`` at scope ALL, or at any
    scope to use or cancel one (``loyalty:write``/``loyalty:manage``)."""
    caller = context.caller
    scope = caller.scope(permission) if caller is not None else None
    if scope is None:
        return false()
    if scope is Scope.ALL:
        return true()
    accounts_seen = select(Account.id).where(declarations.visible(context, permission))
    unassigned = true() if permission != declarations.READ else false()
    return or_(Coupon.account_id.in_(accounts_seen), and_(Coupon.account_id.is_(None), unassigned))


def snapshot(row: Coupon) -> dict[str, Any]:
    """A coupon's audited values (never its code)."""
    return {
        "codeHint": row.code_hint,
        "accountId": global_id("LoyaltyAccount", row.account_id),
        "rewardId": global_id("Reward", row.reward_id),
        "campaign": row.campaign,
        "description": row.description,
        "status": row.status,
        "expiresAt": row.expires_at,
        "usedAt": row.used_at,
        "usedReference": row.used_reference,
    }


@dataclasses.dataclass
class Issued:
    """A coupon just issued and its code (shown this once)."""

    coupon: Coupon
    code: str


async def member_account(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    field: str,
    permission: str,
) -> Account:
    """The account of a customer the caller reaches with ``permission``
    (:func:`member_account_id`), locked after the customer's row (:mod:`.locks`)."""
    account_id = await member_account_id(session, context, customer_id, field, permission)
    account = await locks.lock_member(session, account_id)
    if account is None:  # merged or erased since it was read
        raise UserErrors.single(
            field, _("the member's account changed meanwhile: try again"), UserErrorCode.CONFLICT
        )
    return account


async def member_account_id(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    field: str,
    permission: str,
) -> int:
    """The id of the account of a customer the caller reaches with ``permission``.

    A customer out of reach is NOT_FOUND (``input.<field>``); one in reach but not enrolled
    is a UserError naming ``field``."""
    account_id = None
    if customer_id is not None:
        account_id = await session.scalar(
            select(Account.id)
            .join(Customer, Customer.id == Account.customer_id)
            .where(
                Account.customer_id == customer_id,
                Customer.erased_at.is_(None),
                declarations.visible(context, permission),
            )
        )
    if account_id is None:
        seen = None
        if customer_id is not None:
            seen = await session.scalar(
                select(Customer.id).where(
                    Customer.id == customer_id,
                    Customer.erased_at.is_(None),
                    context.visible(permission, "customers"),
                )
            )
        if seen is None:
            raise not_found(f"input.{field}", _("no customer with this id that you may reach"))
        raise UserErrors.single(
            field,
            _("the customer is not enrolled in the loyalty programme"),
            UserErrorCode.BUSINESS_RULE,
        )
    return account_id


def make_coupon(
    session: AsyncSession,
    context: RequestContext,
    *,
    account_id: int | None,
    reward_id: int | None,
    entry_id: int | None,
    campaign: str | None,
    description: str,
    valid_days: int,
) -> Issued:
    """Add a new ISSUED coupon with a fresh code (flushed by the caller)."""
    now = context.now()
    code = new_code()
    caller = context.caller
    row = Coupon(
        code_hash=digest(code),
        code_hint=hint(code),
        account_id=account_id,
        reward_id=reward_id,
        entry_id=entry_id,
        campaign=campaign,
        description=description,
        status=ISSUED,
        issued_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
        issued_by_id=caller.user_id if caller is not None else None,
    )
    session.add(row)
    return Issued(row, code)


def record(
    context: RequestContext,
    session: AsyncSession,
    verb: str,
    row: Coupon,
    before: dict[str, Any] | None,
    **extra: Any,
) -> None:
    after = snapshot(row)
    changes = audit.created(after) if before is None else audit.diff(before, after)
    changes.update(extra)
    audit.record(session, actor_of(context), f"loyalty.coupon.{verb}", "Coupon", row.id, changes)


async def issue_coupons(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    customer_ids: list[int] | None,
    count: int | None,
    campaign: str,
    description: str,
    valid_days: int,
) -> list[Issued]:
    """Campaign coupons (``loyalty:manage``): one for each customer named (each enrolled and
    in reach), or ``count`` for nobody in particular."""
    require(context, declarations.MANAGE)
    cleaned_campaign = check.text("campaign", campaign, max_length=100)
    cleaned_description = check.text("description", description, max_length=2000, required=False)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        check.fail(
            "validDays",
            _("must be from 1 to {max} days", max=MAX_VALID_DAYS),
            UserErrorCode.OUT_OF_RANGE,
        )
    if customer_ids is not None and count is not None:
        check.fail("count", _("give customerIds or count, not both"), UserErrorCode.INVALID)
    elif customer_ids is None and count is None:
        check.fail("customerIds", _("give customerIds or count"), UserErrorCode.REQUIRED)
    elif customer_ids is not None:
        if not customer_ids and not any(
            (error.field or "").startswith("customerIds") for error in check.errors
        ):
            check.fail("customerIds", _("name at least one customer"), UserErrorCode.REQUIRED)
        elif len(customer_ids) > MAX_CAMPAIGN_COUPONS:
            check.fail(
                "customerIds",
                _("at most {max} customers at once", max=MAX_CAMPAIGN_COUPONS),
                UserErrorCode.OUT_OF_RANGE,
            )
    elif count is not None and not 1 <= count <= MAX_CAMPAIGN_COUPONS:
        check.fail(
            "count",
            _("must be from 1 to {max}", max=MAX_CAMPAIGN_COUPONS),
            UserErrorCode.OUT_OF_RANGE,
        )
    check.done()
    assert cleaned_campaign is not None
    targets: list[int | None] = []
    if customer_ids is not None:
        for index, customer_id in enumerate(customer_ids):
            try:
                account_id = await member_account_id(
                    session, context, customer_id, f"customerIds.{index}", declarations.MANAGE
                )
            except UserErrors as exc:
                check.errors.extend(exc.errors)
                continue
            targets.append(account_id)
        check.done()
        # Customers, then accounts, each in ascending order, so two campaigns naming the same
        # members in different orders cannot deadlock.
        members = sorted({target for target in targets if target is not None})
        holders = await session.execute(
            select(Account.id, Account.customer_id).where(Account.id.in_(members))
        )
        await locks.lock_customers(session, [customer for _id, customer in holders.all()])
        for account_id in members:
            await ledger.lock(session, account_id)
    else:
        targets = [None] * (count or 0)
    issued = [
        make_coupon(
            session,
            context,
            account_id=account_id,
            reward_id=None,
            entry_id=None,
            campaign=cleaned_campaign,
            description=cleaned_description or "",
            valid_days=valid_days,
        )
        for account_id in targets
    ]
    await session.flush()
    for item in issued:
        record(context, session, "issued", item.coupon, None)
    return issued


async def _conditional(
    session: AsyncSession, row: Coupon, now: dt.datetime, values: dict[str, Any]
) -> bool:
    """Move ``row`` from ISSUED (not expired) to ``values``; whether this call did. The row
    is read again afterwards (another transaction's change included)."""
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(Coupon)
            .where(Coupon.id == row.id, Coupon.status == ISSUED, Coupon.expires_at > now)
            .values(**values, version=Coupon.version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    await session.refresh(row)
    return result.rowcount == 1


def _refusal(row: Coupon, field: str, now: dt.datetime, context: RequestContext) -> UserErrors:
    """Why ``row`` could not leave ISSUED."""
    if row.status == USED and row.used_at is not None:
        message = _(
            "coupon …{hint} was already used on {when}",
            hint=row.code_hint,
            when=shown(row.used_at, context),
        )
    elif row.status == CANCELLED:
        message = _("coupon …{hint} was cancelled", hint=row.code_hint)
    elif status_at(row, now) == EXPIRED:
        message = _(
            "coupon …{hint} expired on {when}",
            hint=row.code_hint,
            when=shown(row.expires_at, context),
        )
    else:  # pragma: no cover - the conditional update only fails for the reasons above
        message = _("coupon …{hint} cannot be changed now", hint=row.code_hint)
    return UserErrors.single(field, message, UserErrorCode.INVALID_TRANSITION)


async def redeem_coupon(
    session: AsyncSession, context: RequestContext, code: str, reference: str | None
) -> Coupon:
    """Use a coupon once (``loyalty:write``): exactly one of concurrent uses succeeds."""
    caller = require(context, declarations.WRITE)
    check = Check()
    cleaned = normalise(code)
    if not cleaned:
        check.fail("code", _("is required"), UserErrorCode.REQUIRED)
    elif len(cleaned) > 64:
        check.fail("code", _("must be at most {max} characters", max=64), UserErrorCode.TOO_LONG)
    cleaned_reference = check.text("reference", reference, max_length=100, required=False)
    check.done()
    row = await session.scalar(
        select(Coupon).where(
            Coupon.code_hash == digest(cleaned), visible(context, declarations.WRITE)
        )
    )
    if row is None:
        raise UserErrors.single("code", _("no coupon has this code"), UserErrorCode.INVALID)
    now = context.now()
    before = snapshot(row)
    used = await _conditional(
        session,
        row,
        now,
        {
            "status": USED,
            "used_at": now,
            "used_by_id": caller.user_id,
            "used_reference": cleaned_reference,
        },
    )
    if not used:
        raise _refusal(row, "code", now, context)
    record(context, session, "used", row, before)
    return row


async def _given_back(
    session: AsyncSession, entry_id: int, points: int, now: dt.datetime
) -> list[tuple[int, dt.datetime | None]]:
    """The points a redemption (``entry_id``) took, by the expiry of the lots it took them
    from: given back, they keep their dates (a cancellation never lengthens a point's life).
    What no lot spend accounts for expires as newly earned points do."""
    rows = (
        await session.execute(
            select(Lot.expires_at, func.sum(LotSpend.points))
            .join(Lot, Lot.id == LotSpend.lot_id)
            .where(LotSpend.entry_id == entry_id)
            .group_by(Lot.expires_at)
        )
    ).all()
    parts = [(int(total or 0), expires_at) for expires_at, total in rows if total]
    rest = points - sum(part for part, _expires in parts)
    if rest > 0:
        parts.append((rest, programmes.expiry_of(await programmes.load(session), now)))
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(parts, key=lambda part: part[1] or never)


async def _lock_holder(session: AsyncSession, row: Coupon) -> Account | None:
    """The account ``row`` belongs to, locked, and ``row`` read again under that lock: a merge
    that committed after ``row`` was read may have moved it to another account (and deleted
    the one it was read with)."""
    for _attempt in range(3):
        account_id = row.account_id
        if account_id is None:
            return None
        account = await locks.lock_member(session, account_id)
        await session.refresh(row)
        if account is not None and row.account_id == account_id:
            return account
    raise UserErrors.single(
        "id", _("the coupon moved to another account: try again"), UserErrorCode.CONFLICT
    )


async def cancel_coupon(
    session: AsyncSession, context: RequestContext, coupon_id: int | None, reason: str | None
) -> Coupon:
    """Cancel an unused, unexpired coupon (``loyalty:manage``). A reward's coupon gives its
    points back to the account (EARN entries, source COUPON, expiring when the points they
    return would have) and one back to the reward's stock."""
    caller = require(context, declarations.MANAGE)
    check = Check()
    cleaned_reason = check.text("reason", reason, max_length=500, required=False)
    check.done()
    row = None
    if coupon_id is not None:
        row = await session.scalar(
            select(Coupon).where(Coupon.id == coupon_id, visible(context, declarations.MANAGE))
        )
    if row is None:
        raise not_found("input.id", _("no coupon with this id that you may change"))
    account = await _lock_holder(session, row)
    now = context.now()
    before = snapshot(row)
    if not await _conditional(session, row, now, {"status": CANCELLED}):
        raise _refusal(row, "id", now, context)
    returned = 0
    if account is not None and row.entry_id is not None:
        spent = await session.get(Entry, row.entry_id)
        returned = -spent.points if spent is not None else 0
        if returned > 0:
            for points, expires_at in await _given_back(session, row.entry_id, returned, now):
                await ledger.earn(
                    session,
                    account,
                    points,
                    source="COUPON",
                    source_ref=str(row.id),
                    reason=cleaned_reason or _("coupon …{hint} cancelled", hint=row.code_hint),
                    actor_id=caller.user_id,
                    actor_label=caller.email or "",
                    now=now,
                    expires_at=expires_at,
                )
            # what comes back past its date expires now, as it would have unspent
            await ledger.expire_due(session, account, now)
    if row.reward_id is not None and row.entry_id is not None:
        await session.execute(
            update(Reward)
            .where(Reward.id == row.reward_id, Reward.stock.is_not(None))
            .values(stock=Reward.stock + 1, version=Reward.version + 1)
            .execution_options(synchronize_session=False)
        )
    record(
        context, session, "cancelled", row, before, pointsReturned=returned, reason=cleaned_reason
    )
    return row
