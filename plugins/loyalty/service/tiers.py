"""Tiers over a rolling 12 months: recomputed on each earn and by the daily job.

A member's tier is the highest active tier whose threshold the points earned in the last 12
months reach (EARN entries in full, the part that paid a debt off included, and bonuses;
coupon refunds and earnings that were reversed do not count). A rise applies at once. A fall
starts the grace period (``downgrade_due_at = now + downgrade_grace_days``); the lower tier
applies when it ends (on the next earn or by the ``loyalty.tiers`` job), unless the member
earned their way back first, which cancels the pending downgrade.

A change is announced: the hook ``crm_loyalty_tier_changed``, the webhook event
``loyalty.tier_changed``, a notification to the customer's owner, and, when the programme
says so, the core customer's grade (audited). ``context`` is the request's, or the periodic
job's (:class:`JobContext`: listeners then get ``context=None``); with no context at all
there is no plugin manager to call, so only the webhook, the audit and the grade follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.plugin_api import (
    Customer,
    JobContext,
    NotificationKind,
    RequestContext,
    actor_of,
    audit,
    call_in_turn,
    emit_event,
    global_id,
    notify,
    translator,
)
from plugins.loyalty.models import Account, Entry, Tier
from plugins.loyalty.service import programme as programmes

_ = translator(__name__)

TIER_CHANGED = "loyalty.tier_changed"
GRADES = ("STANDARD", "SILVER", "GOLD")
"""Core's customer grades: a tier with one of these keys sets the grade."""

KINDS: dict[str, NotificationKind] = {
    TIER_CHANGED: NotificationKind(_("A customer's loyalty tier changed")),
}


def qualifying(since: dt.datetime, now: dt.datetime) -> Sequence[object]:
    """Conditions on :class:`Entry` rows that count towards a tier between ``since`` and
    ``now``: EARN entries (not coupon refunds) that no REVERSE took back."""
    reversal = aliased(Entry)
    return (
        Entry.kind == "EARN",
        Entry.source != "COUPON",
        Entry.created_at > since,
        Entry.created_at <= now,
        ~exists().where(and_(reversal.kind == "REVERSE", reversal.reverses_id == Entry.id)),
    )


async def earned_in_year(
    session: AsyncSession, account_ids: Sequence[int], now: dt.datetime
) -> dict[int, int]:
    """Points each account earned in the 12 months up to ``now`` (0 when none)."""
    if not account_ids:
        return {}
    since = programmes.rolling_year_start(now)
    rows = await session.execute(
        select(Entry.account_id, func.sum(Entry.points + Entry.debt_points))
        .where(Entry.account_id.in_(account_ids), *qualifying(since, now))  # type: ignore[arg-type]
        .group_by(Entry.account_id)
    )
    found = {account_id: int(total or 0) for account_id, total in rows.all()}
    return {account_id: found.get(account_id, 0) for account_id in account_ids}


def reached(ladder: Sequence[Tier], earned: int) -> Tier:
    """The highest tier of ``ladder`` (lowest threshold first) that ``earned`` reaches."""
    best = ladder[0]
    for tier in ladder:
        if tier.threshold <= earned:
            best = tier
    return best


def _rank(ladder: Sequence[Tier], key: str) -> int:
    """Where ``key`` stands in ``ladder``; a tier no longer active ranks by nothing (-1)."""
    for index, tier in enumerate(ladder):
        if tier.key == key:
            return index
    return -1


async def recompute(
    session: AsyncSession,
    account: Account,
    now: dt.datetime,
    context: RequestContext | JobContext | None,
) -> None:
    """Bring ``account`` (locked by the caller) to the tier its last 12 months earn: up at
    once, down when the grace period that a fall starts has ended."""
    ladder = await programmes.tiers(session)
    if not ladder:
        return
    earned = (await earned_in_year(session, [account.id], now))[account.id]
    target = reached(ladder, earned)
    current = _rank(ladder, account.tier_key)
    wanted = _rank(ladder, target.key)
    due = account.downgrade_due_at
    if wanted > current:
        account.downgrade_due_at = None
        await change(session, account, target.key, now, context)
        return
    if wanted == current:
        if due is not None:  # earned back: the pending downgrade is off
            account.downgrade_due_at = None
            account.updated_at = now
            await session.flush()
        return
    if due is None:
        programme = await programmes.load(session)
        due = now + dt.timedelta(days=programme.downgrade_grace_days)
        account.downgrade_due_at = due
        account.updated_at = now
    if due <= now:
        account.downgrade_due_at = None
        await change(session, account, target.key, now, context)
        return
    await session.flush()


async def change(
    session: AsyncSession,
    account: Account,
    to_tier: str,
    now: dt.datetime,
    context: RequestContext | JobContext | None,
) -> None:
    """Move ``account`` to ``to_tier`` and announce it."""
    from_tier = account.tier_key
    account.tier_key = to_tier
    account.tier_since = now
    account.updated_at = now
    await session.flush()
    if isinstance(context, RequestContext):
        actor = actor_of(context)
    else:
        actor = audit.Actor(label="crm jobs", at=now)
    audit.record(
        session,
        actor,
        "loyalty.account.tier_changed",
        "LoyaltyAccount",
        account.id,
        {"tier": {"before": from_tier, "after": to_tier}},
    )
    customer = await session.get(Customer, account.customer_id)
    programme = await programmes.load(session)
    sets_grade = programme.tier_sets_grade and to_tier in GRADES
    if customer is not None and sets_grade and customer.grade != to_tier:
        before = customer.grade
        customer.grade = to_tier
        customer.updated_at = now
        await session.flush()
        audit.record(
            session,
            actor,
            "customer.updated",
            "Customer",
            customer.id,
            {"grade": {"before": before, "after": to_tier}},
        )
    if context is not None:
        await call_in_turn(
            context.pm.hook.crm_loyalty_tier_changed,
            session=session,
            account=account,
            from_tier=from_tier,
            to_tier=to_tier,
            context=context if isinstance(context, RequestContext) else None,
        )
    await emit_event(
        session,
        TIER_CHANGED,
        {
            "account": global_id("LoyaltyAccount", account.id),
            "customer": global_id("Customer", account.customer_id),
            "fromTier": from_tier,
            "toTier": to_tier,
            "changedAt": now.isoformat(),
        },
        now=now,
    )
    if context is not None and customer is not None and customer.owner_id is not None:
        names = {tier.key: tier.name for tier in await programmes.tiers(session, active_only=False)}
        await notify(
            session,
            context,
            user_ids=[customer.owner_id],
            kind=TIER_CHANGED,
            title=_(
                "{customer} is now {tier} (was {before})",
                customer=customer.name,
                tier=names.get(to_tier, to_tier),
                before=names.get(from_tier, from_tier),
            ),
            subject=("Customer", customer.id),
            now=now,
            dedupe_key=f"{TIER_CHANGED}:{account.id}:{to_tier}:{now.isoformat()}",
        )
