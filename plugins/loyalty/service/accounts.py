"""Accounts: one per customer, opened on request (``enrolCustomer``) or on a first order."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer
from plugins.loyalty import webhooks
from plugins.loyalty.models import Account, Programme, Tier

PROGRAMME_ID = 1


async def programme(session: AsyncSession) -> Programme:
    """The programme's settings (the one row the migration seeds)."""
    found = await session.get(Programme, PROGRAMME_ID)
    if found is None:
        raise LookupError("the loyalty programme row is missing")
    return found


async def entry_tier(session: AsyncSession) -> Tier:
    """The tier a new member starts in: the active tier with the lowest threshold."""
    found = await session.scalar(
        select(Tier).where(Tier.active.is_(True)).order_by(Tier.threshold, Tier.id).limit(1)
    )
    if found is None:
        raise LookupError("the loyalty programme has no active tier")
    return found


async def tier_of(session: AsyncSession, account: Account) -> Tier | None:
    """The tier ``account`` holds."""
    found: Tier | None = await session.scalar(select(Tier).where(Tier.key == account.tier_key))
    return found


async def lock_customer(session: AsyncSession, customer_id: int) -> None:
    """Lock the customer's row: the first lock of every writer of a member's account (the
    customer, then the account: a tier change writes the customer's grade, so a writer that
    locked the account first and the customer later could deadlock with one that did not).
    A request that took the customer's row already (``writable_customer``, the sales
    plugin's order) holds it; taking it again is free."""
    await session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


async def account_of(session: AsyncSession, customer_id: int) -> Account | None:
    """The customer's account, or ``None`` when they are not enrolled."""
    found: Account | None = await session.scalar(
        select(Account).where(Account.customer_id == customer_id)
    )
    return found


async def enrol(
    session: AsyncSession, customer_id: int, *, now: dt.datetime, actor_id: int | None
) -> Account:
    """The customer's account, opened now in the entry tier unless they are enrolled already
    (then the account they have). Two concurrent enrolments open one account: the loser of
    the unique customer id reads the winner's."""
    found = await account_of(session, customer_id)
    if found is not None:
        return found
    tier = await entry_tier(session)
    account = Account(
        customer_id=customer_id,
        tier_key=tier.key,
        tier_since=now,
        balance=0,
        debt=0,
        lifetime_earned=0,
        enrolled_at=now,
        enrolled_by_id=actor_id,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(account)
            await session.flush()
    except IntegrityError:
        found = await account_of(session, customer_id)
        if found is None:
            raise
        return found
    await webhooks.member_enrolled(session, account, now)
    return account
