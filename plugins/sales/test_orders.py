"""Orders over HTTP: placing one (totals and rounding per currency, every refused input),
its status steps and the hooks announcing them, the lists and lookups, who may see and
change what, and the statements a nested page costs.

The helpers at the top (``product``, ``place``, ``ORDER_FIELDS``) are shared with
``test_purchases.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
    AuditEvent,
    CRMPluginManager,
    Database,
    Settings,
    hookimpl,
)
from plugins.sales import models
from plugins.sales.service import orders as service
from plugins.sales.service.orders import MAX_LINES
from plugins.sales.testing import (
    MONDAY,
    create_customer,
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_tools import StatementCounter
from schema.testkit_webhooks import WebhookReceiver, signature_valid

ORDER_FIELDS = """
order {
  id number status currency total { amount currency } orderedAt version source externalRef
  paidAt cancelledAt refundedAt owner { id } customer { id }
  lines {
    product { id sku name } quantity unitPrice { amount currency } discountPercent
    total { amount currency }
  }
}"""

# --- helpers shared with test_purchases.py -------------------------------------------------


async def product(
    api: Api, sku: str, price: str, currency: str = "CNY", *, active: bool = True
) -> str:
    """A catalogue product's global id (written straight to the table)."""
    async with api.db.transaction() as session:
        row = models.Product(
            sku=sku,
            name=f"Product {sku}",
            list_price=decimal.Decimal(price),
            currency=currency,
            active=active,
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        session.add(row)
        await session.flush()
        return gid("Product", row.id)


async def place(
    api: Api, customer: str, lines: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    """The order placed (it must be accepted)."""
    payload = await mutate_ok(
        api, "placeOrder", {"customerId": customer, "lines": lines, **more}, ORDER_FIELDS
    )
    order: dict[str, Any] = payload["order"]
    return order


async def refused(api: Api, input: dict[str, Any]) -> list[tuple[str, str]]:
    errors = await mutate_refused(api, "placeOrder", input, "order { id }")
    return [(error["field"], error["code"]) for error in errors]


def line(product_id: str, quantity: str = "1", **more: Any) -> dict[str, Any]:
    return {"productId": product_id, "quantity": quantity, **more}


# --- placing an order ----------------------------------------------------------------------


async def test_place_order_computes_lines_and_total(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "12.50")
    ink = await product(admin, "INK", "3.33")
    order = await place(
        admin,
        customer,
        [
            line(pen, "3", discountPercent="10"),  # 37.50 less 10% = 33.75
            line(ink, "1.5"),  # 4.995 -> 5.00 (half up)
            line(ink, "2", unitPrice="1.00"),  # 2.00: the given price wins
        ],
    )
    assert order["number"] == "SO000001"
    assert order["status"] == "PLACED"
    assert order["currency"] == "CNY"
    assert order["version"] == 1
    assert order["owner"]["id"] == gid("User", admin.user_id)
    assert order["customer"]["id"] == customer
    assert dt.datetime.fromisoformat(order["orderedAt"]) == clock()
    assert [tuple(li["product"].values()) for li in order["lines"]] == [
        (pen, "PEN", "Product PEN"),
        (ink, "INK", "Product INK"),
        (ink, "INK", "Product INK"),
    ]
    assert [decimal.Decimal(li["quantity"]) for li in order["lines"]] == [3, 1.5, 2]
    assert [li["unitPrice"]["amount"] for li in order["lines"]] == ["12.50", "3.33", "1.00"]
    assert [decimal.Decimal(li["discountPercent"]) for li in order["lines"]] == [10, 0, 0]
    assert [li["total"]["amount"] for li in order["lines"]] == ["33.75", "5.00", "2.00"]
    assert order["total"] == {"amount": "40.75", "currency": "CNY"}
    second = await place(admin, customer, [line(pen)])
    assert second["number"] == "SO000002"


async def test_totals_round_to_the_currency_precision(admin: Api) -> None:
    customer = await create_customer(admin, "Tokyo Trading")
    yen = await product(admin, "JP-1", "999", "JPY")
    # 999 x 1.5 = 1498.5, less 12.5% = 1311.1875 -> 1311 (JPY has no minor unit)
    order = await place(admin, customer, [line(yen, "1.5", discountPercent="12.5")], currency="JPY")
    assert order["lines"][0]["total"] == {"amount": "1311", "currency": "JPY"}
    assert order["lines"][0]["unitPrice"] == {"amount": "999", "currency": "JPY"}
    assert order["total"] == {"amount": "1311", "currency": "JPY"}
    # 0.5 yen rounds half up: 1 x 3 x (1 - 0.5 / 100)... 2.985 -> 3
    small = await place(
        admin, customer, [line(yen, "1", unitPrice="3", discountPercent="0.5")], currency="jpy"
    )
    assert small["total"] == {"amount": "3", "currency": "JPY"}
    cny = await product(admin, "CN-1", "0.05")
    # 0.05 x 0.1 = 0.005 -> 0.01 (CNY two places, half up); 0.05 x 0.09 = 0.0045 -> 0.00
    order = await place(admin, customer, [line(cny, "0.1"), line(cny, "0.09")])
    assert [li["total"]["amount"] for li in order["lines"]] == ["0.01", "0.00"]
    assert order["total"]["amount"] == "0.01"


async def test_list_price_in_another_currency_needs_a_unit_price(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    usd = await product(admin, "US-1", "10.00", "USD")
    cny = await product(admin, "CN-1", "10.00")
    problems = await refused(
        admin, {"customerId": customer, "lines": [line(cny), line(usd)], "currency": "CNY"}
    )
    assert problems == [("lines.1.unitPrice", "REQUIRED")]
    order = await place(admin, customer, [line(usd, unitPrice="70.10")])
    assert order["total"] == {"amount": "70.10", "currency": "CNY"}
    order = await place(admin, customer, [line(usd, "2")], currency="USD")
    assert order["total"] == {"amount": "20.00", "currency": "USD"}


async def test_refused_inputs_name_their_field(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "12.50")
    old = await product(admin, "OLD", "1.00", active=False)
    yen = await product(admin, "JP-1", "100", "JPY")
    base = {"customerId": customer}
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"lines": []}, [("lines", "REQUIRED")]),
        ({"lines": [line(pen)] * (MAX_LINES + 1)}, [("lines", "TOO_LONG")]),
        ({"lines": [line(pen, "0")]}, [("lines.0.quantity", "OUT_OF_RANGE")]),
        ({"lines": [line(pen, "-1")]}, [("lines.0.quantity", "OUT_OF_RANGE")]),
        ({"lines": [line(pen, "1.0001")]}, [("lines.0.quantity", "INVALID")]),
        ({"lines": [line(pen, "1000000000000000")]}, [("lines.0.quantity", "OUT_OF_RANGE")]),
        (
            {"lines": [line(pen, discountPercent="100.01")]},
            [("lines.0.discountPercent", "OUT_OF_RANGE")],
        ),
        (
            {"lines": [line(pen, discountPercent="-1")]},
            [("lines.0.discountPercent", "OUT_OF_RANGE")],
        ),
        ({"lines": [line(pen, discountPercent="1.001")]}, [("lines.0.discountPercent", "INVALID")]),
        ({"lines": [line(pen, unitPrice="1.001")]}, [("lines.0.unitPrice", "INVALID")]),
        ({"lines": [line(pen, unitPrice="-1")]}, [("lines.0.unitPrice", "OUT_OF_RANGE")]),
        (
            {"lines": [line(yen, unitPrice="10.5")], "currency": "JPY"},
            [("lines.0.unitPrice", "INVALID")],
        ),
        ({"lines": [line(gid("Product", 999_999))]}, [("lines.0.productId", "INVALID")]),
        ({"lines": [line(customer)]}, [("lines.0.productId", "INVALID")]),
        ({"lines": [line(pen), line(old)]}, [("lines.1.productId", "BUSINESS_RULE")]),
        ({"lines": [line(pen)], "currency": "XYZ"}, [("currency", "INVALID")]),
        ({"lines": [line(pen)], "currency": "  "}, [("currency", "REQUIRED")]),
        (
            {"lines": [line(pen)], "orderedAt": (clock() + dt.timedelta(minutes=1)).isoformat()},
            [("orderedAt", "OUT_OF_RANGE")],
        ),
        ({"lines": [line(pen)], "ownerId": gid("User", 999_999)}, [("ownerId", "INVALID")]),
        ({"lines": [line(pen)], "ownerId": customer}, [("ownerId", "INVALID")]),
        ({"lines": [line(pen)], "externalRef": "A-1"}, [("source", "REQUIRED")]),
        (
            {"lines": [line(pen)], "source": "shop", "externalRef": "x" * 101},
            [("externalRef", "TOO_LONG")],
        ),
        ({"lines": [line(pen)], "source": "s" * 33}, [("source", "TOO_LONG")]),
        ({"lines": [line(pen, "99999999999999", unitPrice="99")]}, [("lines.0", "OUT_OF_RANGE")]),
        ({"lines": [line(pen, "1", unitPrice="99999999999999")] * 2}, [("lines", "OUT_OF_RANGE")]),
    ]
    for given, expected in cases:
        assert await refused(admin, {**base, **given}) == expected, given
    # several problems at once
    problems = await refused(admin, {**base, "lines": [line(old, "0")], "currency": "XYZ"})
    assert set(problems) == {
        ("currency", "INVALID"),
        ("lines.0.productId", "BUSINESS_RULE"),
        ("lines.0.quantity", "OUT_OF_RANGE"),
    }
    async with admin.db.read() as session:
        assert (await session.scalars(select(models.Order.id))).all() == []


