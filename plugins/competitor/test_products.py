"""Competitors' products and prices through HTTP: products (names unique per competitor
regardless of case, matched to our products through the sales plugin's catalogue hook), the
price history (every refused input names its field; "today" is the deployment's, here
Asia/Shanghai), the ``competitorProducts`` list, who may do what, the audit trail, and
``priceComparison`` on a fixed data set whose figures (latest and previous prices, trend,
difference and percentage, a different currency, a region) are computed by hand below. The
sales plugin disabled: no product of ours can be matched, and the comparison still answers.
Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

import pytest

from core.plugin_api import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    CRMPluginManager,
    RequestContext,
    Settings,
)
from plugins.competitor.models import Product
from plugins.competitor.service import prices, products
from plugins.competitor.testing_profiles import audit_trail, competitor, pairs
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import (
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)

PRODUCT = """competitorProduct { id name category ourProductId version competitor { name }
  ourProduct { id name category listPrice { amount currency } active } }"""
PRICE = """competitorPrice { id price { amount currency } observedOn region source
  reporter { name } product { name } }"""
COMPARISON = """query($category: String, $ourProductId: ID, $region: String) {
  priceComparison(category: $category, ourProductId: $ourProductId, region: $region) {
    productName category theirPrice { amount currency } observedOn region
    previousPrice { amount currency } trend ourProductId ourProductName
    ourPrice { amount currency } difference { amount currency } differencePercent
    product { name } competitor { name } } }"""
PRODUCTS = """query($filter: CompetitorProductFilter, $orderBy: [CompetitorProductOrder!],
  $first: Int, $after: String, $last: Int, $before: String) {
  competitorProducts(filter: $filter, orderBy: $orderBy, first: $first, after: $after,
    last: $last, before: $before) { totalCount edges { node { name } } pageInfo {
    hasNextPage hasPreviousPage startCursor endCursor } } }"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "competitor"), time_zone="Asia/Shanghai")


def money(value: dict[str, str] | None) -> str | None:
    return f"{value['amount']} {value['currency']}" if value is not None else None


async def our_product(
    api: Api, sku: str, name: str, category: str, price: str, currency: str
) -> str:
    input = {
        "sku": sku,
        "name": name,
        "category": category,
        "listPrice": price,
        "currency": currency,
    }
    payload = await mutate_ok(api, "createProduct", input, "product { id }")
    product_id: str = payload["product"]["id"]
    return product_id


async def product(api: Api, competitor_id: str, name: str, **values: Any) -> dict[str, Any]:
    input = {"competitorId": competitor_id, "name": name, **values}
    payload = await mutate_ok(api, "createCompetitorProduct", input, PRODUCT)
    created: dict[str, Any] = payload["competitorProduct"]
    return created


async def price(
    api: Api, product_id: str, amount: str, currency: str, on: str, **values: Any
) -> str:
    input = {"productId": product_id, "amount": amount, "currency": currency, "observedOn": on}
    payload = await mutate_ok(api, "recordCompetitorPrice", input | values, PRICE)
    price_id: str = payload["competitorPrice"]["id"]
    return price_id


