"""Core's customer changes reach every sales record: archiving (and erasing) a customer with
open opportunities or ACTIVE contracts is refused with their counts; erasing blanks the free
text of opportunities and contracts (and their audit values) and keeps the business data;
merging moves opportunities, contracts and orders and drops the source's value row.

Opportunities and orders are written here straight through the models (their mutations are
another part's); every check goes through HTTP or reads the tables. Each test runs on a fresh
database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from sqlalchemy import select

from core.plugin_api import ERASED
from plugins.sales.models import Contract, CustomerValue, Opportunity, Order, Stage
from plugins.sales.test_contracts import CONTRACT, create_contract, step
from plugins.sales.testing import MONDAY, create_customer, data, db_id, mutate, mutate_ok
from schema.testkit import Api

TRAIL = """
query($id: ID!) {
  auditEvents(first: 50, filter: {entityId: $id}) {
    edges { node { action changes { field before after } } }
  }
}"""


async def opportunity(api: Api, customer: str, number: str, stage: str, **values: Any) -> int:
    """An opportunity written through the model, at ``stage`` (a key); its id."""
    async with api.db.transaction() as session:
        stage_id = await session.scalar(select(Stage.id).where(Stage.key == stage))
        row = Opportunity(
            number=number,
            customer_id=db_id(customer),
            owner_id=api.user_id,
            title=values.pop("title", "Fleet of printers for Jane Doe"),
            amount=decimal.Decimal("5000.00"),
            currency="CNY",
            stage_id=stage_id,
            competitors=["Globex"],
            created_at=MONDAY,
            updated_at=MONDAY,
            **values,
        )
        session.add(row)
        await session.flush()
        return row.id


async def order(api: Api, customer: str, number: str, external_ref: str | None = None) -> int:
    async with api.db.transaction() as session:
        row = Order(
            number=number,
            customer_id=db_id(customer),
            owner_id=api.user_id,
            ordered_at=MONDAY,
            status="PAID",
            currency="CNY",
            total=decimal.Decimal("300.00"),
            source="shop" if external_ref else None,
            external_ref=external_ref,
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        session.add(row)
        await session.flush()
        return row.id


async def value_row(api: Api, customer: str, spent: str, tier: str) -> None:
    async with api.db.transaction() as session:
        session.add(
            CustomerValue(
                customer_id=db_id(customer),
                spent_12m=decimal.Decimal(spent),
                tier=tier,
                computed_on=MONDAY.date(),
            )
        )


async def version_of(api: Api, customer: str) -> int:
    body = await api.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": customer})
    version: int = data(body)["customer"]["version"]
    return version


async def archive(api: Api, customer: str) -> list[tuple[str, str, str]]:
    input = {"id": customer, "version": await version_of(api, customer)}
    payload = await mutate(api, "archiveCustomer", input, "customer { archivedAt }")
    return [(e["field"], e["code"], e["message"]) for e in payload["errors"]]


async def erase(api: Api, customer: str) -> list[tuple[str, str, str]]:
    input = {"id": customer, "version": await version_of(api, customer), "reason": "GDPR 42"}
    payload = await mutate(api, "eraseCustomer", input, "customer { erasedAt }")
    return [(e["field"], e["code"], e["message"]) for e in payload["errors"]]


async def test_open_opportunities_and_active_contracts_refuse_archiving_with_counts(
    admin: Api,
) -> None:
    customer = await create_customer(admin, "Acme")
    number = data(
        await admin.gql("query($id: ID!) { customer(id: $id) { number } }", {"id": customer})
    )["customer"]["number"]
    await opportunity(admin, customer, "O000001", "LEAD")
    await opportunity(admin, customer, "O000002", "WON", closed_at=MONDAY)  # closed: no matter
    first = await step(admin, "activateContract", await create_contract(admin, customer))
    second = await step(admin, "activateContract", await create_contract(admin, customer))
    await create_contract(admin, customer)  # a draft: no matter
    assert await archive(admin, customer) == [
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 1 open opportunity; win, lose or move it before the "
            "customer can be archived",
        ),
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 2 active contracts; terminate them or let them expire "
            "before the customer can be archived",
        ),
    ]
    assert await erase(admin, customer) == [
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 1 open opportunity; win, lose or move it before the "
            "customer can be erased",
        ),
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 2 active contracts; terminate them or let them expire "
            "before the customer can be erased",
        ),
    ]
    await opportunity(admin, customer, "O000003", "NEGOTIATION")
    await step(admin, "terminateContract", first)
    assert await archive(admin, customer) == [
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 2 open opportunities; win, lose or move them before the "
            "customer can be archived",
        ),
        (
            "id",
            "BUSINESS_RULE",
            f"customer {number} has 1 active contract; terminate it or let it expire before "
            "the customer can be archived",
        ),
    ]
    async with admin.db.transaction() as session:
        lost = await session.scalar(select(Stage.id).where(Stage.key == "LOST"))
        assert lost is not None
        for row in await session.scalars(select(Opportunity)):
            row.stage_id = lost
    await step(admin, "terminateContract", second)
    assert await archive(admin, customer) == []


async def test_erasure_blanks_the_free_text_and_keeps_the_business_data(admin: Api) -> None:
    customer = await create_customer(admin, "Jane Doe")
    kept = await create_customer(admin, "John Roe")
    made = await mutate_ok(
        admin, "createContact", {"customerId": customer, "name": "Jane Doe"}, "contact { id }"
    )
    contact_id = db_id(made["contact"]["id"])
    lost = await opportunity(
        admin,
        customer,
        "O000001",
        "LOST",
        contact_id=contact_id,
        next_step="Call Jane at home",
        lost_reason="OTHER",
        lost_reason_text="Jane moved to Paris",
        closed_at=MONDAY,
    )
    won = await opportunity(admin, customer, "O000002", "WON", closed_at=MONDAY)
    other = await opportunity(admin, kept, "O000003", "LOST", next_step="Call John")
    contract = await create_contract(admin, customer, title="Jane's home support")
    contract = await step(admin, "activateContract", contract)
    contract = await step(admin, "terminateContract", contract)
    theirs = await create_contract(admin, kept, title="John's support")
    await order(admin, customer, "SO000001", external_ref="SHOP-1001")
    before = data(await admin.gql(TRAIL, {"id": contract["id"]}))["auditEvents"]["edges"]
    assert "Jane" in json.dumps(before)

    assert await erase(admin, customer) == []

    async with admin.db.read() as session:
        rows = {o.id: o for o in await session.scalars(select(Opportunity))}
        orders = list(await session.scalars(select(Order)))
    assert (rows[lost].title, rows[lost].next_step, rows[lost].lost_reason_text) == (
        ERASED,
        ERASED,
        ERASED,
    )
    assert rows[lost].contact_id is None
    assert (rows[lost].lost_reason, rows[lost].amount, rows[lost].competitors) == (
        "OTHER",
        decimal.Decimal("5000.00"),
        ["Globex"],
    )
    assert (rows[won].title, rows[won].next_step, rows[won].lost_reason_text) == (
        ERASED,
        None,
        None,
    )
    assert (rows[other].title, rows[other].next_step) == (
        "Fleet of printers for Jane Doe",
        "Call John",
    )
    assert [(o.number, o.external_ref, o.total) for o in orders] == [
        ("SO000001", "SHOP-1001", decimal.Decimal("300.00"))
    ]
    query = f"query($id: ID!) {{ {CONTRACT.replace('contract {', 'contract(id: $id) {', 1)} }}"
    shown = data(await admin.gql(query, {"id": contract["id"]}))["contract"]
    assert (shown["title"], shown["status"], shown["number"]) == (ERASED, "TERMINATED", "CT000001")
    assert shown["value"] == {"amount": "12000.00", "currency": "CNY"}
    assert (
        data(await admin.gql(query, {"id": theirs["id"]}))["contract"]["title"] == "John's support"
    )
    after = data(await admin.gql(TRAIL, {"id": contract["id"]}))["auditEvents"]["edges"]
    assert [e["node"]["action"] for e in after] == [e["node"]["action"] for e in before]
    assert "Jane" not in json.dumps(after)
    created = {c["field"]: c["after"] for c in after[-1]["node"]["changes"]}
    assert created["title"] == ERASED
    assert (created["number"], created["status"]) == ("CT000001", "DRAFT")


async def test_a_merge_moves_opportunities_contracts_and_orders(admin: Api) -> None:
    source = await create_customer(admin, "Acme Ltd")
    target = await create_customer(admin, "Acme Limited", allow_duplicates=True)
    await opportunity(admin, source, "O000001", "LEAD")
    await opportunity(admin, source, "O000002", "WON", closed_at=MONDAY)
    await opportunity(admin, target, "O000003", "LEAD")
    moved_contract = await step(admin, "activateContract", await create_contract(admin, source))
    await create_contract(admin, target)
    await order(admin, source, "SO000001")
    await order(admin, source, "SO000002")
    await value_row(admin, source, "600.00", "STANDARD")
    await value_row(admin, target, "70000.00", "MEDIUM")
    merge = (
        "mutation($input: MergeCustomersInput!) { mergeCustomers(input: $input) { "
        "moved { kind count } dryRun errors { field message } } }"
    )
    input = {"sourceId": source, "targetId": target, "dryRun": True}
    dry = data(await admin.gql(merge, {"input": input}))["mergeCustomers"]
    assert dry["errors"] == []
    counts = {m["kind"]: m["count"] for m in dry["moved"]}
    assert (counts["opportunities"], counts["contracts"], counts["orders"]) == (2, 1, 2)

    async def owners() -> tuple[list[int], list[int], list[int], list[int]]:
        async with admin.db.read() as session:
            return (
                sorted((await session.scalars(select(Opportunity.customer_id))).all()),
                sorted((await session.scalars(select(Contract.customer_id))).all()),
                sorted((await session.scalars(select(Order.customer_id))).all()),
                sorted((await session.scalars(select(CustomerValue.customer_id))).all()),
            )

    source_id, target_id = db_id(source), db_id(target)
    assert await owners() == (
        [source_id, source_id, target_id],
        [source_id, target_id],
        [source_id, source_id],
        [source_id, target_id],
    )  # a dry run moves nothing

    input["dryRun"] = False
    done = data(await admin.gql(merge, {"input": input}))["mergeCustomers"]
    assert done["errors"] == []
    assert {m["kind"]: m["count"] for m in done["moved"]}["contracts"] == 1
    assert await owners() == ([target_id] * 3, [target_id] * 2, [target_id] * 2, [target_id])
    async with admin.db.read() as session:
        value = (await session.execute(select(CustomerValue.spent_12m, CustomerValue.tier))).one()
    assert tuple(value) == (decimal.Decimal("600.00"), "STANDARD")  # the moved orders count
    nested = data(
        await admin.gql(
            "query($id: ID!) { customer(id: $id) { contracts { edges { node { id } } } } }",
            {"id": target},
        )
    )
    ids = [e["node"]["id"] for e in nested["customer"]["contracts"]["edges"]]
    assert moved_contract["id"] in ids
    assert len(ids) == 2
    assert dt.date.fromisoformat(moved_contract["endsOn"]) == dt.date(2027, 11, 30)
