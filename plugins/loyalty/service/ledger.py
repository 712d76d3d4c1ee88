"""The ledger: the only code that writes entries, lots and lot spends and changes an account's
``balance``, ``debt`` and ``lifetime_earned``.

Every function here expects the account locked first (:func:`lock`, the one lock order every
writer keeps) and works in the caller's transaction.

An entry's ``points`` is always its effect on the balance, so the balance is the sum of the
ledger; its ``debt_points`` is its effect on the debt: a REVERSE beyond the balance takes the
balance to 0 (``points``) and adds the rest to the debt (``debt_points``); an EARN pays the
debt first (``debt_points``) and adds the rest to the balance (``points``), so what it earned
in full is ``points + debt_points``. A member with debt has a balance of 0.

Earned points form a :class:`~plugins.loyalty.models.Lot` each; spending takes the lots that
expire first (``expires_at``, the ones that never expire last, then by id) and records which
lots it took (:class:`~plugins.loyalty.models.LotSpend`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer, UserErrorCode, UserErrors, translator
from plugins.loyalty.models import Account, Entry, Lot, LotSpend

_ = translator(__name__)

EARN = "EARN"
REDEEM = "REDEEM"
EXPIRE = "EXPIRE"
ADJUST = "ADJUST"
REVERSE = "REVERSE"
KINDS = (EARN, REDEEM, EXPIRE, ADJUST, REVERSE)

SOURCES = ("ORDER", "REWARD", "COUPON", "MANUAL", "API", "BONUS", "SURVEY", "EXPIRY")

GIVEN_BACK = ("COUPON",)
"""Sources of EARN entries that give spent points back (a cancelled coupon): not earned, so
``lifetime_earned`` does not grow by them."""

MAX_POINTS = 1_000_000_000
"""The most points one entry moves (the columns are 32-bit integers)."""

EXPIRY_ACTOR = "expiry"
VERIFY_BATCH = 500


def _open_lots_order() -> tuple[Any, ...]:
    """Lots in the order spending takes them: expiring first, never-expiring last, then id."""
    return (Lot.expires_at.is_(None), Lot.expires_at, Lot.id)


async def lock(session: AsyncSession, account_id: int) -> Account:
    """The account, locked for the rest of the transaction (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite's write transactions are serialised already) and read afresh.

    Its customer's row is locked first, the order every writer keeps (a tier change writes
    the customer's grade): taking it again when the request holds it already is free."""
    customer_id = await session.scalar(select(Account.customer_id).where(Account.id == account_id))
    if customer_id is not None:
        await session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()
        )
    account = await session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if account is None or account.customer_id != customer_id:
        raise LookupError(f"no loyalty account {account_id}")
    return account


def _check_points(points: int, field: str = "points") -> None:
    if points < 1:
        raise UserErrors.single(field, _("must be more than 0"), UserErrorCode.OUT_OF_RANGE)
    if points > MAX_POINTS:
        raise UserErrors.single(
            field, _("must be at most {max}", max=MAX_POINTS), UserErrorCode.OUT_OF_RANGE
        )


async def earn(
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
    expires_at: dt.datetime | None,
    amount: decimal.Decimal | None = None,
    currency: str | None = None,
    idempotency_key: str | None = None,
    data: dict[str, Any] | None = None,
    kind: str = EARN,
) -> Entry:
    """Add ``points`` (> 0) to the locked ``account``: the debt is paid first, the rest adds
    to the balance and forms a lot expiring at ``expires_at``. An EARN grows
    ``lifetime_earned`` by the full points, unless its source gives points back
    (:data:`GIVEN_BACK`); ``kind`` ADJUST (a positive adjustment by hand) does not. A
    duplicate ``idempotency_key`` raises ``IntegrityError`` at the flush: callers look the
    key up first."""
    if kind not in (EARN, ADJUST):
        raise ValueError(f"earn() writes EARN or ADJUST entries, not {kind}")
    _check_points(points)
    paid = min(points, account.debt)
    added = points - paid
    entry = Entry(
        account_id=account.id,
        kind=kind,
        points=added,
        debt_points=paid,
        reason=reason,
        source=source,
        source_ref=source_ref,
        idempotency_key=idempotency_key,
        actor_id=actor_id,
        actor_label=actor_label,
        amount=amount,
        currency=currency,
        created_at=now,
        data=dict(data or {}),
    )
    session.add(entry)
    await session.flush()
    if added:
        session.add(
            Lot(
                account_id=account.id,
                entry_id=entry.id,
                points=added,
                remaining=added,
                earned_at=now,
                expires_at=expires_at,
            )
        )
    account.debt -= paid
    account.balance += added
    if kind == EARN and source not in GIVEN_BACK:
        account.lifetime_earned += points
    account.updated_at = now
    await session.flush()
    return entry


