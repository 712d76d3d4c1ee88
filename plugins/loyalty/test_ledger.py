"""The ledger's rules, through its service (the only writer of entries and lots), and a
property-based test: random sequences of earning (with and without expiry), spending,
expiry as the clock moves, reversals and adjustments keep the stored figures equal to the
fold of the ledger, spend lots in expiry order, never spend beyond the balance and pay debt
from later earnings."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Database, UserErrors
from plugins.loyalty.ledger_testing import create_customer_id, differences
from plugins.loyalty.models import Account, Entry, Lot, LotSpend
from plugins.loyalty.service import accounts, ledger
from plugins.loyalty.testing import MONDAY
from schema.testkit import Api

T = TypeVar("T")
DAY = dt.timedelta(days=1)


async def run(admin: Api, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with admin.db.transaction() as session:
        return await work(session)


async def enrolled(admin: Api, name: str = "Member") -> int:
    customer_id = await create_customer_id(admin, name)

    async def work(session: AsyncSession) -> int:
        return (await accounts.enrol(session, customer_id, now=MONDAY, actor_id=None)).id

    return await run(admin, work)


async def earn(
    admin: Api, account_id: int, points: int, *, expires_at: dt.datetime | None = None
) -> Entry:
    async def work(session: AsyncSession) -> Entry:
        account = await ledger.lock(session, account_id)
        return await ledger.earn(
            session,
            account,
            points,
            source="API",
            source_ref="ref",
            reason="test",
            actor_id=None,
            actor_label="test",
            now=MONDAY,
            expires_at=expires_at,
        )

    return await run(admin, work)


async def spend(
    admin: Api, account_id: int, points: int, *, now: dt.datetime = MONDAY, kind: str = "REDEEM"
) -> Entry:
    async def work(session: AsyncSession) -> Entry:
        account = await ledger.lock(session, account_id)
        return await ledger.spend(
            session,
            account,
            points,
            kind=kind,
            source="REWARD",
            source_ref="1",
            reason="test",
            actor_id=None,
            actor_label="test",
            now=now,
        )

    return await run(admin, work)


async def reverse(
    admin: Api, account_id: int, entry_id: int, *, now: dt.datetime = MONDAY
) -> Entry:
    async def work(session: AsyncSession) -> Entry:
        account = await ledger.lock(session, account_id)
        entry = await session.get(Entry, entry_id)
        assert entry is not None
        return await ledger.reverse(
            session, account, entry, reason="refund", actor_id=None, actor_label="t", now=now
        )

    return await run(admin, work)


async def account_row(admin: Api, account_id: int) -> Account:
    async def work(session: AsyncSession) -> Account:
        return await ledger.lock(session, account_id)

    return await run(admin, work)


async def lots_of(admin: Api, account_id: int) -> list[tuple[int, int]]:
    """(points, remaining) of each lot, in the order they were earned."""

    async def work(session: AsyncSession) -> list[tuple[int, int]]:
        rows = await session.execute(
            select(Lot.points, Lot.remaining).where(Lot.account_id == account_id).order_by(Lot.id)
        )
        return [(points, remaining) for points, remaining in rows]

    return await run(admin, work)


async def spends_of(admin: Api, entry_id: int) -> list[tuple[int, int]]:
    """(lot's points, points taken) for each lot an entry took from, in lot order."""

    async def work(session: AsyncSession) -> list[tuple[int, int]]:
        rows = await session.execute(
            select(Lot.points, LotSpend.points)
            .join(Lot, Lot.id == LotSpend.lot_id)
            .where(LotSpend.entry_id == entry_id)
            .order_by(Lot.id)
        )
        return [(lot_points, taken) for lot_points, taken in rows]

    return await run(admin, work)


async def test_earning_adds_a_lot_and_grows_the_balance_and_lifetime(admin: Api) -> None:
    account_id = await enrolled(admin)
    entry = await earn(admin, account_id, 120, expires_at=MONDAY + 30 * DAY)
    assert (entry.kind, entry.points, entry.debt_points) == ("EARN", 120, 0)
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (120, 0, 120)
    assert await lots_of(admin, account_id) == [(120, 120)]
    assert await differences(admin) == []


async def test_spending_takes_the_lots_that_expire_first_never_expiring_last(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 100)  # never expires
    await earn(admin, account_id, 50, expires_at=MONDAY + 60 * DAY)
    await earn(admin, account_id, 30, expires_at=MONDAY + 10 * DAY)
    await earn(admin, account_id, 20, expires_at=MONDAY + 10 * DAY)
    entry = await spend(admin, account_id, 90)
    assert entry.points == -90
    assert await spends_of(admin, entry.id) == [(50, 40), (30, 30), (20, 20)]
    assert await lots_of(admin, account_id) == [(100, 100), (50, 10), (30, 0), (20, 0)]
    assert (await account_row(admin, account_id)).balance == 110
    assert await differences(admin) == []


async def test_a_spend_beyond_the_balance_is_refused_naming_points(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 40)
    with pytest.raises(UserErrors) as refused:
        await spend(admin, account_id, 41)
    assert [(e.field, e.code.value) for e in refused.value.errors] == [("points", "BUSINESS_RULE")]
    assert "40" in str(refused.value)
    assert (await account_row(admin, account_id)).balance == 40
    assert await lots_of(admin, account_id) == [(40, 40)]


@pytest.mark.parametrize("points", [0, -5, ledger.MAX_POINTS + 1])
async def test_points_out_of_range_are_refused_naming_points(admin: Api, points: int) -> None:
    account_id = await enrolled(admin)
    for attempt in (earn(admin, account_id, points), spend(admin, account_id, points)):
        with pytest.raises(UserErrors) as refused:
            await attempt
        assert [(e.field, e.code.value) for e in refused.value.errors] == [
            ("points", "OUT_OF_RANGE")
        ]


async def test_a_negative_adjustment_spends_like_a_redemption(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 40)
    entry = await spend(admin, account_id, 15, kind="ADJUST")
    assert (entry.kind, entry.points) == ("ADJUST", -15)
    assert (await account_row(admin, account_id)).balance == 25


async def test_a_reversal_takes_its_own_lot_first_then_the_others(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 100, expires_at=MONDAY + 5 * DAY)
    order = await earn(admin, account_id, 80, expires_at=MONDAY + 90 * DAY)
    await spend(admin, account_id, 130)  # takes the first lot's 100 and 30 of the order's
    reversal = await reverse(admin, account_id, order.id)
    assert (reversal.kind, reversal.points, reversal.debt_points) == ("REVERSE", -50, 30)
    assert reversal.reverses_id == order.id
    assert await spends_of(admin, reversal.id) == [(80, 50)]
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (0, 30, 180)
    assert await differences(admin) == []


async def test_a_reversal_takes_other_lots_when_its_own_is_spent(admin: Api) -> None:
    account_id = await enrolled(admin)
    order = await earn(admin, account_id, 60, expires_at=MONDAY + 5 * DAY)
    await earn(admin, account_id, 100)
    await spend(admin, account_id, 60)
    reversal = await reverse(admin, account_id, order.id)
    assert (reversal.points, reversal.debt_points) == (-60, 0)
    assert await spends_of(admin, reversal.id) == [(100, 60)]
    assert (await account_row(admin, account_id)).balance == 40


async def test_a_reversal_never_takes_points_past_their_expiry(admin: Api) -> None:
    """Points past their expiry are gone whether or not the expiry job has run yet: they
    are expired first, and what the reversal cannot take becomes debt."""
    account_id = await enrolled(admin)
    old = await earn(admin, account_id, 50, expires_at=MONDAY + 30 * DAY)
    order = await earn(admin, account_id, 100, expires_at=MONDAY + 10 * DAY)
    await spend(admin, account_id, 100)  # the order's lot expires first: it is the one spent
    reversal = await reverse(admin, account_id, order.id, now=MONDAY + 40 * DAY)
    assert (reversal.points, reversal.debt_points) == (0, 100)
    assert await spends_of(admin, reversal.id) == []
    assert await lots_of(admin, account_id) == [(50, 0), (100, 0)]

    async def expiries(session: AsyncSession) -> list[tuple[int, int]]:
        rows = await session.execute(
            select(Entry.points, LotSpend.lot_id)
            .join(LotSpend, LotSpend.entry_id == Entry.id)
            .where(Entry.account_id == account_id, Entry.kind == "EXPIRE")
        )
        return [(points, lot_id) for points, lot_id in rows]

    expired = await run(admin, expiries)
    assert [points for points, _lot in expired] == [-50]
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (0, 100, 150)
    assert old.kind == "EARN"
    assert await differences(admin) == []


async def test_debt_is_paid_from_later_earnings_before_the_balance(admin: Api) -> None:
    account_id = await enrolled(admin)
    order = await earn(admin, account_id, 100)
    await spend(admin, account_id, 100)
    await reverse(admin, account_id, order.id)
    assert (await account_row(admin, account_id)).debt == 100
    first = await earn(admin, account_id, 70)
    assert (first.points, first.debt_points) == (0, 70)
    assert await lots_of(admin, account_id) == [(100, 0)]  # no lot for points that paid debt
    second = await earn(admin, account_id, 50)
    assert (second.points, second.debt_points) == (20, 30)
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (20, 0, 220)
    assert await differences(admin) == []


async def test_reversing_an_earning_that_paid_debt_puts_the_debt_back(admin: Api) -> None:
    account_id = await enrolled(admin)
    order = await earn(admin, account_id, 100)
    await spend(admin, account_id, 100)
    await reverse(admin, account_id, order.id)
    later = await earn(admin, account_id, 130)  # pays 100 of debt, 30 to the balance
    reversal = await reverse(admin, account_id, later.id)
    assert (reversal.points, reversal.debt_points) == (-30, 100)
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt) == (0, 100)
    assert await differences(admin) == []


