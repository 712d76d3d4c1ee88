"""A customer's purchase summary and value tier over HTTP: figures computed by hand, the
tier bands and their boundaries, the tier kept on every order change and by the daily job
as the 12-month window slides, and who may read them."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from plugins.sales import models
from plugins.sales.service import purchases
from plugins.sales.test_orders import line, place, product, step
from plugins.sales.testing import create_customer, data
from schema.testkit import Api, FakeClock
from schema.testkit_tools import run_periodic_jobs

SUMMARY = """
query($id: ID!) {
  node(id: $id) {
    ... on Customer {
      valueTier
      purchaseSummary {
        currency orderCount totalSpent { amount currency } averageOrderValue { amount currency }
        firstOrderAt lastOrderAt spentLast12Months { amount currency }
      }
    }
  }
}"""


async def summary(api: Api, customer: str) -> dict[str, Any]:
    node: dict[str, Any] = data(await api.gql(SUMMARY, {"id": customer}))["node"]
    return node


async def tier(api: Api, customer: str) -> str:
    value: str = (await summary(api, customer))["valueTier"]
    return value


def ago(clock: FakeClock, days: int) -> str:
    return (clock() - dt.timedelta(days=days)).isoformat()


def money(amount: str, currency: str) -> dict[str, str]:
    return {"amount": amount, "currency": currency}


async def test_summary_per_currency_computed_by_hand(admin: Api, clock: FakeClock) -> None:
    acme = await create_customer(admin, "Acme")
    cny = await product(admin, "CN", "1.00")
    jpy = await product(admin, "JP", "1", "JPY")
    usd = await product(admin, "US", "1.00", "USD")

    async def order(product_id: str, price: str, days: int, **more: Any) -> dict[str, Any]:
        lines = [line(product_id, unitPrice=price)]
        return await place(admin, acme, lines, orderedAt=ago(clock, days), **more)

    a = await order(cny, "100.00", 400)  # before the 12 months
    await step(admin, "markOrderPaid", a)  # PAID counts
    await order(cny, "200.50", 300)
    c = await order(cny, "300.25", 1)
    await step(admin, "cancelOrder", await order(cny, "999.00", 2))  # not counted
    refunded = await step(admin, "markOrderPaid", await order(cny, "50.00", 3))
    await step(admin, "refundOrder", refunded)  # not counted
    await order(jpy, "1000", 10, currency="JPY")
    await order(jpy, "101", 20, currency="JPY")
    await order(usd, "20.00", 500, currency="USD")
    found = await summary(admin, acme)
    assert found["purchaseSummary"] == [
        {
            "currency": "CNY",
            "orderCount": 3,
            "totalSpent": money("600.75", "CNY"),
            "averageOrderValue": money("200.25", "CNY"),
            "firstOrderAt": a["orderedAt"],
            "lastOrderAt": c["orderedAt"],
            "spentLast12Months": money("500.75", "CNY"),
        },
        {
            "currency": "JPY",
            "orderCount": 2,
            "totalSpent": money("1101", "JPY"),
            "averageOrderValue": money("551", "JPY"),  # 550.5 rounds half up
            "firstOrderAt": ago(clock, 20),
            "lastOrderAt": ago(clock, 10),
            "spentLast12Months": money("1101", "JPY"),
        },
        {
            "currency": "USD",
            "orderCount": 1,
            "totalSpent": money("20.00", "USD"),
            "averageOrderValue": money("20.00", "USD"),
            "firstOrderAt": ago(clock, 500),
            "lastOrderAt": ago(clock, 500),
            "spentLast12Months": money("0.00", "USD"),
        },
    ]
    assert found["valueTier"] == "STANDARD"  # 500.75 CNY over the 12 months
    empty = await create_customer(admin, "Nobody bought")
    assert await summary(admin, empty) == {"valueTier": "STANDARD", "purchaseSummary": []}


async def test_average_rounds_to_the_currency(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    cny = await product(admin, "CN", "10.00")
    for price in ("10.00", "10.00", "10.01"):
        await place(admin, customer, [line(cny, unitPrice=price)])
    (cny_summary,) = (await summary(admin, customer))["purchaseSummary"]
    assert cny_summary["totalSpent"]["amount"] == "30.01"
    assert cny_summary["averageOrderValue"]["amount"] == "10.00"  # 10.0033...


async def test_tier_bands_and_boundaries(admin: Api, clock: FakeClock) -> None:
    cny = await product(admin, "CN", "1.00")
    usd = await product(admin, "US", "1.00", "USD")
    cases = [
        ([("100000.00", 0)], "HIGH"),  # exactly the HIGH band
        ([("60000.00", 0), ("40000.00", 100)], "HIGH"),
        ([("99999.99", 0)], "MEDIUM"),
        ([("50000.00", 0)], "MEDIUM"),  # exactly the MEDIUM band
        ([("49999.99", 0)], "STANDARD"),
        ([("100000.00", 400)], "STANDARD"),  # before the 12 months
    ]
    for n, (orders, expected) in enumerate(cases):
        customer = await create_customer(admin, f"Customer {n}")
        for amount, days in orders:
            await place(admin, customer, [line(cny, unitPrice=amount)], orderedAt=ago(clock, days))
        assert await tier(admin, customer) == expected, orders
    other_currency = await create_customer(admin, "Dollar buyer")
    await place(admin, other_currency, [line(usd, "200000")], currency="USD")
    assert await tier(admin, other_currency) == "STANDARD"  # spend counts in CNY only


async def test_tier_follows_every_order_change(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    cny = await product(admin, "CN", "1.00")
    big = await place(admin, customer, [line(cny, unitPrice="60000.00")])
    assert await tier(admin, customer) == "MEDIUM"
    small = await place(admin, customer, [line(cny, unitPrice="40000.00")])
    assert await tier(admin, customer) == "HIGH"
    paid = await step(admin, "markOrderPaid", small)
    assert await tier(admin, customer) == "HIGH"  # paid still counts
    await step(admin, "refundOrder", paid)
    assert await tier(admin, customer) == "MEDIUM"
    await step(admin, "cancelOrder", big)
    assert await tier(admin, customer) == "STANDARD"
    async with admin.db.read() as session:
        row = await session.scalar(select(models.CustomerValue))
        assert row is not None
        assert (row.spent_12m, row.tier) == (decimal.Decimal(0), "STANDARD")


async def test_daily_job_slides_the_window(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    steady = await create_customer(admin, "Steady")
    cny = await product(admin, "CN", "1.00")
    await place(admin, customer, [line(cny, unitPrice="100000.00")], orderedAt=ago(clock, 363))
    await place(admin, steady, [line(cny, unitPrice="100000.00")])
    pm = admin.app.state.crm.pm

    async def run() -> int:
        done = await run_periodic_jobs(admin.db, admin.settings, pm, clock())
        return done["sales.value_tiers"]["customer value tiers recomputed"]

    assert await run() == 0  # computed today already
    assert await tier(admin, customer) == "HIGH"
    clock.advance(days=3)  # the order is now 366 days old
    assert await tier(admin, customer) == "HIGH"  # as stored until the job runs
    (found,) = (await summary(admin, customer))["purchaseSummary"]
    assert found["spentLast12Months"]["amount"] == "0.00"  # computed on reading
    assert await run() == 2
    assert await tier(admin, customer) == "STANDARD"
    assert await tier(admin, steady) == "HIGH"
    assert await run() == 0  # idempotent: nothing left from before today
    assert await tier(admin, customer) == "STANDARD"
    async with admin.db.read() as session:
        days = set((await session.scalars(select(models.CustomerValue.computed_on))).all())
    assert days == {clock().astimezone(admin.settings.zone).date()}


async def test_daily_job_works_in_batches(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More customers than a batch: every one recomputed, a batch per transaction."""
    monkeypatch.setattr(purchases, "BATCH", 2)
    cny = await product(admin, "CN", "1.00")
    customers = [await create_customer(admin, f"Customer {n}") for n in range(5)]
    for customer in customers:
        await place(admin, customer, [line(cny, unitPrice="60000.00")], orderedAt=ago(clock, 364))
    clock.advance(days=2)
    pm = admin.app.state.crm.pm
    done = await run_periodic_jobs(admin.db, admin.settings, pm, clock())
    assert done["sales.value_tiers"]["customer value tiers recomputed"] == 5
    for customer in customers:
        assert await tier(admin, customer) == "STANDARD"


