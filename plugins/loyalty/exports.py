"""The ledger as a CSV or XLSX download (``GET /export/loyalty-ledger.csv``, ``.xlsx``): every
entry of the accounts the caller may read that the ``loyaltyAccounts`` list's ``filter``
keeps (``LoyaltyAccountFilter``: tier, customerId, minBalance), oldest first, date-times in
the caller's time zone, the spend that earned points as a plain decimal beside its
currency."""

from __future__ import annotations

import decimal
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import ListExport, RequestContext, SortKey, User, export_route, require
from plugins.loyalty import declarations
from plugins.loyalty.inputs.accounts import LoyaltyAccountFilter
from plugins.loyalty.models import Account, Entry
from plugins.loyalty.queries.accounts import account_statement

BATCH = 1000
COLUMNS = [
    "entry",
    "customer_number",
    "customer_name",
    "created_at",
    "kind",
    "points",
    "debt_points",
    "source",
    "source_ref",
    "reason",
    "actor",
    "amount",
    "currency",
    "reverses_entry",
]
KEYS = (SortKey(Entry.created_at), SortKey(Entry.id))


async def _statement(
    context: RequestContext, filter: LoyaltyAccountFilter | None, order: list[Any]
) -> tuple[Any, Sequence[SortKey]]:
    require(context, declarations.READ)
    accounts = account_statement(context, filter).with_only_columns(Account.id)
    return select(Entry).where(Entry.account_id.in_(accounts.scalar_subquery())), KEYS


async def _names(
    context: RequestContext, account_ids: set[int], user_ids: set[int]
) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Each account's customer number and name (of customers the caller may read), and the
    e-mail of each user who wrote an entry, for one batch of rows."""
    async with context.db.read() as session:
        customers = {
            account_id: (number, name)
            for account_id, number, name in await session.execute(
                select(Account.id, CustomerRow.number, CustomerRow.name)
                .join(CustomerRow, CustomerRow.id == Account.customer_id)
                .where(
                    Account.id.in_(account_ids),
                    context.visible("customers:read", "customers"),
                )
            )
        }
        found = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        emails: dict[int, str] = dict(found.all())
    return customers, emails


async def _rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    yield [f"{c} ({zone.key})" if c == "created_at" else c for c in COLUMNS]
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            customers, emails = await _names(
                context,
                {row.account_id for row in batch},
                {row.actor_id for row in batch if row.actor_id},
            )
            for row in batch:
                number, name = customers.get(row.account_id, ("", ""))
                yield [
                    row.id,
                    number,
                    name,
                    row.created_at.astimezone(zone),
                    row.kind,
                    row.points,
                    row.debt_points,
                    row.source,
                    row.source_ref,
                    row.reason,
                    emails.get(row.actor_id or 0, row.actor_label),
                    _plain(row.amount),
                    row.currency,
                    row.reverses_id,
                ]


def _plain(amount: decimal.Decimal | None) -> decimal.Decimal | None:
    """An amount without trailing zeros or an exponent (``12.5``, ``100``)."""
    return None if amount is None else decimal.Decimal(format(amount.normalize(), "f"))


LEDGER = ListExport(
    name="loyalty-ledger",
    permission=declarations.READ,
    filter_input=("LoyaltyAccountFilter", LoyaltyAccountFilter),
    order_input=None,
    statement=_statement,
    rows=_rows,
)
ROUTE = export_route(LEDGER)
"""What ``crm_http_routes`` returns: ``/export/loyalty-ledger.csv`` and ``.xlsx``."""