async def test_products_are_matched_to_ours_and_named_once_per_competitor(admin: Api) -> None:
    acme = await competitor(admin, "Acme")
    beta = await competitor(admin, "Beta")
    widget = await our_product(admin, "W-1", "Widget", "Widgets", "120.00", "CNY")
    made = await product(admin, acme, " Acme Widget ", category=" Widgets ", ourProductId=widget)
    assert made == {
        "id": made["id"],
        "name": "Acme Widget",
        "category": "Widgets",
        "ourProductId": widget,
        "version": 1,
        "competitor": {"name": "Acme"},
        "ourProduct": {
            "id": widget,
            "name": "Widget",
            "category": "Widgets",
            "listPrice": {"amount": "120.00", "currency": "CNY"},
            "active": True,
        },
    }
    same_name = await product(admin, beta, "ACME WIDGET")
    assert (same_name["ourProductId"], same_name["ourProduct"], same_name["category"]) == (
        None,
        None,
        None,
    )
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": "acme widget"}, [("name", "DUPLICATE")]),
        ({"name": " "}, [("name", "REQUIRED")]),
        ({"name": "n" * 201}, [("name", "TOO_LONG")]),
        ({"category": "c" * 101}, [("category", "TOO_LONG")]),
        ({"ourProductId": gid("Customer", 1)}, [("ourProductId", "INVALID")]),
        ({"competitorId": gid("Product", 1)}, [("competitorId", "INVALID")]),
        ({"name": "", "category": "c" * 101}, [("name", "REQUIRED"), ("category", "TOO_LONG")]),
    ]
    for values, expected in cases:
        input = {"competitorId": acme, "name": "New", **values}
        errors = await mutate_refused(admin, "createCompetitorProduct", input, PRODUCT)
        assert pairs(errors) == expected, values
    duplicate = await mutate_refused(
        admin, "createCompetitorProduct", {"competitorId": acme, "name": "ACME widget"}, PRODUCT
    )
    assert duplicate[0]["message"] == "Acme already has a product named Acme Widget"
    unknown = {"competitorId": acme, "name": "New", "ourProductId": gid("Product", 99999)}
    argument = await not_found_argument(admin, "createCompetitorProduct", unknown, PRODUCT)
    assert argument == "input.ourProductId"
    nobody = {"competitorId": gid("Competitor", 99999), "name": "New"}
    argument = await not_found_argument(admin, "createCompetitorProduct", nobody, PRODUCT)
    assert argument == "input.competitorId"
    # Updates: a match cleared and set again, a rename, a stale version, refused values.
    base = {"id": made["id"], "version": 1}
    cleared = await mutate_ok(
        admin, "updateCompetitorProduct", base | {"ourProductId": None, "category": None}, PRODUCT
    )
    updated = cleared["competitorProduct"]
    assert (updated["ourProductId"], updated["ourProduct"], updated["category"]) == (
        None,
        None,
        None,
    )
    assert updated["version"] == 2
    stale = await mutate(admin, "updateCompetitorProduct", base | {"name": "X"}, PRODUCT)
    assert pairs(stale["errors"]) == [("version", "CONFLICT")]
    assert stale["competitorProduct"]["name"] == "Acme Widget"
    fresh = {"id": made["id"], "version": 2}
    renamed = await mutate_ok(
        admin,
        "updateCompetitorProduct",
        fresh | {"name": "Acme Widget 2", "ourProductId": widget},
        PRODUCT,
    )
    assert (renamed["competitorProduct"]["name"], renamed["competitorProduct"]["ourProductId"]) == (
        "Acme Widget 2",
        widget,
    )
    await product(admin, acme, "Acme Gizmo")
    now = {"id": made["id"], "version": 3}
    errors = await mutate_refused(
        admin, "updateCompetitorProduct", now | {"name": "acme GIZMO"}, PRODUCT
    )
    assert pairs(errors) == [("name", "DUPLICATE")]
    errors = await mutate_refused(admin, "updateCompetitorProduct", now | {"name": None}, PRODUCT)
    assert pairs(errors) == [("name", "REQUIRED")]
    argument = await not_found_argument(
        admin, "updateCompetitorProduct", now | {"ourProductId": gid("Product", 99999)}, PRODUCT
    )
    assert argument == "input.ourProductId"
    argument = await not_found_argument(
        admin,
        "updateCompetitorProduct",
        {"id": gid("CompetitorProduct", 99999), "version": 1},
        PRODUCT,
    )
    assert argument == "input.id"
    trail = await audit_trail(admin, "competitor.product")
    assert [(action, entity) for action, entity, _i, _c in trail] == [
        ("competitor.product.created", "CompetitorProduct"),
        ("competitor.product.created", "CompetitorProduct"),
        ("competitor.product.updated", "CompetitorProduct"),
        ("competitor.product.updated", "CompetitorProduct"),
        ("competitor.product.created", "CompetitorProduct"),
    ]
    assert trail[0][3] == {
        "competitorId": {"before": None, "after": db_id(acme)},
        "name": {"before": None, "after": "Acme Widget"},
        "category": {"before": None, "after": "Widgets"},
        "ourProductId": {"before": None, "after": db_id(widget)},
    }
    assert trail[3][3] == {
        "name": {"before": "Acme Widget", "after": "Acme Widget 2"},
        "ourProductId": {"before": None, "after": db_id(widget)},
    }