async def test_customer_must_be_one_you_may_sell_to(admin: Api) -> None:
    pen = await product(admin, "PEN", "1.00")
    missing = gid("Customer", 999_999)
    input = {"customerId": missing, "lines": [line(pen)]}
    assert (
        await not_found_argument(admin, "placeOrder", input, "order { id }") == "input.customerId"
    )
    errors = await mutate_refused(
        admin, "placeOrder", {"customerId": pen, "lines": [line(pen)]}, "order { id }"
    )
    assert [(e["field"], e["code"]) for e in errors] == [("customerId", "INVALID")]


async def test_archived_customers_buy_nothing(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    await mutate_ok(admin, "archiveCustomer", {"id": customer, "version": 1}, "customer { id }")
    assert await refused(admin, {"customerId": customer, "lines": [line(pen)]}) == [
        ("customerId", "CONFLICT")
    ]


async def test_ordered_at_and_owner_can_be_given(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    earlier = clock() - dt.timedelta(days=40)
    order = await place(
        admin,
        customer,
        [line(pen)],
        orderedAt=earlier.isoformat(),
        ownerId=gid("User", rep.user_id),
        source=" shop ",
        externalRef=" A-1 ",
    )
    assert dt.datetime.fromisoformat(order["orderedAt"]) == earlier
    assert order["owner"]["id"] == gid("User", rep.user_id)
    assert (order["source"], order["externalRef"]) == ("shop", "A-1")


async def test_external_ref_is_unique_per_source(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    await place(admin, customer, [line(pen)], source="shop", externalRef="A-1")
    again = {"customerId": customer, "lines": [line(pen)], "source": "shop", "externalRef": "A-1"}
    assert await refused(admin, again) == [("externalRef", "DUPLICATE")]
    await place(admin, customer, [line(pen)], source="erp", externalRef="A-1")
    await place(admin, customer, [line(pen)], source="shop", externalRef="A-2")
    await place(admin, customer, [line(pen)], source="shop")
    await place(admin, customer, [line(pen)], source="shop")


async def test_the_same_reference_placed_at_once_is_placed_once(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    input = {"customerId": customer, "lines": [line(pen)], "source": "shop", "externalRef": "R"}
    results = await asyncio.gather(
        *(mutate(admin, "placeOrder", input, "order { id }") for _ in range(4))
    )
    placed = [r for r in results if r["order"] is not None]
    refused_ = [r for r in results if r["order"] is None]
    assert len(placed) == 1
    assert [[(e["field"], e["code"]) for e in r["errors"]] for r in refused_] == [
        [("externalRef", "DUPLICATE")]
    ] * 3


async def test_find_by_external_ref_and_the_race_guard(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An importer finds what a source sent before; two placements of the same reference
    racing past the check meet the unique constraint, and the loser gets DUPLICATE."""
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    placed = await place(admin, customer, [line(pen)], source="shop", externalRef="A-1")
    async with admin.db.read() as session:
        found = await service.find_by_external_ref(session, "shop", "A-1")
        assert found is not None
        assert found.id == db_id(placed["id"])
        assert await service.find_by_external_ref(session, "erp", "A-1") is None

    async def blind(*args: Any) -> None:
        return None

    monkeypatch.setattr(service, "find_by_external_ref", blind)
    again = {"customerId": customer, "lines": [line(pen)], "source": "shop", "externalRef": "A-1"}
    assert await refused(admin, again) == [("externalRef", "DUPLICATE")]
    async with admin.db.read() as session:
        assert len((await session.scalars(select(models.Order.id))).all()) == 1


# --- status steps and hooks ----------------------------------------------------------------


class Listener:
    """A plugin recording the sales hooks it hears."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str, bool | None]] = []

    @hookimpl
    def crm_sales_order_placed(self, session: Any, order: Any, context: Any) -> None:
        assert order.id is not None
        assert order.total is not None
        self.heard.append(("placed", order.number, None))

    @hookimpl
    def crm_sales_order_cancelled(
        self, session: Any, order: Any, refunded: bool, context: Any
    ) -> None:
        self.heard.append(("cancelled", order.number, refunded))


@pytest.fixture
async def heard(
    settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> AsyncIterator[tuple[Api, Listener]]:
    listener = Listener()
    plugin_manager.register(listener, name="listener")
    async with running_app(settings, pm=plugin_manager, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"], lasting=True)
        yield admin, listener


STEP = "order { id status version paidAt cancelledAt refundedAt }"


async def step(api: Api, name: str, order: dict[str, Any]) -> dict[str, Any]:
    payload = await mutate_ok(api, name, {"id": order["id"], "version": order["version"]}, STEP)
    result: dict[str, Any] = payload["order"]
    return result


async def test_steps_move_the_status_and_announce(
    heard: tuple[Api, Listener], clock: FakeClock
) -> None:
    admin, listener = heard
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    first = await place(admin, customer, [line(pen)])
    second = await place(admin, customer, [line(pen)])
    third = await place(admin, customer, [line(pen)])
    clock.advance(hours=1)
    paid = await step(admin, "markOrderPaid", first)
    assert (paid["status"], paid["version"]) == ("PAID", 2)
    assert dt.datetime.fromisoformat(paid["paidAt"]) == clock()
    refunded = await step(admin, "refundOrder", paid)
    assert refunded["status"] == "REFUNDED"
    assert dt.datetime.fromisoformat(refunded["refundedAt"]) == clock()
    cancelled = await step(admin, "cancelOrder", second)
    assert cancelled["status"] == "CANCELLED"
    assert dt.datetime.fromisoformat(cancelled["cancelledAt"]) == clock()
    paid_third = await step(admin, "markOrderPaid", third)
    cancelled_paid = await step(admin, "cancelOrder", paid_third)
    assert cancelled_paid["status"] == "CANCELLED"
    async with admin.db.read() as session:
        actions = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.actor_id)
                .where(AuditEvent.action.like("sales.order.%"))
                .order_by(AuditEvent.id)
            )
        ).all()
    ids = [str(db_id(o["id"])) for o in (first, second, third)]
    assert actions == [
        ("sales.order.placed", ids[0], admin.user_id),
        ("sales.order.placed", ids[1], admin.user_id),
        ("sales.order.placed", ids[2], admin.user_id),
        ("sales.order.paid", ids[0], admin.user_id),
        ("sales.order.refunded", ids[0], admin.user_id),
        ("sales.order.cancelled", ids[1], admin.user_id),
        ("sales.order.paid", ids[2], admin.user_id),
        ("sales.order.cancelled", ids[2], admin.user_id),
    ]
    assert listener.heard == [
        ("placed", "SO000001", None),
        ("placed", "SO000002", None),
        ("placed", "SO000003", None),
        ("cancelled", "SO000001", True),
        ("cancelled", "SO000002", False),
        ("cancelled", "SO000003", False),
    ]


async def test_wrong_steps_and_stale_versions_are_refused(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    placed = await place(admin, customer, [line(pen)])
    wrong = [("refundOrder", placed)]
    paid = await step(admin, "markOrderPaid", await place(admin, customer, [line(pen)]))
    wrong.append(("markOrderPaid", paid))
    refunded = await step(
        admin,
        "refundOrder",
        await step(admin, "markOrderPaid", await place(admin, customer, [line(pen)])),
    )
    wrong += [("markOrderPaid", refunded), ("cancelOrder", refunded), ("refundOrder", refunded)]
    cancelled = await step(admin, "cancelOrder", await place(admin, customer, [line(pen)]))
    wrong += [("markOrderPaid", cancelled), ("cancelOrder", cancelled), ("refundOrder", cancelled)]
    for name, order in wrong:
        input = {"id": order["id"], "version": order["version"]}
        errors = await mutate_refused(admin, name, input, STEP)
        assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID_TRANSITION")], name
    stale = await mutate(admin, "markOrderPaid", {"id": placed["id"], "version": 7}, STEP)
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    assert stale["order"]["version"] == placed["version"]
    missing = {"id": gid("Order", 999_999), "version": 1}
    assert await not_found_argument(admin, "cancelOrder", missing, "order { id }") == "input.id"
    bad = await mutate_refused(admin, "cancelOrder", {"id": customer, "version": 1}, STEP)
    assert [(e["field"], e["code"]) for e in bad] == [("id", "INVALID")]


# --- lists and lookups ---------------------------------------------------------------------

LIST = """
query($filter: OrderFilter, $orderBy: [OrderOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  orders(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
         before: $before) {
    totalCount edges { node { number } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def numbers(api: Api, **variables: Any) -> list[str]:
    return await api.walk(LIST, ["orders"], "number", variables)


async def test_filters_and_orderings(admin: Api, clock: FakeClock) -> None:
    acme = await create_customer(admin, "Acme")
    beta = await create_customer(admin, "Beta")
    pen = await product(admin, "PEN", "1.00")
    ink = await product(admin, "INK", "2.00")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    start = clock()
    o1 = await place(admin, acme, [line(pen)], orderedAt=(start - dt.timedelta(days=3)).isoformat())
    o2 = await place(
        admin,
        acme,
        [line(ink)],
        orderedAt=(start - dt.timedelta(days=2)).isoformat(),
        source="shop",
    )
    o3 = await place(
        admin,
        beta,
        [line(pen), line(ink)],
        orderedAt=(start - dt.timedelta(days=1)).isoformat(),
        ownerId=gid("User", rep.user_id),
    )
    await step(admin, "markOrderPaid", o2)
    assert await numbers(admin) == ["SO000003", "SO000002", "SO000001"]
    order_by = [{"field": "NUMBER", "direction": "ASC"}]
    assert await numbers(admin, orderBy=order_by) == ["SO000001", "SO000002", "SO000003"]
    assert await numbers(admin, filter={"customerId": acme}) == ["SO000002", "SO000001"]
    assert await numbers(admin, filter={"status": ["PAID"]}) == ["SO000002"]
    assert await numbers(admin, filter={"status": ["PLACED", "CANCELLED"]}) == [
        "SO000003",
        "SO000001",
    ]
    window = {"from": (start - dt.timedelta(days=2)).isoformat(), "to": start.isoformat()}
    assert await numbers(admin, filter={"ordered": window}) == ["SO000003", "SO000002"]
    assert await numbers(admin, filter={"source": "shop"}) == ["SO000002"]
    assert await numbers(admin, filter={"ownerId": gid("User", rep.user_id)}) == ["SO000003"]
    assert await numbers(admin, filter={"productId": ink}) == ["SO000003", "SO000002"]
    total = data(await admin.gql(LIST, {"filter": {"productId": pen}}))["orders"]["totalCount"]
    assert total == 2
    # bad arguments name themselves
    for filter, argument in (
        ({"customerId": pen}, "filter.customerId"),
        ({"ownerId": acme}, "filter.ownerId"),
        ({"productId": acme}, "filter.productId"),
        (
            {
                "ordered": {
                    "from": start.isoformat(),
                    "to": (start - dt.timedelta(days=1)).isoformat(),
                }
            },
            "filter.ordered.to",
        ),
    ):
        body = await admin.gql(LIST, {"filter": filter})
        assert body["data"]["orders"] is None
        assert body["errors"][0]["extensions"]["argument"] == argument
    # one by id or number
    one = "query($id: ID, $number: String) { order(id: $id, number: $number) { number } }"
    assert data(await admin.gql(one, {"id": o1["id"]}))["order"] == {"number": "SO000001"}
    assert data(await admin.gql(one, {"number": " so000003 "}))["order"] == {"number": "SO000003"}
    assert data(await admin.gql(one, {"number": "SO999999"}))["order"] is None
    assert error_code(await admin.gql(one, {})) == "BAD_USER_INPUT"
    assert (
        error_code(await admin.gql(one, {"id": o1["id"], "number": "SO000001"})) == "BAD_USER_INPUT"
    )
    node = "query($id: ID!) { node(id: $id) { ... on Order { number total { amount } } } }"
    assert data(await admin.gql(node, {"id": o3["id"]}))["node"] == {
        "number": "SO000003",
        "total": {"amount": "3.00"},
    }


CUSTOMER_ORDERS = """
query($id: ID!) {
  node(id: $id) {
    ... on Customer {
      orders(first: 5) { totalCount edges { node { number lines { product { sku } } } } }
    }
  }
}"""


async def test_customer_orders(admin: Api) -> None:
    acme = await create_customer(admin, "Acme")
    beta = await create_customer(admin, "Beta")
    pen = await product(admin, "PEN", "1.00")
    await place(admin, acme, [line(pen)])
    await place(admin, beta, [line(pen)])
    await place(admin, acme, [line(pen), line(pen)])
    found = data(await admin.gql(CUSTOMER_ORDERS, {"id": acme}))["node"]["orders"]
    assert found["totalCount"] == 2
    assert [e["node"]["number"] for e in found["edges"]] == ["SO000003", "SO000001"]
    assert [len(e["node"]["lines"]) for e in found["edges"]] == [2, 1]


# --- who may see and change what -----------------------------------------------------------


async def test_scoping(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    other = await admin.as_role(SALES_REPRESENTATIVE)
    finance = await admin.as_role(FINANCE)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    mine = await create_customer(admin, "Mine", rep.user_id)
    theirs = await create_customer(admin, "Theirs", other.user_id)
    pen = await product(admin, "PEN", "1.00")
    on_mine = await place(rep, mine, [line(pen)])  # SO000001, owned by rep
    assert on_mine["owner"]["id"] == gid("User", rep.user_id)
    await place(other, theirs, [line(pen)])  # SO000002
    await place(admin, mine, [line(pen)])  # SO000003: admin's, on rep's customer
    sold_by_rep = await place(admin, theirs, [line(pen)], ownerId=gid("User", rep.user_id))
    assert await numbers(rep) == ["SO000004", "SO000003", "SO000001"]
    assert await numbers(other) == ["SO000004", "SO000002"]
    assert await numbers(finance) == ["SO000004", "SO000003", "SO000002", "SO000001"]
    assert await numbers(support) == ["SO000004", "SO000003", "SO000002", "SO000001"]
    # a rep cannot sell to a customer it does not own, nor change another's order
    input = {"customerId": theirs, "lines": [line(pen)]}
    assert await not_found_argument(rep, "placeOrder", input, "order { id }") == "input.customerId"
    hidden = data(await admin.gql(LIST, {"filter": {"source": None}}))
    assert hidden["orders"]["totalCount"] == 4
    theirs_order = data(await admin.gql('query { order(number: "SO000002") { id version } }'))[
        "order"
    ]
    step_input = {"id": theirs_order["id"], "version": theirs_order["version"]}
    assert await not_found_argument(rep, "markOrderPaid", step_input, "order { id }") == "input.id"
    assert (await step(rep, "markOrderPaid", sold_by_rep))["status"] == "PAID"
    # finance and support read but do not write
    for reader in (finance, support):
        body = await reader.gql(
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }",
            {"input": {"customerId": mine, "lines": [line(pen)]}},
        )
        assert body["data"]["placeOrder"] is None
        assert error_code(body) == "FORBIDDEN"
        body = await reader.gql(
            "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id } } }",
            {"input": step_input},
        )
        assert error_code(body) == "FORBIDDEN"
    # without any sales permission the lists are null, FORBIDDEN
    nobody = await admin.user("nobody@example.com", [])
    body = await nobody.gql(LIST)
    assert body["data"]["orders"] is None
    assert error_code(body) == "FORBIDDEN"
    body = await nobody.gql('query { order(number: "SO000001") { id } }')
    assert body["data"]["order"] is None
    assert error_code(body) == "FORBIDDEN"


# --- statements of a nested page -----------------------------------------------------------

NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        orders(first: 3) {
          edges { node { number owner { name } lines { product { name } total { amount } } } }
        }
        purchaseSummary { totalSpent { amount } }
        valueTier
      }
    }
  }
}"""


async def test_nested_orders_cost_the_same_for_2_and_8_customers(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    pen = await product(admin, "PEN", "1.00")
    ink = await product(admin, "INK", "2.00")
    for n in range(8):
        customer = await create_customer(admin, f"Customer {n}")
        for _k in range(2):
            await place(admin, customer, [line(pen), line(ink, "2")])
    counter = count_statements(admin.db)

    async def cost(first: int) -> int:
        counter.reset()
        edges = data(await admin.gql(NESTED, {"first": first}))["customers"]["edges"]
        assert len(edges) == first
        for edge in edges:
            node = edge["node"]
            assert [len(o["node"]["lines"]) for o in node["orders"]["edges"]] == [2, 2]
            assert node["purchaseSummary"] == [{"totalSpent": {"amount": "10.00"}}]
            assert node["valueTier"] == "STANDARD"
        return counter.count

    assert await cost(2) == await cost(8), counter.statements


# --- webhook events ------------------------------------------------------------------------

SUBSCRIBE = """
mutation($url: String!) {
  createWebhookSubscription(input: {
    url: $url, eventTypes: ["sales.order.placed", "sales.order.cancelled"]
  }) { secret errors { field } }
}"""


async def test_order_events_are_posted(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    settings = make_settings(plugins=("fixture", "sales"), webhooks_allow_private=True)
    async with running_app(settings, pm=plugin_manager, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"], lasting=True)
        customer = await create_customer(admin, "Jane Doe")
        pen = await product(admin, "PEN", "12.50")
        async with WebhookReceiver() as receiver:
            secret = data(await admin.gql(SUBSCRIBE, {"url": receiver.url}))[
                "createWebhookSubscription"
            ]["secret"]
            placed = await place(admin, customer, [line(pen, "2")], source="shop", externalRef="A")
            paid = await step(admin, "markOrderPaid", placed)
            await step(admin, "refundOrder", paid)
            other = await place(admin, customer, [line(pen)])
            await step(admin, "cancelOrder", other)
            await api.deliver_outbox()
    assert len(receiver.requests) == 4
    assert all(signature_valid(secret, r) for r in receiver.requests)
    events = [(r.json()["type"], r.json()["data"]) for r in receiver.requests]
    by_number = {(kind, event["order"]["number"]): event for kind, event in events}
    assert set(by_number) == {
        ("sales.order.placed", "SO000001"),
        ("sales.order.placed", "SO000002"),
        ("sales.order.cancelled", "SO000001"),
        ("sales.order.cancelled", "SO000002"),
    }
    first = by_number[("sales.order.placed", "SO000001")]["order"]
    assert first == {
        "id": placed["id"],
        "number": "SO000001",
        "status": "PLACED",
        "customerId": customer,
        "ownerId": gid("User", admin.user_id),
        "orderedAt": placed["orderedAt"],
        "total": {"amount": "25.00", "currency": "CNY"},
        "source": "shop",
    }
    refund = by_number[("sales.order.cancelled", "SO000001")]
    assert (refund["order"]["status"], refund["fromStatus"], refund["refunded"]) == (
        "REFUNDED",
        "PAID",
        True,
    )
    cancel = by_number[("sales.order.cancelled", "SO000002")]
    assert (cancel["order"]["status"], cancel["fromStatus"], cancel["refunded"]) == (
        "CANCELLED",
        "PLACED",
        False,
    )
    assert "Jane" not in str(events)


async def test_customer_fields_need_a_sales_read_permission(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    await place(admin, customer, [line(pen)])
    reader = await admin.as_role(SYSTEM_ADMINISTRATOR)  # reads customers, not sales
    query = """
    query($id: ID!) {
      node(id: $id) {
        ... on Customer {
          name orders(first: 1) { totalCount } purchaseSummary { currency } valueTier
        }
      }
    }"""
    body = await reader.gql(query, {"id": customer})
    assert body["data"]["node"] == {
        "name": "Acme",
        "orders": None,
        "purchaseSummary": None,
        "valueTier": None,
    }
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert sorted(e["path"][-1] for e in body["errors"]) == [
        "orders",
        "purchaseSummary",
        "valueTier",
    ]


async def test_team_scope_reaches_the_team_s_orders(admin: Api) -> None:
    manager = await admin.as_role(CUSTOMER_MANAGER, team="North")
    north = await admin.as_role(SALES_REPRESENTATIVE, team="North")
    south = await admin.as_role(SALES_REPRESENTATIVE, team="South")
    pen = await product(admin, "PEN", "1.00")
    north_customer = await create_customer(admin, "North Co", north.user_id)
    south_customer = await create_customer(admin, "South Co", south.user_id)
    await place(north, north_customer, [line(pen)])  # SO000001
    south_order = await place(south, south_customer, [line(pen)])  # SO000002
    assert await numbers(manager) == ["SO000001"]
    assert await numbers(south) == ["SO000002"]
    input = {"id": south_order["id"], "version": south_order["version"]}
    assert await not_found_argument(manager, "cancelOrder", input, "order { id }") == "input.id"
    placed = await place(manager, north_customer, [line(pen)])
    assert (await step(manager, "markOrderPaid", placed))["status"] == "PAID"


async def test_a_line_too_large_to_round_is_refused_not_a_failure(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "1.00")
    huge = line(pen, "999999999999999", unitPrice="99999999999999")

    assert await refused(admin, {"customerId": customer, "lines": [huge]}) == [
        ("lines.0", "OUT_OF_RANGE")
    ]


async def test_a_reference_of_an_unreachable_customer_is_not_confirmed(
    api: Api, admin: Api
) -> None:
    rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE])
    theirs = await create_customer(admin, "Theirs")
    pen = await product(admin, "PEN", "1.00")
    await place(admin, theirs, [line(pen)], source="shop", externalRef="S-1")

    # The rep learns neither that the customer exists nor that the reference is taken.
    argument = await not_found_argument(
        rep,
        "placeOrder",
        {"customerId": theirs, "lines": [line(pen)], "source": "shop", "externalRef": "S-1"},
        "order { id }",
    )
    assert argument == "input.customerId"


async def test_a_representative_sells_only_in_the_name_of_whom_they_reach(admin: Api) -> None:
    rep = await admin.user("east@example.com", [SALES_REPRESENTATIVE], team="East", lasting=True)
    west = await admin.user("west@example.com", [SALES_REPRESENTATIVE], team="West", lasting=True)
    customer = await create_customer(rep, "Rep's customer")
    pen = await product(admin, "PEN", "1.00")

    colleague = gid("User", west.user_id)
    assert await refused(
        rep, {"customerId": customer, "lines": [line(pen)], "ownerId": colleague}
    ) == [("ownerId", "INVALID")]
    own = await place(rep, customer, [line(pen)], ownerId=gid("User", rep.user_id))
    assert own["owner"]["id"] == gid("User", rep.user_id)
    # The administrator (ALL scope) may book an order to anyone active.
    theirs = await place(admin, customer, [line(pen)], ownerId=colleague)
    assert theirs["owner"]["id"] == colleague
