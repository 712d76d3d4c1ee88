"""Earning from the sales plugin's orders (its hooks): placing an order earns at the member's
tier multiplier, with the first-order bonus; cancelling or refunding takes it back, and what
exceeds the balance becomes debt paid by the next earning. The survey bonus."""

from __future__ import annotations

import decimal
import types
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.loyalty.ledger_testing import create_customer, differences
from plugins.loyalty.models import Account, Entry, Programme
from plugins.loyalty.service import ledger, orders
from plugins.loyalty.testing import MONDAY
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, mutate_ok

ORDER = "order { id number version status }"
LOYALTY = """query($id: ID!) { customer(id: $id) { loyalty {
  balance debt lifetimeEarned tier { key }
  ledger(first: 10) { edges { node { kind points debtPoints source sourceRef reason } } }
} } }"""


async def set_programme(api: Api, **values: Any) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(Programme)
            .where(Programme.id == 1)
            .values(version=Programme.version + 1, **values)
        )


async def product(api: Api, price: str, currency: str = "CNY") -> str:
    payload = await mutate_ok(
        api,
        "createProduct",
        {
            "sku": f"SKU-{uuid.uuid4().hex[:10]}",
            "name": "Thing",
            "listPrice": price,
            "currency": currency,
        },
        "product { id }",
    )
    product_id: str = payload["product"]["id"]
    return product_id


async def place(api: Api, customer: str, price: str, currency: str = "CNY") -> dict[str, Any]:
    product_id = await product(api, price, currency)
    payload = await mutate_ok(
        api,
        "placeOrder",
        {
            "customerId": customer,
            "currency": currency,
            "lines": [{"productId": product_id, "quantity": "1"}],
        },
        ORDER,
    )
    order: dict[str, Any] = payload["order"]
    return order


async def step(api: Api, name: str, order: dict[str, Any]) -> dict[str, Any]:
    payload = await mutate_ok(api, name, {"id": order["id"], "version": order["version"]}, ORDER)
    result: dict[str, Any] = payload["order"]
    return result


async def loyalty(api: Api, customer: str) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(LOYALTY, {"id": customer}))["customer"]["loyalty"]
    return found


