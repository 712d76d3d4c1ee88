"""The lock order of a member's writers: the customer's row first, then the account (then the
coupon or reward the change touches). A tier change writes the customer's grade, and core's
customer changes (update, merge, erase) lock the customer before their hooks reach the
account: a writer that locked the account first and the customer later could deadlock with
them on PostgreSQL. On SQLite the write transaction serialises both."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer
from plugins.loyalty.models import Account
from plugins.loyalty.service import ledger


async def lock_customers(session: AsyncSession, customer_ids: Iterable[int]) -> None:
    """Lock the customers' rows, in id order (two writers naming the same customers in
    different orders cannot deadlock)."""
    for customer_id in sorted(set(customer_ids)):
        await session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()
        )


async def lock_member(session: AsyncSession, account_id: int) -> Account | None:
    """The account, locked after its customer's row; ``None`` when it is gone, or a merge
    moved it to another customer between the two reads (the caller reads it again)."""
    customer_id = await session.scalar(select(Account.customer_id).where(Account.id == account_id))
    if customer_id is None:
        return None
    await lock_customers(session, [customer_id])
    try:
        account = await ledger.lock(session, account_id)
    except LookupError:
        return None
    return account if account.customer_id == customer_id else None