async def test_an_earning_is_reversed_once(admin: Api) -> None:
    account_id = await enrolled(admin)
    order = await earn(admin, account_id, 100)
    first = await reverse(admin, account_id, order.id)
    again = await reverse(admin, account_id, order.id)
    assert again.id == first.id
    assert (await account_row(admin, account_id)).balance == 0


async def test_a_positive_adjustment_pays_debt_but_is_not_earned(admin: Api) -> None:
    account_id = await enrolled(admin)
    order = await earn(admin, account_id, 10)
    await spend(admin, account_id, 10)
    await reverse(admin, account_id, order.id)

    async def adjust(session: AsyncSession) -> Entry:
        account = await ledger.lock(session, account_id)
        return await ledger.earn(
            session,
            account,
            25,
            source="MANUAL",
            source_ref=None,
            reason="goodwill",
            actor_id=None,
            actor_label="t",
            now=MONDAY,
            expires_at=None,
            kind="ADJUST",
        )

    entry = await run(admin, adjust)
    assert (entry.kind, entry.points, entry.debt_points) == ("ADJUST", 15, 10)
    account = await account_row(admin, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (15, 0, 10)
    assert await differences(admin) == []


async def test_points_given_back_for_a_coupon_are_not_earned(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 40)
    await spend(admin, account_id, 30)

    async def give_back(session: AsyncSession) -> Entry:
        account = await ledger.lock(session, account_id)
        return await ledger.earn(
            session,
            account,
            30,
            source="COUPON",
            source_ref="1",
            reason="coupon cancelled",
            actor_id=None,
            actor_label="t",
            now=MONDAY,
            expires_at=None,
        )

    entry = await run(admin, give_back)
    assert (entry.kind, entry.points) == ("EARN", 30)
    account = await account_row(admin, account_id)
    assert (account.balance, account.lifetime_earned) == (40, 40)
    assert await differences(admin) == []


async def test_expiry_takes_every_due_lot_in_one_entry(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 10, expires_at=MONDAY + 1 * DAY)
    await earn(admin, account_id, 20, expires_at=MONDAY + 2 * DAY)
    await earn(admin, account_id, 40, expires_at=MONDAY + 9 * DAY)
    await spend(admin, account_id, 5)

    async def expire(session: AsyncSession) -> Entry | None:
        account = await ledger.lock(session, account_id)
        return await ledger.expire_due(session, account, MONDAY + 2 * DAY)

    entry = await run(admin, expire)
    assert entry is not None
    assert (entry.kind, entry.points, entry.source) == ("EXPIRE", -25, "EXPIRY")
    assert await spends_of(admin, entry.id) == [(10, 5), (20, 20)]
    assert await run(admin, expire) is None
    assert (await account_row(admin, account_id)).balance == 40
    assert await differences(admin) == []


async def test_a_spend_never_uses_points_past_their_expiry(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 50, expires_at=MONDAY + 1 * DAY)
    await earn(admin, account_id, 30)
    with pytest.raises(UserErrors):
        await spend(admin, account_id, 40, now=MONDAY + 2 * DAY)
    assert (await account_row(admin, account_id)).balance == 80  # the refusal undid the expiry
    entry = await spend(admin, account_id, 30, now=MONDAY + 2 * DAY)
    assert await spends_of(admin, entry.id) == [(30, 30)]
    assert (await account_row(admin, account_id)).balance == 0
    assert await differences(admin) == []


async def test_verify_reports_a_stored_figure_the_ledger_does_not_give(admin: Api) -> None:
    account_id = await enrolled(admin)
    await earn(admin, account_id, 50)

    async def tamper(session: AsyncSession) -> None:
        await session.execute(update(Lot).where(Lot.account_id == account_id).values(remaining=7))
        await session.execute(
            update(Account).where(Account.id == account_id).values(balance=51, debt=2)
        )

    await run(admin, tamper)
    found = await differences(admin)
    assert any("balance is 51, the ledger gives 50" in line for line in found), found
    assert any("debt is 2, the ledger gives 0" in line for line in found), found
    assert any(": lot " in line and "is 7, the ledger gives 50" in line for line in found)


async def test_enrolling_twice_answers_the_same_account(admin: Api) -> None:
    customer_id = await create_customer_id(admin, "Twice")

    async def work(session: AsyncSession) -> tuple[int, int, str, Account | None]:
        before = await accounts.account_of(session, customer_id)
        first = await accounts.enrol(session, customer_id, now=MONDAY, actor_id=None)
        second = await accounts.enrol(session, customer_id, now=MONDAY, actor_id=None)
        assert before is None
        return first.id, second.id, first.tier_key, before

    first_id, second_id, tier_key, _none = await run(admin, work)
    assert first_id == second_id
    assert tier_key == "STANDARD"


# --- The property-based test -------------------------------------------------------------


@dataclasses.dataclass
class ModelLot:
    id: int
    expires_at: dt.datetime | None
    remaining: int


@dataclasses.dataclass
class Model:
    """What the ledger should hold, computed independently of it."""

    now: dt.datetime = MONDAY
    balance: int = 0
    debt: int = 0
    lifetime: int = 0
    lots: dict[int, ModelLot] = dataclasses.field(default_factory=dict)
    earns: list[int] = dataclasses.field(default_factory=list)
    """EARN entry ids, to pick one to reverse."""
    reversed: set[int] = dataclasses.field(default_factory=set)
    full: dict[int, int] = dataclasses.field(default_factory=dict)
    """EARN entry id -> the points it earned in full."""
    lot_of: dict[int, int] = dataclasses.field(default_factory=dict)
    """EARN entry id -> its lot id."""

    def ordered(self, first: int | None = None) -> list[ModelLot]:
        lots = sorted(
            (lot for lot in self.lots.values() if lot.remaining > 0),
            key=lambda lot: (lot.expires_at is None, lot.expires_at or self.now, lot.id),
        )
        if first is not None and first in self.lots and self.lots[first].remaining > 0:
            lots = [self.lots[first], *(lot for lot in lots if lot.id != first)]
        return lots

    def take(self, points: int, first: int | None = None) -> dict[int, int]:
        taken: dict[int, int] = {}
        for lot in self.ordered(first):
            if points == 0:
                break
            part = min(points, lot.remaining)
            lot.remaining -= part
            points -= part
            taken[lot.id] = part
        assert points == 0
        return taken

    def expire(self) -> dict[int, int]:
        taken: dict[int, int] = {}
        for lot in self.lots.values():
            if lot.expires_at is not None and lot.expires_at <= self.now and lot.remaining:
                taken[lot.id] = lot.remaining
                self.balance -= lot.remaining
                lot.remaining = 0
        return taken


STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("earn"),
            st.integers(1, 300),
            st.one_of(st.none(), st.integers(1, 120)),
        ),
        st.tuples(st.just("adjust_up"), st.integers(1, 100), st.none()),
        st.tuples(st.just("redeem"), st.integers(1, 400), st.none()),
        st.tuples(st.just("adjust_down"), st.integers(1, 200), st.none()),
        st.tuples(st.just("clock"), st.integers(1, 90), st.none()),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.none()),
    ),
    min_size=1,
    max_size=14,
)