def ledger_of(account: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    """(kind, points, debtPoints, source) of each entry, the oldest first."""
    nodes = [edge["node"] for edge in account["ledger"]["edges"]]
    return [(n["kind"], n["points"], n["debtPoints"], n["source"]) for n in reversed(nodes)]


async def test_a_placed_order_enrols_the_customer_and_earns(admin: Api) -> None:
    customer = await create_customer(admin, "Shopper")
    order = await place(admin, customer, "123.45")
    account = await loyalty(admin, customer)
    assert (account["balance"], account["lifetimeEarned"]) == (123, 123)
    [entry] = [edge["node"] for edge in account["ledger"]["edges"]]
    assert (entry["kind"], entry["source"], entry["sourceRef"]) == (
        "EARN",
        "ORDER",
        str(db_id(order["id"])),
    )
    assert entry["reason"] == f"order {order['number']}"
    assert await differences(admin) == []


async def test_an_order_earns_at_the_members_tier_multiplier(admin: Api) -> None:
    customer = await create_customer(admin, "Gold")
    await mutate_ok(admin, "enrolCustomer", {"customerId": customer}, "account { id }")
    async with admin.db.transaction() as session:
        await session.execute(
            update(Account)
            .where(Account.customer_id == db_id(customer))
            .values(tier_key="GOLD", version=Account.version + 1)
        )
    await place(admin, customer, "99.99")
    assert (await loyalty(admin, customer))["balance"] == 149  # 99.99 x 1.5, rounded down


async def test_the_first_order_earns_the_bonus_once(admin: Api) -> None:
    await set_programme(admin, first_order_bonus=50)
    customer = await create_customer(admin, "First")
    await place(admin, customer, "10")
    await place(admin, customer, "20")
    account = await loyalty(admin, customer)
    assert ledger_of(account) == [
        ("EARN", 10, 0, "ORDER"),
        ("EARN", 50, 0, "BONUS"),
        ("EARN", 20, 0, "ORDER"),
    ]
    assert account["balance"] == 80


async def test_a_first_order_that_earned_no_points_still_was_the_first(admin: Api) -> None:
    """USD has no rate: the first order earns only the bonus, and the second is not first."""
    await set_programme(admin, first_order_bonus=100)
    customer = await create_customer(admin, "Dollars")
    await place(admin, customer, "10", "USD")
    await place(admin, customer, "20", "USD")
    account = await loyalty(admin, customer)
    assert ledger_of(account) == [("EARN", 100, 0, "BONUS")]
    assert account["balance"] == 100


async def test_a_cancelled_order_takes_back_what_it_earned_bonus_included(admin: Api) -> None:
    await set_programme(admin, first_order_bonus=50)
    customer = await create_customer(admin, "Cancelled")
    order = await place(admin, customer, "100")
    await step(admin, "cancelOrder", order)
    account = await loyalty(admin, customer)
    assert ledger_of(account) == [
        ("EARN", 100, 0, "ORDER"),
        ("EARN", 50, 0, "BONUS"),
        ("REVERSE", -100, 0, "ORDER"),
        ("REVERSE", -50, 0, "BONUS"),
    ]
    assert (account["balance"], account["debt"], account["lifetimeEarned"]) == (0, 0, 150)
    assert await differences(admin) == []


async def test_a_refunded_order_takes_back_what_it_earned(admin: Api) -> None:
    customer = await create_customer(admin, "Refunded")
    order = await place(admin, customer, "40")
    await place(admin, customer, "60")
    paid = await step(admin, "markOrderPaid", order)
    await step(admin, "refundOrder", paid)
    account = await loyalty(admin, customer)
    assert account["balance"] == 60
    node = account["ledger"]["edges"][0]["node"]
    assert (node["kind"], node["points"]) == ("REVERSE", -40)
    assert node["reason"] == f"order {order['number']} refunded"


async def test_a_refund_after_the_tier_changed_takes_back_what_was_earned(admin: Api) -> None:
    """An order earned at STANDARD and refunded after the member reached SILVER takes back
    what it earned (x1.000), not what it would earn now (x1.250)."""
    customer = await create_customer(admin, "Promoted")
    order = await place(admin, customer, "100")
    await place(admin, customer, "6000")
    assert (await loyalty(admin, customer))["tier"] == {"key": "SILVER"}
    paid = await step(admin, "markOrderPaid", order)
    await step(admin, "refundOrder", paid)
    account = await loyalty(admin, customer)
    assert ledger_of(account)[-1] == ("REVERSE", -100, 0, "ORDER")
    assert account["balance"] == 6000
    assert await differences(admin) == []


async def test_a_reversal_beyond_the_balance_becomes_debt_paid_by_the_next_order(
    admin: Api,
) -> None:
    customer = await create_customer(admin, "Spender")
    order = await place(admin, customer, "100")
    await mutate_ok(
        admin,
        "adjustPoints",
        {"customerId": customer, "points": -80, "reason": "spent at the till"},
        "entry { id }",
    )
    await step(admin, "cancelOrder", order)
    account = await loyalty(admin, customer)
    assert (account["balance"], account["debt"]) == (0, 80)
    assert ledger_of(account)[-1] == ("REVERSE", -20, 80, "ORDER")
    await place(admin, customer, "50")
    assert ((await loyalty(admin, customer))["debt"]) == 30
    await place(admin, customer, "70")
    account = await loyalty(admin, customer)
    assert ledger_of(account)[-2:] == [("EARN", 0, 50, "ORDER"), ("EARN", 40, 30, "ORDER")]
    assert (account["balance"], account["debt"], account["lifetimeEarned"]) == (40, 0, 220)
    assert await differences(admin) == []


async def test_without_auto_enrol_an_order_of_a_non_member_earns_nothing(admin: Api) -> None:
    await set_programme(admin, auto_enrol=False)
    stranger = await create_customer(admin, "Stranger")
    member = await create_customer(admin, "Member")
    await mutate_ok(admin, "enrolCustomer", {"customerId": member}, "account { id }")
    await place(admin, stranger, "100")
    await place(admin, member, "100")
    assert await loyalty(admin, stranger) is None
    assert (await loyalty(admin, member))["balance"] == 100


async def test_an_order_in_a_currency_without_a_rate_earns_nothing(admin: Api) -> None:
    customer = await create_customer(admin, "Abroad")
    order = await place(admin, customer, "100", "USD")
    account = await loyalty(admin, customer)
    assert (account["balance"], account["ledger"]["edges"]) == (0, [])
    await step(admin, "cancelOrder", order)  # nothing to take back
    assert (await loyalty(admin, customer))["ledger"]["edges"] == []


async def test_an_answered_survey_earns_the_survey_bonus_once(admin: Api) -> None:
    customer = await create_customer(admin, "Answering")
    await place(admin, customer, "10")
    response = types.SimpleNamespace(id=7, customer_id=db_id(customer))
    async with admin.db.transaction() as session:
        await orders.on_survey_answered(session, response, None)  # the bonus is off
    await set_programme(admin, survey_bonus=25)
    for _attempt in range(2):
        async with admin.db.transaction() as session:
            await orders.on_survey_answered(session, response, None)
    async with admin.db.read() as session:
        rows = (
            await session.execute(
                select(Entry.points, Entry.source_ref).where(Entry.source == "SURVEY")
            )
        ).all()
    assert [tuple(row) for row in rows] == [(25, "7")]
    assert (await loyalty(admin, customer))["balance"] == 35


async def test_an_order_that_reaches_a_tier_makes_the_next_order_earn_more(admin: Api) -> None:
    customer = await create_customer(admin, "Climber")
    await place(admin, customer, "6000")
    assert (await loyalty(admin, customer))["tier"] == {"key": "SILVER"}
    await place(admin, customer, "100")
    account = await loyalty(admin, customer)
    assert ledger_of(account)[-1] == ("EARN", 125, 0, "ORDER")
    assert account["balance"] == 6125


async def test_an_order_announced_twice_earns_once(admin: Api) -> None:
    customer = await create_customer(admin, "Echo")
    order = types.SimpleNamespace(
        id=424242,
        number="SO424242",
        customer_id=db_id(customer),
        total=decimal.Decimal("30.00"),
        currency="CNY",
        ordered_at=MONDAY,
    )
    for _attempt in range(2):
        async with admin.db.transaction() as session:
            await orders.on_order_placed(session, order, None)
    account = await loyalty(admin, customer)
    assert ledger_of(account) == [("EARN", 30, 0, "ORDER")]
    for _attempt in range(2):
        async with admin.db.transaction() as session:
            await orders.on_order_cancelled(session, order, False, None)
    account = await loyalty(admin, customer)
    assert ledger_of(account)[-1] == ("REVERSE", -30, 0, "ORDER")
    assert len(ledger_of(account)) == 2
    assert await differences(admin) == []


async def test_an_order_beyond_the_points_one_entry_holds_earns_the_most_it_may(
    admin: Api,
) -> None:
    """An order worth more points than one entry moves earns ledger.MAX_POINTS (and says
    what it would have earned) instead of failing the order's placement."""
    customer = await create_customer(admin, "Whale")
    order = types.SimpleNamespace(
        id=515151,
        number="SO515151",
        customer_id=db_id(customer),
        total=decimal.Decimal("2000000000.00"),
        currency="CNY",
        ordered_at=MONDAY,
    )
    async with admin.db.transaction() as session:
        await orders.on_order_placed(session, order, None)
    async with admin.db.read() as session:
        entry = await session.scalar(select(Entry).where(Entry.source_ref == "515151"))
    assert entry is not None
    assert (entry.points, entry.data["uncapped"]) == (ledger.MAX_POINTS, 2_000_000_000)
    assert (await loyalty(admin, customer))["balance"] == ledger.MAX_POINTS
    assert await differences(admin) == []


async def test_the_hooks_lock_the_customer_before_the_account(admin: Api) -> None:
    """Customer row first, then the account, in every hook (the surveys plugin does not lock
    the customer; a tier change then writes its grade): the statements taking row locks name
    customers before loyalty_accounts."""
    if admin.db.dialect != "postgresql":
        pytest.skip("SQLite takes no row locks: its write transactions are serialised")
    customer = await create_customer(admin, "Orderly")
    await place(admin, customer, "10")
    await set_programme(admin, survey_bonus=5)
    order = types.SimpleNamespace(
        id=616161,
        number="SO616161",
        customer_id=db_id(customer),
        total=decimal.Decimal("20"),
        currency="CNY",
        ordered_at=MONDAY,
    )
    response = types.SimpleNamespace(id=8, customer_id=db_id(customer))
    calls: list[Callable[[AsyncSession], Awaitable[None]]] = [
        lambda session: orders.on_survey_answered(session, response, None),
        lambda session: orders.on_order_placed(session, order, None),
        lambda session: orders.on_order_cancelled(session, order, False, None),
    ]
    locks: list[str] = []

    def seen(*args: Any) -> None:
        statement = str(args[2])
        if "FOR UPDATE" in statement:
            locks.append(statement.split("FROM", 1)[1].split()[0])

    for call in calls:
        locks.clear()
        async with admin.db.transaction() as session:
            connection = await session.connection()
            event.listen(connection.sync_connection, "before_cursor_execute", seen)
            try:
                await call(session)
            finally:
                event.remove(connection.sync_connection, "before_cursor_execute", seen)
        first_account = locks.index("loyalty_accounts")
        assert first_account > 0, locks
        assert set(locks[:first_account]) == {"customers"}, locks
    account = await loyalty(admin, customer)
    assert [row[:2] for row in ledger_of(account)[-3:]] == [
        ("EARN", 5),
        ("EARN", 20),
        ("REVERSE", -20),
    ]
    assert await differences(admin) == []