async def test_prices_are_recorded_as_history_against_the_deployments_today(
    admin: Api, clock: FakeClock
) -> None:
    # 20:00 UTC is 04:00 the next morning in Asia/Shanghai, the deployment's zone.
    clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    acme = await competitor(admin, "Acme")
    made = await product(admin, acme, "Acme Widget")
    input = {"productId": made["id"], "amount": "99.5", "currency": "cny"}
    recorded = await mutate_ok(
        admin, "recordCompetitorPrice", input | {"region": " Beijing ", "source": " Quote "}, PRICE
    )
    assert recorded["competitorPrice"] == {
        "id": recorded["competitorPrice"]["id"],
        "price": {"amount": "99.50", "currency": "CNY"},
        "observedOn": "2026-11-24",
        "region": "Beijing",
        "source": "Quote",
        "reporter": {"name": "Admin"},
        "product": {"name": "Acme Widget"},
    }
    yen = await price(admin, made["id"], "1500", "JPY", "2026-11-24")
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"amount": "0"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "-1"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "1.234"}, [("amount", "INVALID")]),
        ({"amount": "1.5", "currency": "JPY"}, [("amount", "INVALID")]),
        ({"amount": "100000000000000"}, [("amount", "OUT_OF_RANGE")]),
        ({"currency": "XYZ"}, [("currency", "INVALID")]),
        ({"currency": " "}, [("currency", "REQUIRED")]),
        ({"observedOn": "2026-11-25"}, [("observedOn", "OUT_OF_RANGE")]),
        ({"region": "r" * 101}, [("region", "TOO_LONG")]),
        ({"source": "s" * 501}, [("source", "TOO_LONG")]),
        (
            {"amount": "0", "currency": "XYZ", "observedOn": "2027-01-01"},
            [("currency", "INVALID"), ("amount", "OUT_OF_RANGE"), ("observedOn", "OUT_OF_RANGE")],
        ),
    ]
    for values, expected in cases:
        errors = await mutate_refused(admin, "recordCompetitorPrice", input | values, PRICE)
        assert pairs(errors) == expected, values
    future = await mutate_refused(
        admin, "recordCompetitorPrice", input | {"observedOn": "2026-11-25"}, PRICE
    )
    assert future[0]["message"] == "must not be after today (2026-11-24)"
    await price(admin, made["id"], "98.00", "CNY", "2026-11-24")
    await price(admin, made["id"], "97.00", "CNY", "2026-10-01")
    missing = input | {"productId": gid("CompetitorProduct", 99999)}
    assert await not_found_argument(admin, "recordCompetitorPrice", missing, PRICE) == (
        "input.productId"
    )
    wrong = await mutate_refused(
        admin, "recordCompetitorPrice", input | {"productId": gid("Competitor", 1)}, PRICE
    )
    assert pairs(wrong) == [("productId", "INVALID")]
    history = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      node(id: $id) { ... on CompetitorProduct { latestPrice { price { amount } }
        prices(first: $first, after: $after, last: $last, before: $before) { totalCount
          edges { node { price { amount currency } observedOn } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""
    seen = await admin.walk(history, ["node", "prices"], "price", {"id": made["id"]})
    assert [money(p) for p in seen] == ["98.00 CNY", "1500 JPY", "99.50 CNY", "97.00 CNY"]
    latest = data(await admin.gql(history, {"id": made["id"], "first": 1}))["node"]
    assert latest["latestPrice"] == {"price": {"amount": "98.00"}}
    assert latest["prices"]["totalCount"] == 4
    deleted = await mutate_ok(admin, "deleteCompetitorPrice", {"id": yen}, "deletedId")
    assert deleted["deletedId"] == yen
    assert await not_found_argument(admin, "deleteCompetitorPrice", {"id": yen}, "deletedId") == (
        "input.id"
    )
    trail = await audit_trail(admin, "competitor.price")
    assert [(action, entity) for action, entity, _i, _c in trail] == [
        ("competitor.price.recorded", "CompetitorPrice"),
        ("competitor.price.recorded", "CompetitorPrice"),
        ("competitor.price.recorded", "CompetitorPrice"),
        ("competitor.price.recorded", "CompetitorPrice"),
        ("competitor.price.deleted", "CompetitorPrice"),
    ]
    assert trail[0][3] == {
        "productId": {"before": None, "after": db_id(made["id"])},
        "amount": {"before": None, "after": "99.50"},
        "currency": {"before": None, "after": "CNY"},
        "observedOn": {"before": None, "after": "2026-11-24"},
        "region": {"before": None, "after": "Beijing"},
        "source": {"before": None, "after": "Quote"},
    }
    assert trail[4][2:] == (
        str(db_id(yen)),
        {
            "productId": {"before": db_id(made["id"]), "after": None},
            "amount": {"before": "1500", "after": None},
            "currency": {"before": "JPY", "after": None},
            "observedOn": {"before": "2026-11-24", "after": None},
        },
    )
    # Deleting the product takes its history with it; a stale version is refused.
    stale = await mutate(
        admin, "deleteCompetitorProduct", {"id": made["id"], "version": 2}, "deletedId"
    )
    assert (stale["deletedId"], pairs(stale["errors"])) == (None, [("version", "CONFLICT")])
    removed = await mutate_ok(
        admin, "deleteCompetitorProduct", {"id": made["id"], "version": 1}, "deletedId"
    )
    assert removed["deletedId"] == made["id"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert data(await admin.gql(node, {"id": recorded["competitorPrice"]["id"]}))["node"] is None
    gone = {"id": made["id"], "version": 1}
    assert await not_found_argument(admin, "deleteCompetitorProduct", gone, "deletedId") == (
        "input.id"
    )
    ((_action, _entity, _id, changes),) = await audit_trail(admin, "competitor.product.deleted")
    assert changes == {
        "competitorId": {"before": db_id(acme), "after": None},
        "name": {"before": "Acme Widget", "after": None},
        "prices": {"before": 3, "after": None},
    }


async def test_who_may_record_and_delete(api: Api, admin: Api) -> None:
    acme = await competitor(admin, "Acme")
    made = await product(admin, acme, "Acme Widget")
    rep = await api.as_role(SALES_REPRESENTATIVE)
    manager = await api.as_role(CUSTOMER_MANAGER)
    finance = await api.as_role(FINANCE)
    recorded = await mutate_ok(
        rep,
        "recordCompetitorPrice",
        {"productId": made["id"], "amount": "10.00", "currency": "CNY"},
        PRICE,
    )
    assert recorded["competitorPrice"]["observedOn"] == "2026-11-23"
    assert recorded["competitorPrice"]["reporter"]["name"] != "Admin"
    price_id = recorded["competitorPrice"]["id"]
    for name, input in (
        ("createCompetitorProduct", {"competitorId": acme, "name": "X"}),
        ("updateCompetitorProduct", {"id": made["id"], "version": 1, "name": "X"}),
        ("deleteCompetitorProduct", {"id": made["id"], "version": 1}),
        ("deleteCompetitorPrice", {"id": price_id}),
    ):
        input_type = name[0].upper() + name[1:] + "Input"
        body = await rep.gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
            {"input": input},
        )
        assert error_code(body) == "FORBIDDEN", name
    listed = data(await rep.gql("{ competitorProducts { edges { node { name } } } }"))
    assert listed["competitorProducts"]["edges"] == [{"node": {"name": "Acme Widget"}}]
    assert data(await rep.gql(COMPARISON, {"category": "x"}))["priceComparison"] == []
    for query, variables in (
        ("{ competitorProducts { totalCount } }", {}),
        (COMPARISON, {"category": "x"}),
    ):
        assert error_code(await finance.gql(query, variables)) == "FORBIDDEN"
    assert error_code(await api.gql(COMPARISON, {"category": "x"})) == "UNAUTHENTICATED"
    node = "query($id: ID!) { node(id: $id) { ... on CompetitorPrice { price { amount } } } }"
    assert data(await finance.gql(node, {"id": price_id}))["node"] is None
    await mutate_ok(manager, "deleteCompetitorPrice", {"id": price_id}, "deletedId")


async def test_competitor_products_list_filters_sorts_and_pages(admin: Api) -> None:
    acme = await competitor(admin, "Acme")
    gone = await competitor(admin, "Gone")
    widget = await our_product(admin, "W-1", "Widget", "Widgets", "1.00", "CNY")
    await product(admin, acme, "bolt", category="Hardware")
    await product(admin, acme, "Anchor", category="Hardware", ourProductId=widget)
    await product(admin, acme, "Cable 50%")
    await product(admin, gone, "Drill", category="Hardware", ourProductId=widget)
    await mutate_ok(
        admin,
        "updateCompetitor",
        {"id": gone, "version": 1, "status": "ARCHIVED"},
        "competitor { id }",
    )
    assert await admin.walk(PRODUCTS, ["competitorProducts"], "name") == [
        "Anchor",
        "bolt",
        "Cable 50%",
    ]
    by_category = [{"field": "CATEGORY", "direction": "DESC"}, {"field": "NAME"}]
    found = await admin.walk(PRODUCTS, ["competitorProducts"], "name", {"orderBy": by_category})
    assert found == ["Cable 50%", "Anchor", "bolt"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"competitorId": gone}, ["Drill"]),
        ({"competitorId": acme, "category": "HARDWARE"}, ["Anchor", "bolt"]),
        ({"category": "hardware"}, ["Anchor", "bolt"]),
        ({"ourProductId": widget}, ["Anchor"]),
        ({"ourProductId": widget, "competitorId": gone}, ["Drill"]),
        ({"search": "50%"}, ["Cable 50%"]),
        ({"search": "dril"}, []),
    ]
    for filter, names in cases:
        found = await admin.walk(PRODUCTS, ["competitorProducts"], "name", {"filter": filter})
        assert found == names, filter
    for filter, argument in (
        ({"competitorId": widget}, "filter.competitorId"),
        ({"ourProductId": acme}, "filter.ourProductId"),
        ({"category": "c" * 101}, "filter.category"),
    ):
        body = await admin.gql(PRODUCTS, {"filter": filter})
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument
    # A name is searched by its case-folded key, alike on both databases.
    await product(admin, acme, "Straße Élan")
    for text in ("STRASSE", "straße", "élan", "ÉLAN"):
        found = await admin.walk(
            PRODUCTS, ["competitorProducts"], "name", {"filter": {"search": text}}
        )
        assert found == ["Straße Élan"], text


def row(entry: dict[str, Any]) -> tuple[Any, ...]:
    """A comparison row as (competitor, product, their price, observed on, region, previous,
    trend, our product, our price, difference, percent)."""
    return (
        entry["competitor"]["name"],
        entry["product"]["name"],
        money(entry["theirPrice"]),
        entry["observedOn"],
        entry["region"],
        money(entry["previousPrice"]),
        entry["trend"],
        entry["ourProductName"],
        money(entry["ourPrice"]),
        money(entry["difference"]),
        entry["differencePercent"],
    )


async def test_price_comparison_figures_equal_those_computed_by_hand(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    widget = await our_product(admin, "W-1", "Widget", "Widgets", "120.00", "CNY")
    gadget = await our_product(admin, "G-1", "Gadget", "Gadgets", "25.00", "USD")
    acme, beta, gamma, delta = [
        await competitor(admin, name) for name in ("Acme", "Beta", "Gamma", "Delta")
    ]
    acme_widget = await product(admin, acme, "Acme Widget", category="widgets", ourProductId=widget)
    await product(admin, acme, "Acme Widget Mini", category="Widgets", ourProductId=widget)
    gizmo = await product(admin, acme, "Acme Gizmo", category="Gizmos")
    pro = await product(admin, beta, "Beta Widget Pro", category="WIDGETS", ourProductId=widget)
    lite = await product(admin, beta, "Beta Widget Lite", category="Widgets")
    gamma_widget = await product(
        admin, gamma, "Gamma Widget", category="Widgets", ourProductId=widget
    )
    gamma_gadget = await product(
        admin, gamma, "Gamma Gadget", category="Gadgets", ourProductId=gadget
    )
    delta_widget = await product(
        admin, delta, "Delta Widget", category="Widgets", ourProductId=widget
    )
    for product_id, amount, currency, on, region in (
        (acme_widget["id"], "110.00", "CNY", "2026-08-01", "Beijing"),
        (acme_widget["id"], "120.00", "CNY", "2026-09-01", "Beijing"),
        (acme_widget["id"], "115.00", "CNY", "2026-10-01", "Shanghai"),
        (acme_widget["id"], "118.00", "CNY", "2026-11-01", "Beijing"),
        (gizmo["id"], "5.00", "CNY", "2026-11-01", None),
        (pro["id"], "155.00", "CNY", "2026-10-15", None),
        (pro["id"], "170.00", "CNY", "2026-11-20", None),
        (lite["id"], "60.00", "CNY", "2026-10-01", None),
        (lite["id"], "60.00", "CNY", "2026-11-02", None),
        (gamma_widget["id"], "115.00", "CNY", "2026-06-01", None),
        (gamma_widget["id"], "16.50", "USD", "2026-10-01", None),
        (gamma_widget["id"], "17.00", "USD", "2026-11-01", None),
        (gamma_gadget["id"], "20.00", "USD", "2026-11-10", "Shanghai"),
        (gamma_gadget["id"], "21.00", "USD", "2026-11-10", "Shanghai"),
        (delta_widget["id"], "100.00", "CNY", "2026-11-01", None),
    ):
        await price(admin, product_id, amount, currency, on, region=region)
    await mutate_ok(
        admin,
        "updateCompetitor",
        {"id": delta, "version": 1, "status": "ARCHIVED"},
        "competitor { id }",
    )
    # By hand, our Widget at 120.00 CNY:
    # - Acme Widget: latest 118.00 (Nov 1, Beijing); the Beijing one before it 120.00 (Sep 1):
    #   DOWN; 118 - 120 = -2.00; -2 / 120 = -1.666...% -> -1.7.
    # - Acme Widget Mini: never observed.
    # - Beta Widget Lite: 60.00 after 60.00: FLAT; not matched, so nothing to compare.
    # - Beta Widget Pro: 170.00 after 155.00: UP; +50.00; 50 / 120 = 41.666...% -> 41.7.
    # - Gamma Widget: latest 17.00 USD after 16.50 USD (the CNY price of June is another
    #   series): UP; in USD against our CNY: no difference.
    # - Delta is archived: left out.
    widgets = data(await admin.gql(COMPARISON, {"category": " WIDGETS "}))["priceComparison"]
    assert [row(entry) for entry in widgets] == [
        ("Acme", "Acme Widget", "118.00 CNY", "2026-11-01", "Beijing", "120.00 CNY", "DOWN",
         "Widget", "120.00 CNY", "-2.00 CNY", -1.7),
        ("Acme", "Acme Widget Mini", None, None, None, None, None,
         "Widget", "120.00 CNY", None, None),
        ("Beta", "Beta Widget Lite", "60.00 CNY", "2026-11-02", None, "60.00 CNY", "FLAT",
         None, None, None, None),
        ("Beta", "Beta Widget Pro", "170.00 CNY", "2026-11-20", None, "155.00 CNY", "UP",
         "Widget", "120.00 CNY", "50.00 CNY", 41.7),
        ("Gamma", "Gamma Widget", "17.00 USD", "2026-11-01", None, "16.50 USD", "UP",
         "Widget", "120.00 CNY", None, None),
    ]  # fmt: skip
    assert [(e["productName"], e["category"], e["ourProductId"]) for e in widgets][:2] == [
        ("Acme Widget", "widgets", widget),
        ("Acme Widget Mini", "Widgets", widget),
    ]
    # Matched to our Widget: the same but Beta Widget Lite (not matched).
    matched = data(await admin.gql(COMPARISON, {"ourProductId": widget}))["priceComparison"]
    assert [row(entry) for entry in matched] == [
        row(entry) for entry in widgets if entry["productName"] != "Beta Widget Lite"
    ]
    # Our Gadget at 25.00 USD: two observations on Nov 10, the later recorded one counts:
    # 21.00 after 20.00: UP; 21 - 25 = -4.00 USD; -4 / 25 = -16.0%.
    gadgets = data(await admin.gql(COMPARISON, {"ourProductId": gadget}))["priceComparison"]
    assert [row(entry) for entry in gadgets] == [
        ("Gamma", "Gamma Gadget", "21.00 USD", "2026-11-10", "Shanghai", "20.00 USD", "UP",
         "Gadget", "25.00 USD", "-4.00 USD", -16.0),
    ]  # fmt: skip
    # In Shanghai only: Acme Widget's one price there, 115.00 (no previous): -5.00, -4.166...%.
    shanghai = data(await admin.gql(COMPARISON, {"category": "Widgets", "region": "shanghai"}))
    assert [row(entry) for entry in shanghai["priceComparison"]] == [
        ("Acme", "Acme Widget", "115.00 CNY", "2026-10-01", "Shanghai", None, None,
         "Widget", "120.00 CNY", "-5.00 CNY", -4.2),
        ("Acme", "Acme Widget Mini", None, None, None, None, None,
         "Widget", "120.00 CNY", None, None),
        ("Beta", "Beta Widget Lite", None, None, None, None, None, None, None, None, None),
        ("Beta", "Beta Widget Pro", None, None, None, None, None,
         "Widget", "120.00 CNY", None, None),
        ("Gamma", "Gamma Widget", None, None, None, None, None,
         "Widget", "120.00 CNY", None, None),
    ]  # fmt: skip
    assert data(await admin.gql(COMPARISON, {"category": "Nothing"}))["priceComparison"] == []
    # The battlecard's figures: a competitor's matched products (archived ones too) and the
    # mean of their percentages, unrounded.
    context = RequestContext(settings=admin.settings, db=admin.db, pm=plugin_manager)
    hundred = decimal.Decimal(100)
    acme_delta = decimal.Decimal(-2) / decimal.Decimal(120) * hundred
    pro_delta = decimal.Decimal(50) / decimal.Decimal(120) * hundred
    gadget_delta = decimal.Decimal(-4) / decimal.Decimal(25) * hundred
    async with admin.db.read() as session:
        # Several competitors in one comparison (the battlecards of a page).
        both = await prices.price_comparison(
            session, context, competitor_ids=[db_id(delta), db_id(acme)]
        )
        every = await prices.price_comparison(session, context)
    acme_rows = [r for r in both if r.competitor_id == db_id(acme)]
    delta_rows = [r for r in both if r.competitor_id == db_id(delta)]
    assert [(r.product_name, r.difference_percent) for r in both] == [
        ("Acme Widget", acme_delta),
        ("Acme Widget Mini", None),
        ("Delta Widget", decimal.Decimal(-20) / decimal.Decimal(120) * hundred),
    ]
    assert prices.average_delta(acme_rows) == acme_delta
    assert prices.rounded_percent(prices.average_delta(acme_rows)) == -1.7
    assert [(r.product_name, r.their_amount, r.trend) for r in delta_rows] == [
        ("Delta Widget", decimal.Decimal("100.00"), None)
    ]
    # Delta's 100.00 against our 120.00: -20 / 120 = -16.666...%.
    assert prices.average_delta(delta_rows) == decimal.Decimal(-20) / decimal.Decimal(120) * hundred
    assert [r.product_name for r in every] == [
        "Acme Widget",
        "Acme Widget Mini",
        "Beta Widget Pro",
        "Gamma Gadget",
        "Gamma Widget",
    ]
    expected = (acme_delta + pro_delta + gadget_delta) / 3
    assert prices.average_delta(every) == expected
    assert prices.rounded_percent(expected) == 8.0
    assert prices.average_delta([]) is None
    # The catalogue hook's other question: the active products of ours in a category.
    await our_product(admin, "W-OLD", "Old widget", "widgets", "99.00", "CNY")
    await mutate_ok(
        admin,
        "updateProduct",
        {"id": await our_product(admin, "W-X", "Retired", "Widgets", "1.00", "CNY"), "version": 1}
        | {"active": False},
        "product { id }",
    )
    async with admin.db.read() as session:
        in_category = await products.our_products(session, plugin_manager, None, " WIDGETS ")
        by_ids = await products.our_products(session, plugin_manager, [db_id(gadget), 99999])
        nothing = await products.our_products(session, plugin_manager, [])
    assert [(o.name, o.list_price, o.currency) for o in in_category or []] == [
        ("Old widget", decimal.Decimal("99.00"), "CNY"),
        ("Widget", decimal.Decimal("120.00"), "CNY"),
    ]
    assert [o.name for o in by_ids or []] == ["Gadget"]
    assert nothing == []
    for variables, argument in (
        ({}, "category"),
        ({"category": "  "}, "category"),
        ({"category": "Widgets", "ourProductId": widget}, "ourProductId"),
        ({"ourProductId": acme}, "ourProductId"),
        # longer than the columns compared with: it could match nothing
        ({"category": "c" * 101}, "category"),
        ({"category": "Widgets", "region": "r" * 101}, "region"),
    ):
        body = await admin.gql(COMPARISON, variables)
        assert error_code(body) == "BAD_USER_INPUT", variables
        assert body["errors"][0]["extensions"]["argument"] == argument, variables
    # A region spelt in another case is the same region: Acme Gizmo's 6.50 in HANGZHOU
    # follows its 6.00 in Hangzhou (UP), with or without the region asked for.
    await price(admin, gizmo["id"], "6.00", "CNY", "2026-11-02", region="Hangzhou")
    await price(admin, gizmo["id"], "6.50", "CNY", "2026-11-03", region="HANGZHOU")
    for variables in ({"category": "gizmos"}, {"category": "Gizmos", "region": "hangzhou"}):
        rows = data(await admin.gql(COMPARISON, variables))["priceComparison"]
        assert [row(entry) for entry in rows] == [
            ("Acme", "Acme Gizmo", "6.50 CNY", "2026-11-03", "HANGZHOU", "6.00 CNY", "UP",
             None, None, None, None),
        ], variables  # fmt: skip
    # Our product at 0.00: their price is the whole difference, and no percentage of it.
    free = await our_product(admin, "F-0", "Free sample", "Samples", "0.00", "CNY")
    sample = await product(admin, beta, "Beta Sample", category="Samples", ourProductId=free)
    await price(admin, sample["id"], "3.00", "CNY", "2026-11-05")
    rows = data(await admin.gql(COMPARISON, {"ourProductId": free}))["priceComparison"]
    assert [row(entry) for entry in rows] == [
        ("Beta", "Beta Sample", "3.00 CNY", "2026-11-05", None, None, None,
         "Free sample", "0.00 CNY", "3.00 CNY", None),
    ]  # fmt: skip
    async with admin.db.read() as session:
        beta_rows = await prices.price_comparison(session, context, competitor_ids=[db_id(beta)])
    assert [r.product_name for r in beta_rows] == ["Beta Sample", "Beta Widget Pro"]
    assert prices.average_delta(beta_rows) == pro_delta


async def test_concurrent_creates_of_one_product_name_make_one_product(admin: Api) -> None:
    acme = await competitor(admin, "Acme")
    names = ["Rocket", "ROCKET", "rocket", " Rocket "]
    payloads = await asyncio.gather(
        *(
            mutate(admin, "createCompetitorProduct", {"competitorId": acme, "name": name}, PRODUCT)
            for name in names
        )
    )
    assert len([p for p in payloads if not p["errors"]]) == 1
    assert (
        sorted(pairs(p["errors"]) for p in payloads if p["errors"]) == [[("name", "DUPLICATE")]] * 3
    )
    listed = data(await admin.gql(PRODUCTS, {"filter": {"competitorId": acme}}))
    assert listed["competitorProducts"]["totalCount"] == 1


class TestWithoutSales:
    """The sales plugin disabled: no catalogue answers the hook."""

    @pytest.fixture
    def settings(self, make_settings: Callable[..., Settings]) -> Settings:
        return make_settings(plugins=("fixture", "competitor"))

    async def test_our_products_cannot_be_matched_and_comparison_still_answers(
        self, admin: Api
    ) -> None:
        types = data(
            await admin.gql(
                '{ sales: __type(name: "Product") { name } ours: __type(name: "OurProduct") '
                "{ name } }"
            )
        )
        assert types == {"sales": None, "ours": {"name": "OurProduct"}}
        acme = await competitor(admin, "Acme")
        input = {"competitorId": acme, "name": "Acme Widget", "ourProductId": gid("Product", 1)}
        errors = await mutate_refused(admin, "createCompetitorProduct", input, PRODUCT)
        assert [(e["field"], e["code"], e["message"]) for e in errors] == [
            (
                "ourProductId",
                "BUSINESS_RULE",
                "cannot be set: matching our products needs the sales plugin's catalogue, and "
                "the sales plugin is not enabled",
            )
        ]
        made = await product(admin, acme, "Acme Widget", category="Widgets")
        assert (made["ourProductId"], made["ourProduct"]) == (None, None)
        base = {"id": made["id"], "version": 1}
        errors = await mutate_refused(
            admin, "updateCompetitorProduct", base | {"ourProductId": gid("Product", 1)}, PRODUCT
        )
        assert pairs(errors) == [("ourProductId", "BUSINESS_RULE")]
        await price(admin, made["id"], "118.00", "CNY", "2026-11-01")
        await price(admin, made["id"], "121.00", "CNY", "2026-11-20")
        # A match made while the sales plugin was enabled stays, unanswered.
        async with admin.db.transaction() as session:
            stored = await session.get(Product, db_id(made["id"]))
            assert stored is not None
            stored.our_product_id = 7
        node = data(
            await admin.gql(
                "query($id: ID!) { node(id: $id) { ... on CompetitorProduct { ourProductId "
                "ourProduct { name } } } }",
                {"id": made["id"]},
            )
        )
        assert node["node"] == {"ourProductId": gid("Product", 7), "ourProduct": None}
        expected = [
            ("Acme", "Acme Widget", "121.00 CNY", "2026-11-20", None, "118.00 CNY", "UP",
             None, None, None, None),
        ]  # fmt: skip
        for variables in ({"category": "widgets"}, {"ourProductId": gid("Product", 7)}):
            rows = data(await admin.gql(COMPARISON, variables))["priceComparison"]
            assert [row(entry) for entry in rows] == expected, variables
            assert rows[0]["ourProductId"] == gid("Product", 7)
        cleared = await mutate_ok(
            admin,
            "updateCompetitorProduct",
            {"id": made["id"], "version": 2, "ourProductId": None},
            PRODUCT,
        )
        assert cleared["competitorProduct"]["ourProductId"] is None
