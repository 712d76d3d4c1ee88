"""The product catalogue through the API: sales:manage writes, sales:read reads; SKUs are
unique; prices are Decimal at their currency's precision; versions guard updates; lists
filter, sort and page."""

from __future__ import annotations

import asyncio
from typing import Any

from core.plugin_api import CUSTOMER_MANAGER, FINANCE, SALES_REPRESENTATIVE
from plugins.sales.testing import data, error_code, gid, mutate, mutate_ok, mutate_refused
from schema.testkit import Api

PRODUCT = "product { id sku name category listPrice { amount currency } active version }"


async def create(api: Api, sku: str, **values: Any) -> dict[str, Any]:
    input = {"sku": sku, "name": f"Product {sku}", "listPrice": "10.00"} | values
    payload = await mutate_ok(api, "createProduct", input, PRODUCT)
    product: dict[str, Any] = payload["product"]
    return product


async def test_create_product_defaults_currency_and_normalises_sku(admin: Api) -> None:
    product = await create(admin, " ab-100 ", name=" Widget ", category="Tools")
    assert product["sku"] == "AB-100"
    assert product["name"] == "Widget"
    assert product["category"] == "Tools"
    assert product["listPrice"] == {"amount": "10.00", "currency": "CNY"}
    assert product["active"] is True
    assert product["version"] == 1
    yen = await create(admin, "JP-1", listPrice="1500", currency="jpy")
    assert yen["listPrice"] == {"amount": "1500", "currency": "JPY"}


async def test_refused_product_inputs_name_their_field(admin: Api) -> None:
    await create(admin, "TAKEN")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"sku": "taken"}, "sku", "DUPLICATE"),
        ({"sku": "  "}, "sku", "REQUIRED"),
        ({"sku": "HAS SPACE"}, "sku", "INVALID"),
        ({"sku": "X" * 65}, "sku", "TOO_LONG"),
        ({"name": ""}, "name", "REQUIRED"),
        ({"category": "c" * 101}, "category", "TOO_LONG"),
        ({"listPrice": "-1"}, "listPrice", "OUT_OF_RANGE"),
        ({"listPrice": "1.234"}, "listPrice", "INVALID"),
        ({"listPrice": "1.5", "currency": "JPY"}, "listPrice", "INVALID"),
        ({"listPrice": "100000000000000"}, "listPrice", "OUT_OF_RANGE"),
        ({"currency": "XYZ"}, "currency", "INVALID"),
    ]
    for values, field, code in cases:
        input = {"sku": "NEW-1", "name": "New", "listPrice": "1.00"} | values
        errors = await mutate_refused(admin, "createProduct", input, PRODUCT)
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], values
    listed = data(await admin.gql("{ products { totalCount } }"))
    assert listed["products"]["totalCount"] == 1


async def test_update_product_changes_given_fields_and_checks_version(admin: Api) -> None:
    product = await create(admin, "UP-1", category="Old")
    other = await create(admin, "UP-2")
    base = {"id": product["id"], "version": product["version"]}
    payload = await mutate_ok(
        admin,
        "updateProduct",
        base | {"name": "Renamed", "category": None, "listPrice": "12.5", "active": False},
        PRODUCT,
    )
    updated = payload["product"]
    assert updated["name"] == "Renamed"
    assert updated["category"] is None
    assert updated["sku"] == "UP-1"
    assert updated["listPrice"] == {"amount": "12.50", "currency": "CNY"}
    assert updated["active"] is False
    assert updated["version"] == 2
    stale = await mutate(admin, "updateProduct", base | {"name": "Again"}, PRODUCT)
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["product"]["name"] == "Renamed"
    fresh = {"id": product["id"], "version": 2}
    errors = await mutate_refused(admin, "updateProduct", fresh | {"sku": other["sku"]}, PRODUCT)
    assert [(e["field"], e["code"]) for e in errors] == [("sku", "DUPLICATE")]
    errors = await mutate_refused(admin, "updateProduct", fresh | {"currency": "JPY"}, PRODUCT)
    assert [(e["field"], e["code"]) for e in errors] == [("listPrice", "INVALID")]
    errors = await mutate_refused(admin, "updateProduct", fresh | {"active": None}, PRODUCT)
    assert [(e["field"], e["code"]) for e in errors] == [("active", "REQUIRED")]
    errors = await mutate_refused(admin, "updateProduct", fresh | {"name": " "}, PRODUCT)
    assert [(e["field"], e["code"]) for e in errors] == [("name", "REQUIRED")]
    moved = await mutate_ok(
        admin, "updateProduct", fresh | {"currency": "USD", "listPrice": "3.99"}, PRODUCT
    )
    assert moved["product"]["listPrice"] == {"amount": "3.99", "currency": "USD"}