async def _take(session: AsyncSession, entry: Entry, lots: Sequence[Lot], points: int) -> int:
    """Take up to ``points`` from ``lots`` in their order for ``entry``; what was taken."""
    taken = 0
    for lot in lots:
        if taken >= points:
            break
        part = min(lot.remaining, points - taken)
        if part <= 0:
            continue
        lot.remaining -= part
        taken += part
        session.add(LotSpend(entry_id=entry.id, lot_id=lot.id, points=part))
    return taken


async def _open_lots(
    session: AsyncSession, account_id: int, *, exclude: int | None = None
) -> list[Lot]:
    query = select(Lot).where(Lot.account_id == account_id, Lot.remaining > 0)
    if exclude is not None:
        query = query.where(Lot.id != exclude)
    return list(
        (
            await session.scalars(
                query.order_by(*_open_lots_order()).execution_options(populate_existing=True)
            )
        ).all()
    )


async def spend(
    session: AsyncSession,
    account: Account,
    points: int,
    *,
    kind: str,
    source: str,
    source_ref: str | None,
    reason: str,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
    data: dict[str, Any] | None = None,
) -> Entry:
    """Take ``points`` (> 0) from the locked ``account`` as a REDEEM, EXPIRE or (negative)
    ADJUST entry, from the lots that expire first. Lots already past their expiry are expired
    first (:func:`expire_due`), so a spend never uses points that are gone. More than the
    balance is refused (naming ``points``)."""
    if kind not in (REDEEM, EXPIRE, ADJUST):
        raise ValueError(f"spend() writes REDEEM, EXPIRE or ADJUST entries, not {kind}")
    _check_points(points)
    if kind != EXPIRE:
        await expire_due(session, account, now)
    if points > account.balance:
        raise UserErrors.single(
            "points",
            _(
                "is more than the balance of {balance} points",
                balance=account.balance,
            ),
            UserErrorCode.BUSINESS_RULE,
        )
    entry = Entry(
        account_id=account.id,
        kind=kind,
        points=-points,
        debt_points=0,
        reason=reason,
        source=source,
        source_ref=source_ref,
        actor_id=actor_id,
        actor_label=actor_label,
        created_at=now,
        data=dict(data or {}),
    )
    session.add(entry)
    await session.flush()
    taken = await _take(session, entry, await _open_lots(session, account.id), points)
    if taken != points:
        raise RuntimeError(
            f"loyalty account {account.id}: lots hold {taken} of a balance of {account.balance}"
        )
    account.balance -= points
    account.updated_at = now
    await session.flush()
    return entry


async def reversal_of(session: AsyncSession, earn_entry_id: int) -> Entry | None:
    """The REVERSE entry that took back an EARN, if any."""
    found: Entry | None = await session.scalar(
        select(Entry).where(Entry.kind == REVERSE, Entry.reverses_id == earn_entry_id)
    )
    return found


async def reverse(
    session: AsyncSession,
    account: Account,
    earn_entry: Entry,
    *,
    reason: str,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
) -> Entry:
    """Take back everything an EARN entry earned (``points + debt_points``) from the locked
    ``account``: its own lot's remaining first, then the other lots in expiry order; what
    exceeds the balance becomes debt. Lots already past their expiry are expired first
    (:func:`expire_due`). An EARN reversed before answers its REVERSE entry."""
    if earn_entry.kind != EARN or earn_entry.account_id != account.id:
        raise ValueError(f"entry {earn_entry.id} is not an EARN of account {account.id}")
    done = await reversal_of(session, earn_entry.id)
    if done is not None:
        return done
    # Points past their expiry are gone: they never pay a reversal (nor would they once the
    # expiry job has run), so the outcome does not depend on when the job last ran.
    await expire_due(session, account, now)
    full = earn_entry.points + earn_entry.debt_points
    from_balance = min(full, account.balance)
    entry = Entry(
        account_id=account.id,
        kind=REVERSE,
        points=-from_balance,
        debt_points=full - from_balance,
        reason=reason,
        source=earn_entry.source,
        source_ref=earn_entry.source_ref,
        actor_id=actor_id,
        actor_label=actor_label,
        amount=earn_entry.amount,
        currency=earn_entry.currency,
        reverses_id=earn_entry.id,
        created_at=now,
        data={},
    )
    session.add(entry)
    await session.flush()
    own = await session.scalar(
        select(Lot).where(Lot.entry_id == earn_entry.id).execution_options(populate_existing=True)
    )
    lots = [own] if own is not None and own.remaining > 0 else []
    lots += await _open_lots(session, account.id, exclude=own.id if own is not None else None)
    taken = await _take(session, entry, lots, from_balance)
    if taken != from_balance:
        raise RuntimeError(
            f"loyalty account {account.id}: lots hold {taken} of a balance of {account.balance}"
        )
    account.balance -= from_balance
    account.debt += full - from_balance
    account.updated_at = now
    await session.flush()
    return entry