async def test_who_may_read_summaries_and_tiers(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    finance = await admin.as_role(FINANCE)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    mine = await create_customer(admin, "Mine", rep.user_id)
    cny = await product(admin, "CN", "1.00")
    await place(admin, mine, [line(cny, unitPrice="70000.00")])
    await place(rep, mine, [line(cny, unitPrice="1.00")])
    expected = await summary(admin, mine)
    assert expected["valueTier"] == "MEDIUM"
    assert expected["purchaseSummary"][0]["orderCount"] == 2
    for reader in (rep, finance, support):
        assert await summary(reader, mine) == expected


async def test_main_currency_and_bands_come_from_settings(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SALES_CURRENCY", "usd")
    monkeypatch.setenv("CRM_SALES_VALUE_TIER_HIGH", "1000")
    monkeypatch.setenv("CRM_SALES_VALUE_TIER_MEDIUM", "500")
    usd = await product(admin, "US", "250.00", "USD")
    cny = await product(admin, "CN", "1.00")
    high = await create_customer(admin, "High")
    order = await place(admin, high, [line(usd, "4")])  # no currency given: the main one
    assert order["total"] == money("1000.00", "USD")
    assert await tier(admin, high) == "HIGH"
    medium = await create_customer(admin, "Medium")
    await place(admin, medium, [line(usd, "2")])
    assert await tier(admin, medium) == "MEDIUM"
    yuan = await create_customer(admin, "Yuan")
    await place(admin, yuan, [line(cny, "200000")], currency="CNY")
    assert await tier(admin, yuan) == "STANDARD"
