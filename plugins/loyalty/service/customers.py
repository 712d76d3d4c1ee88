"""The plugin's part in merging and erasing customers.

Merge: when only the source customer is a member, its account moves to the target. When both
are, the source's ledger moves into the target's account: every entry keeps its id, and its
``data`` says from which account (and customer) it came; lots and coupons move with it. The
target's balance, debt and lifetime earned are then folded again from the ledger; a debt one
side owes is paid from the balance the other brings (an ADJUST out and an ADJUST in, through
the ledger), and the tier is recomputed. Both accounts are locked first, in id order.

Erase: the ledger's figures stay (points, kinds, dates, amounts, references that are keys
in other systems); what names a person goes: entries' reasons and actor labels and the
coupons' descriptions become ``ERASED``, and the personal values of the audit events of the
account and of its coupons (descriptions, a cancellation's reason) are scrubbed.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ERASED, RequestContext, actor_of, audit
from plugins.loyalty.models import Account, Coupon, Entry, Lot
from plugins.loyalty.service import ledger, tiers

ACCOUNT_AUDIT_KEEP = frozenset({"tier", "balance", "debt", "lifetimeEarned", "entries"})
COUPON_AUDIT_KEEP = frozenset(
    {
        "codeHint",
        "accountId",
        "rewardId",
        "campaign",
        "status",
        "expiresAt",
        "usedAt",
        "usedReference",
        "pointsReturned",
    }
)
"""What a coupon's audit events keep on erasure: not its description or a cancel's reason."""
MERGE_ACTOR = "merge"


async def erase(session: AsyncSession, customer_id: int) -> None:
    account_id = await session.scalar(select(Account.id).where(Account.customer_id == customer_id))
    if account_id is None:
        return
    await ledger.lock(session, account_id)
    for column in (Entry.reason, Entry.actor_label):
        await session.execute(
            update(Entry)
            .where(Entry.account_id == account_id, column != "")
            .values({column.key: ERASED})
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Coupon)
        .where(Coupon.account_id == account_id, Coupon.description != "")
        .values(description=ERASED, version=Coupon.version + 1)
        .execution_options(synchronize_session=False)
    )
    await audit.scrub(session, "LoyaltyAccount", [account_id], ACCOUNT_AUDIT_KEEP)
    coupon_ids = (
        await session.scalars(select(Coupon.id).where(Coupon.account_id == account_id))
    ).all()
    await audit.scrub(session, "Coupon", coupon_ids, COUPON_AUDIT_KEEP)


async def merge(
    session: AsyncSession, source_id: int, target_id: int, dry_run: bool, context: RequestContext
) -> dict[str, int]:
    source = await session.scalar(select(Account.id).where(Account.customer_id == source_id))
    if source is None:
        return {}
    target = await session.scalar(select(Account.id).where(Account.customer_id == target_id))
    entries = int(
        await session.scalar(select(func.count(Entry.id)).where(Entry.account_id == source)) or 0
    )
    counts = {"loyaltyAccounts": 1, "loyaltyEntries": entries}
    if dry_run:
        return counts
    now = context.now()
    actor = actor_of(context)
    if target is None:
        account = await ledger.lock(session, source)
        account.customer_id = target_id
        account.updated_at = now
        await session.flush()
        audit.record(
            session,
            actor,
            "loyalty.account.merged",
            "LoyaltyAccount",
            account.id,
            {"customerId": {"before": source_id, "after": target_id}},
        )
        await tiers.recompute(session, account, now, context)
        return counts
    first, second = sorted((source, target))
    locked = {first: await ledger.lock(session, first), second: await ledger.lock(session, second)}
    moving, keeping = locked[source], locked[target]
    rows = (
        await session.scalars(select(Entry).where(Entry.account_id == source).order_by(Entry.id))
    ).all()
    for entry in rows:
        entry.account_id = target
        entry.data = {
            **(entry.data or {}),
            "mergedFromAccount": source,
            "mergedFromCustomer": source_id,
        }
    await session.flush()
    await session.execute(
        update(Lot)
        .where(Lot.account_id == source)
        .values(account_id=target)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Coupon)
        .where(Coupon.account_id == source)
        .values(account_id=target, version=Coupon.version + 1)
        .execution_options(synchronize_session=False)
    )
    folded = await ledger.fold(session, target)
    keeping.balance, keeping.debt = folded.balance, folded.debt
    keeping.lifetime_earned = folded.lifetime_earned
    keeping.updated_at = now
    if keeping.expiry_told_for is None or (
        moving.expiry_told_for is not None and moving.expiry_told_for > keeping.expiry_told_for
    ):
        keeping.expiry_told_for = moving.expiry_told_for
    await session.flush()
    await session.delete(moving)
    await session.flush()
    settled = min(keeping.balance, keeping.debt)
    if settled > 0:
        reason = "Merged accounts: debt paid from the balance"
        label = MERGE_ACTOR
        user_id = context.caller.user_id if context.caller is not None else None
        await ledger.spend(
            session,
            keeping,
            settled,
            kind="ADJUST",
            source="MANUAL",
            source_ref=None,
            reason=reason,
            actor_id=user_id,
            actor_label=label,
            now=now,
        )
        await ledger.earn(
            session,
            keeping,
            settled,
            source="MANUAL",
            source_ref=None,
            reason=reason,
            actor_id=user_id,
            actor_label=label,
            now=now,
            expires_at=None,
            kind="ADJUST",
        )
    audit.record(
        session,
        actor,
        "loyalty.account.merged",
        "LoyaltyAccount",
        keeping.id,
        {
            "entries": {"before": None, "after": entries},
            "mergedFrom": {"before": source, "after": None},
        },
    )
    await tiers.recompute(session, keeping, now, context)
    return counts