async def expire_due(session: AsyncSession, account: Account, now: dt.datetime) -> Entry | None:
    """One EXPIRE entry for every lot of the locked ``account`` past its ``expires_at`` with
    points remaining (``None`` when there is none)."""
    due = list(
        (
            await session.scalars(
                select(Lot)
                .where(
                    Lot.account_id == account.id,
                    Lot.remaining > 0,
                    Lot.expires_at.is_not(None),
                    Lot.expires_at <= now,
                )
                .order_by(*_open_lots_order())
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    if not due:
        return None
    points = sum(lot.remaining for lot in due)
    entry = Entry(
        account_id=account.id,
        kind=EXPIRE,
        points=-points,
        debt_points=0,
        reason="",
        source="EXPIRY",
        source_ref=None,
        actor_id=None,
        actor_label=EXPIRY_ACTOR,
        created_at=now,
        data={"lots": [lot.id for lot in due]},
    )
    session.add(entry)
    await session.flush()
    await _take(session, entry, due, points)
    account.balance -= points
    account.updated_at = now
    await session.flush()
    return entry


@dataclasses.dataclass(frozen=True)
class Folded:
    """An account's figures recomputed from its ledger alone."""

    balance: int
    debt: int
    lifetime_earned: int
    lots: dict[int, int]
    """Lot id -> points remaining (its points less what the entries took from it)."""


async def fold(session: AsyncSession, account_id: int) -> Folded:
    """The account's balance, debt, lifetime earned and each lot's remaining points,
    recomputed from its entries (and the lot spends they recorded)."""
    balance, debt, lifetime = 0, 0, 0
    rows = await session.execute(
        select(Entry.kind, Entry.source, Entry.points, Entry.debt_points)
        .where(Entry.account_id == account_id)
        .order_by(Entry.id)
    )
    for kind, source, points, debt_points in rows:
        balance += points
        debt += debt_points if kind == REVERSE else -debt_points
        if kind == EARN and source not in GIVEN_BACK:
            lifetime += points + debt_points
    spent: dict[int, int] = defaultdict(int)
    for lot_id, points in await session.execute(
        select(LotSpend.lot_id, func.sum(LotSpend.points))
        .join(Lot, Lot.id == LotSpend.lot_id)
        .where(Lot.account_id == account_id)
        .group_by(LotSpend.lot_id)
    ):
        spent[lot_id] = int(points or 0)
    lots: dict[int, int] = {}
    for lot_id, lot_points in await session.execute(
        select(Lot.id, Entry.points)
        .join(Entry, Entry.id == Lot.entry_id)
        .where(Lot.account_id == account_id)
    ):
        lots[lot_id] = lot_points - spent[lot_id]
    return Folded(balance=balance, debt=debt, lifetime_earned=lifetime, lots=lots)


@dataclasses.dataclass(frozen=True)
class Difference:
    """A figure stored on an account (or lot) that its ledger does not give."""

    account_id: int
    customer_id: int
    figure: str
    """balance, debt, lifetime_earned, lots (their sum against the balance) or ``lot <id>``."""
    stored: int
    folded: int

    def __str__(self) -> str:
        return (
            f"account {self.account_id} (customer {self.customer_id}): {self.figure} is "
            f"{self.stored}, the ledger gives {self.folded}"
        )


async def differences(session: AsyncSession, account: Account) -> list[Difference]:
    """What is stored on ``account`` and its lots that its ledger does not give."""
    folded = await fold(session, account.id)
    found: list[Difference] = []

    def compare(figure: str, stored: int, computed: int) -> None:
        if stored != computed:
            found.append(Difference(account.id, account.customer_id, figure, stored, computed))

    compare("balance", account.balance, folded.balance)
    compare("debt", account.debt, folded.debt)
    compare("lifetime_earned", account.lifetime_earned, folded.lifetime_earned)
    if account.debt and account.balance:
        compare("balance (with debt)", account.balance, 0)
    stored_lots = dict(
        (
            await session.execute(select(Lot.id, Lot.remaining).where(Lot.account_id == account.id))
        ).all()
    )
    for lot_id, remaining in sorted(folded.lots.items()):
        compare(f"lot {lot_id}", stored_lots.get(lot_id, 0), remaining)
        if remaining < 0:
            compare(f"lot {lot_id} (overspent)", remaining, 0)
    compare("lots", sum(folded.lots.values()), folded.balance)
    return found


async def verify(session: AsyncSession) -> list[Difference]:
    """Every account re-folded from its ledger: each difference from what is stored (none,
    when every writer went through this module)."""
    found: list[Difference] = []
    after = 0
    while True:
        accounts = (
            await session.scalars(
                select(Account)
                .where(Account.id > after)
                .order_by(Account.id)
                .limit(VERIFY_BATCH)
                .execution_options(populate_existing=True)
            )
        ).all()
        if not accounts:
            return found
        for account in accounts:
            found += await differences(session, account)
        after = accounts[-1].id