async def _reset(db: Database, customer_id: int) -> int:
    """A fresh account for ``customer_id`` (the previous example's ledger dropped)."""
    async with db.transaction() as session:
        account = await accounts.account_of(session, customer_id)
        if account is not None:
            entries = select(Entry.id).where(Entry.account_id == account.id)
            await session.execute(delete(LotSpend).where(LotSpend.entry_id.in_(entries)))
            await session.execute(delete(Lot).where(Lot.account_id == account.id))
            await session.execute(
                update(Entry).where(Entry.account_id == account.id).values(reverses_id=None)
            )
            await session.execute(delete(Entry).where(Entry.account_id == account.id))
            await session.delete(account)
            await session.flush()
        return (await accounts.enrol(session, customer_id, now=MONDAY, actor_id=None)).id


async def _step(
    session: AsyncSession, model: Model, account_id: int, step: tuple[str, int, int | None]
) -> None:
    """Apply one step to the ledger and to the model, then compare them."""
    action, number, days = step
    account = await ledger.lock(session, account_id)
    common: dict[str, Any] = {"actor_id": None, "actor_label": "property", "now": model.now}
    expected_spends: dict[int, int] | None = None
    entry: Entry | None = None
    if action in ("earn", "adjust_up"):
        expires_at = model.now + days * DAY if days is not None else None
        kind = "EARN" if action == "earn" else "ADJUST"
        entry = await ledger.earn(
            session,
            account,
            number,
            source="API",
            source_ref=None,
            reason="",
            expires_at=expires_at,
            kind=kind,
            **common,
        )
        paid = min(number, model.debt)
        assert (entry.points, entry.debt_points) == (number - paid, paid)
        model.debt -= paid
        model.balance += number - paid
        if kind == "EARN":
            model.lifetime += number
            model.earns.append(entry.id)
            model.full[entry.id] = number
        lot = await session.scalar(select(Lot).where(Lot.entry_id == entry.id))
        assert (lot is None) == (number == paid)
        if lot is not None:
            model.lots[lot.id] = ModelLot(lot.id, expires_at, lot.remaining)
            model.lot_of[entry.id] = lot.id
    elif action in ("redeem", "adjust_down"):
        kind = "REDEEM" if action == "redeem" else "ADJUST"
        expired = model.expire()
        refused: UserErrors | None = None
        try:
            async with session.begin_nested():
                entry = await ledger.spend(
                    session,
                    account,
                    number,
                    kind=kind,
                    source="REWARD",
                    source_ref=None,
                    reason="",
                    **common,
                )
        except UserErrors as error:
            refused = error
        if refused is not None:
            assert number > model.balance, "a spend within the balance was refused"
            assert refused.errors[0].field == "points"
            # The savepoint undid the expiry the spend began with: so does the model.
            for lot_id, part in expired.items():
                model.lots[lot_id].remaining += part
                model.balance += part
            await session.refresh(account)
        else:
            assert number <= model.balance, "a spend beyond the balance succeeded"
            expected_spends = model.take(number)
            model.balance -= number
    elif action == "clock":
        model.now += number * DAY
        common["now"] = model.now
        entry = await ledger.expire_due(session, account, model.now)
        expected_spends = model.expire()
        assert (entry is None) == (not expected_spends)
    elif action == "reverse":
        candidates = [i for i in model.earns if i not in model.reversed]
        if not candidates:
            return
        earned = candidates[number % len(candidates)]
        earn_entry = await session.get(Entry, earned)
        assert earn_entry is not None
        model.expire()  # a reversal never takes points past their expiry
        entry = await ledger.reverse(session, account, earn_entry, reason="", **common)
        full = model.full[earned]
        from_balance = min(full, model.balance)
        assert (entry.points, entry.debt_points) == (-from_balance, full - from_balance)
        expected_spends = model.take(from_balance, model.lot_of.get(earned))
        model.balance -= from_balance
        model.debt += full - from_balance
        model.reversed.add(earned)
    await session.flush()
    if entry is not None and expected_spends is not None:
        taken = dict(
            (
                await session.execute(
                    select(LotSpend.lot_id, LotSpend.points).where(LotSpend.entry_id == entry.id)
                )
            ).all()
        )
        assert taken == expected_spends, "the lots were not taken in expiry order"
    account = await ledger.lock(session, account_id)
    assert (account.balance, account.debt, account.lifetime_earned) == (
        model.balance,
        model.debt,
        model.lifetime,
    )
    assert account.debt == 0 or account.balance == 0
    folded = await ledger.fold(session, account_id)
    assert (folded.balance, folded.debt, folded.lifetime_earned) == (
        account.balance,
        account.debt,
        account.lifetime_earned,
    )
    stored = dict(
        (
            await session.execute(select(Lot.id, Lot.remaining).where(Lot.account_id == account_id))
        ).all()
    )
    assert stored == folded.lots == {i: lot.remaining for i, lot in model.lots.items()}
    assert sum(stored.values()) == account.balance
    assert await ledger.differences(session, account) == []


def _check_sequences(url: str, customer_id: int) -> None:
    """Run the property in a thread of its own (Hypothesis drives a synchronous function),
    on one event loop and one engine, one fresh account per example."""
    loop = asyncio.new_event_loop()
    db = Database(url)

    @hypothesis_settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(steps=STEPS)
    def sequences(steps: list[tuple[str, int, int | None]]) -> None:
        async def example() -> None:
            account_id = await _reset(db, customer_id)
            model = Model()
            for step in steps:
                async with db.transaction() as session:
                    await _step(session, model, account_id, step)

        loop.run_until_complete(example())

    try:
        sequences()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


async def test_random_sequences_keep_the_ledger_and_the_account_in_step(admin: Api) -> None:
    customer_id = await create_customer_id(admin, "Property")
    await asyncio.to_thread(_check_sequences, admin.settings.resolved_database_url, customer_id)
    assert await differences(admin) == []