async def test_update_of_unknown_product_is_not_found(admin: Api) -> None:
    body = await admin.gql(
        "mutation($input: UpdateProductInput!) { "
        "updateProduct(input: $input) { errors { field } } }",
        {"input": {"id": gid("Product", 999), "version": 1, "name": "x"}},
    )
    assert error_code(body) == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "input.id"
    errors = await mutate_refused(
        admin, "updateProduct", {"id": gid("Customer", 1), "version": 1}, PRODUCT
    )
    assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID")]


async def test_product_lists_filter_sort_and_page(admin: Api) -> None:
    await create(admin, "B-2", name="Bolt", category="Hardware", listPrice="2.00")
    await create(admin, "A-1", name="Anchor", category="Hardware", listPrice="5.00")
    await create(admin, "C-3", name="Cable", category="Wiring", listPrice="1.00", active=False)
    query = """query($filter: ProductFilter, $orderBy: [ProductOrder!], $first: Int,
      $after: String, $last: Int, $before: String) {
      products(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
        before: $before) { totalCount edges { node { sku } } pageInfo {
        hasNextPage hasPreviousPage startCursor endCursor } } }"""
    assert await admin.walk(query, ["products"], "sku") == ["A-1", "B-2", "C-3"]
    by_price = [{"field": "LIST_PRICE", "direction": "DESC"}]
    assert await admin.walk(query, ["products"], "sku", {"orderBy": by_price}) == [
        "A-1",
        "B-2",
        "C-3",
    ]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"category": "Hardware"}, ["A-1", "B-2"]),
        ({"active": False}, ["C-3"]),
        ({"active": True}, ["A-1", "B-2"]),
        ({"search": "cab"}, ["C-3"]),
        ({"search": "a-1"}, ["A-1"]),
        ({"search": "%"}, []),
    ]
    for filter, skus in cases:
        found = await admin.walk(query, ["products"], "sku", {"filter": filter})
        assert found == skus, filter
    one = """query($id: ID, $sku: String) { product(id: $id, sku: $sku) { sku name } }"""
    assert data(await admin.gql(one, {"sku": "b-2"}))["product"]["name"] == "Bolt"
    assert data(await admin.gql(one, {"sku": "nope"}))["product"] is None
    listed = data(await admin.gql("{ products(first: 1) { edges { node { id sku } } } }"))
    node = listed["products"]["edges"][0]["node"]
    assert data(await admin.gql(one, {"id": node["id"]}))["product"]["sku"] == node["sku"]
    assert error_code(await admin.gql(one, {})) == "BAD_USER_INPUT"
    assert error_code(await admin.gql(one, {"id": node["id"], "sku": "A-1"})) == "BAD_USER_INPUT"
    by_node = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on Product { sku } } }", {"id": node["id"]}
        )
    )
    assert by_node["node"]["sku"] == node["sku"]


async def test_only_sales_managers_write_the_catalogue(api: Api, admin: Api) -> None:
    await create(admin, "P-1")
    rep = await api.as_role(SALES_REPRESENTATIVE)
    manager = await api.as_role(CUSTOMER_MANAGER)
    finance = await api.as_role(FINANCE)
    input = {"sku": "P-2", "name": "Two", "listPrice": "1.00"}
    body = await rep.gql(
        "mutation($input: CreateProductInput!) { "
        "createProduct(input: $input) { errors { field } } }",
        {"input": input},
    )
    assert error_code(body) == "FORBIDDEN"
    listed = data(await rep.gql("{ products { edges { node { sku } } } }"))
    assert [e["node"]["sku"] for e in listed["products"]["edges"]] == ["P-1"]
    await create(manager, "P-2")
    assert error_code(await finance.gql("{ products { totalCount } }")) == "FORBIDDEN"


async def test_concurrent_creates_of_one_sku_make_one_product(admin: Api) -> None:
    input = {"sku": "RACE-1", "name": "Race", "listPrice": "1.00"}
    payloads = await asyncio.gather(
        *(mutate(admin, "createProduct", input, PRODUCT) for _n in range(5))
    )
    made = [p for p in payloads if not p["errors"]]
    assert len(made) == 1
    for payload in payloads:
        if payload["errors"]:
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [("sku", "DUPLICATE")]
    listed = data(await admin.gql("{ products { totalCount } }"))
    assert listed["products"]["totalCount"] == 1
