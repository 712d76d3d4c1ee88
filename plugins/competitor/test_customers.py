"""Which competitor each customer uses, through the API: adding, changing, ending and removing
a link with every refused input; one current link per customer and competitor; the lists
(``Customer.competitors`` batched, ``customerCompetitors``, ``Competitor.customers``); a
sales representative's reach; merging and erasing customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.plugin_api import (
    CUSTOMER_MANAGER,
    ERASED,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    AuditEvent,
    Customer,
    Database,
)
from plugins.competitor.models import CustomerCompetitor
from plugins.competitor.testing_encounters import (
    LINK,
    LINK_FIELDS,
    MONDAY,
    add_link,
    audit_actions,
    create_competitor,
    create_customer,
    create_product,
    query,
    record,
    refused,
)
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import db_id, error_code, gid, mutate, mutate_ok, not_found_argument

COMPETITORS = """query($id: ID!, $ended: Boolean!) { customer(id: $id) {
  competitors(includeEnded: $ended) { id current competitor { name } } } }"""
LINKS = """query($filter: CustomerCompetitorFilter) {
  customerCompetitors(filter: $filter, first: 50) {
  totalCount edges { node { id customer { id } competitor { name } contractEndsOn } } } }"""
USING = """query($id: ID!) { competitor(id: $id) { customers(first: 10) {
  totalCount edges { node { id contractEndsOn customer { id } } } } } }"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on CustomerCompetitor {{ {LINK_FIELDS} }} }} }}"


async def competitors_of(api: Api, customer: str, ended: bool = False) -> list[tuple[str, bool]]:
    found = await query(api, COMPETITORS, {"id": customer, "ended": ended})
    return [(c["competitor"]["name"], c["current"]) for c in found["customer"]["competitors"]]


async def links(api: Api, **filter: Any) -> list[str]:
    found = (await query(api, LINKS, {"filter": filter or None}))["customerCompetitors"]
    ids = [edge["node"]["id"] for edge in found["edges"]]
    assert found["totalCount"] == len(ids)
    return ids


async def number_of(api: Api, customer: str) -> str:
    found = await query(api, "query($id: ID!) { customer(id: $id) { number } }", {"id": customer})
    number: str = found["customer"]["number"]
    return number


async def version_of(api: Api, customer: str) -> int:
    found = await query(api, "query($id: ID!) { customer(id: $id) { version } }", {"id": customer})
    version: int = found["customer"]["version"]
    return version


async def test_a_link_says_what_a_customer_uses_and_refuses_bad_input(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    suite = await create_product(admin, acme, "Acme Suite")
    customer = await create_customer(admin, "Initech")
    link = await add_link(
        admin,
        customer,
        acme,
        productId=suite,
        since="2025-01-01",
        contractEndsOn="2027-01-31",
        notes=" Unhappy with their support ",
    )
    assert link == {
        "id": link["id"],
        "since": "2025-01-01",
        "contractEndsOn": "2027-01-31",
        "endedOn": None,
        "current": True,
        "notes": "Unhappy with their support",
        "version": 1,
        "createdAt": MONDAY.isoformat(),
        "updatedAt": MONDAY.isoformat(),
        "customer": {"id": customer},
        "competitor": {"id": acme, "name": "Acme"},
        "product": {"id": suite, "name": "Acme Suite"},
    }
    base = {"customerId": customer, "competitorId": globex}
    duplicate = await mutate(
        admin, "addCustomerCompetitor", base | {"competitorId": acme}, "__typename"
    )
    number = await number_of(admin, customer)
    assert duplicate["errors"] == [
        {
            "field": "competitorId",
            "message": f"customer {number} already uses Acme: change or end that link",
            "code": "DUPLICATE",
        }
    ]
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"productId": suite}, [("productId", "INVALID")]),
        (
            {"since": "2026-01-02", "contractEndsOn": "2026-01-01"},
            [("contractEndsOn", "OUT_OF_RANGE")],
        ),
        ({"notes": "x" * 2001}, [("notes", "TOO_LONG")]),
        ({"customerId": acme}, [("customerId", "INVALID")]),
        ({"productId": customer}, [("productId", "INVALID")]),
    ]
    for values, errors in cases:
        assert await refused(admin, "addCustomerCompetitor", base | values) == errors, values
    for values, argument in [
        ({"competitorId": gid("Competitor", 9999)}, "input.competitorId"),
        ({"productId": gid("CompetitorProduct", 9999)}, "input.productId"),
        ({"customerId": gid("Customer", 9999)}, "input.customerId"),
    ]:
        assert (
            await not_found_argument(admin, "addCustomerCompetitor", base | values, LINK)
            == argument
        )

    # Changing it: fields left out stay; a stale version is refused with the link as it is.
    changed = await mutate_ok(
        admin,
        "updateCustomerCompetitor",
        {"id": link["id"], "version": 1, "contractEndsOn": "2027-03-31", "productId": None},
        LINK,
    )
    changed = changed["customerCompetitor"]
    assert (changed["contractEndsOn"], changed["product"], changed["version"]) == (
        "2027-03-31",
        None,
        2,
    )
    assert (changed["since"], changed["notes"]) == ("2025-01-01", "Unhappy with their support")
    stale = await mutate(
        admin, "updateCustomerCompetitor", {"id": link["id"], "version": 1, "notes": "x"}, LINK
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["customerCompetitor"]["version"] == 2
    update = {"id": link["id"], "version": 2}
    other = await create_product(admin, globex, "Globex One")
    for values, errors in [
        ({"contractEndsOn": "2024-12-31"}, [("contractEndsOn", "OUT_OF_RANGE")]),
        ({"productId": other}, [("productId", "INVALID")]),
        ({"notes": " " + "y" * 2001}, [("notes", "TOO_LONG")]),
        ({"id": acme}, [("id", "INVALID")]),
    ]:
        assert await refused(admin, "updateCustomerCompetitor", update | values) == errors
    assert (
        await not_found_argument(
            admin,
            "updateCustomerCompetitor",
            {"id": gid("CustomerCompetitor", 9999), "version": 1},
            LINK,
        )
        == "input.id"
    )

    # Ending it keeps it as history; the customer may then take the competitor up again.
    ending: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"on": "2026-11-24"}, [("on", "OUT_OF_RANGE")]),  # tomorrow
        ({"on": "2024-12-31"}, [("on", "OUT_OF_RANGE")]),  # before since
        ({"version": 1}, [("version", "CONFLICT")]),
    ]
    for values, errors in ending:
        assert await refused(admin, "endCustomerCompetitor", update | values) == errors
    ended = (await mutate_ok(admin, "endCustomerCompetitor", update, LINK))["customerCompetitor"]
    assert (ended["endedOn"], ended["current"], ended["version"]) == ("2026-11-23", False, 3)
    update["version"] = 3
    assert await refused(admin, "endCustomerCompetitor", update) == [("id", "INVALID_TRANSITION")]
    assert await refused(admin, "updateCustomerCompetitor", update | {"since": "2026-12-01"}) == [
        ("since", "OUT_OF_RANGE")
    ]
    assert await competitors_of(admin, customer) == []
    assert await competitors_of(admin, customer, ended=True) == [("Acme", False)]
    again = await add_link(admin, customer, acme, contractEndsOn="2026-12-31")
    assert await competitors_of(admin, customer, ended=True) == [("Acme", True), ("Acme", False)]

    # Removing one recorded by mistake.
    remove = {"id": again["id"], "version": 1}
    assert await refused(admin, "removeCustomerCompetitor", remove | {"version": 7}) == [
        ("version", "CONFLICT")
    ]
    removed = await mutate_ok(admin, "removeCustomerCompetitor", remove, LINK)
    assert removed["customerCompetitor"]["id"] == again["id"]
    assert (await query(admin, NODE, {"id": again["id"]}))["node"] is None
    assert (await query(admin, NODE, {"id": link["id"]}))["node"]["endedOn"] == "2026-11-23"
    assert await audit_actions(admin, "CustomerCompetitor") == [
        "competitor.customer_link.added",
        "competitor.customer_link.updated",
        "competitor.customer_link.ended",
        "competitor.customer_link.added",
        "competitor.customer_link.removed",
    ]

    # An archived customer's links are not changed.
    await add_link(admin, customer, globex)
    await mutate_ok(
        admin,
        "archiveCustomer",
        {"id": customer, "version": await version_of(admin, customer)},
        "customer { id }",
    )
    assert await refused(admin, "addCustomerCompetitor", base | {"competitorId": acme}) == [
        ("customerId", "CONFLICT")
    ]
    assert await refused(admin, "updateCustomerCompetitor", update | {"notes": "z"}) == [
        ("id", "CONFLICT")
    ]


async def test_the_lists_of_links(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    first = await create_customer(admin, "First")
    second = await create_customer(admin, "Second")
    third = await create_customer(admin, "Third")
    late = await add_link(admin, first, acme, contractEndsOn="2027-06-30")
    soon = await add_link(admin, second, acme, contractEndsOn="2026-12-15")
    open_ended = await add_link(admin, third, acme)
    gone = await add_link(admin, third, globex, contractEndsOn="2026-12-01")
    await mutate_ok(admin, "endCustomerCompetitor", {"id": gone["id"], "version": 1}, LINK)
    today = await add_link(admin, first, globex, contractEndsOn="2026-11-23")
    every = [today["id"], gone["id"], soon["id"], late["id"], open_ended["id"]]
    assert await links(admin) == every
    assert await links(admin, customerId=third) == [gone["id"], open_ended["id"]]
    assert await links(admin, competitorId=globex) == [today["id"], gone["id"]]
    assert await links(admin, current=False) == [gone["id"]]
    assert await links(admin, current=True, competitorId=acme) == [
        soon["id"],
        late["id"],
        open_ended["id"],
    ]
    assert await links(admin, endingWithinDays=0) == [today["id"]]
    assert await links(admin, endingWithinDays=22) == [today["id"], soon["id"]]
    for filter, argument in [
        ({"endingWithinDays": -1}, "filter.endingWithinDays"),
        ({"endingWithinDays": 3661}, "filter.endingWithinDays"),
        ({"customerId": acme}, "filter.customerId"),
        ({"competitorId": first}, "filter.competitorId"),
    ]:
        body = await admin.gql(LINKS, {"filter": filter})
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument
    using = (await query(admin, USING, {"id": acme}))["competitor"]["customers"]
    assert using["totalCount"] == 3
    assert [(e["node"]["customer"]["id"], e["node"]["contractEndsOn"]) for e in using["edges"]] == [
        (second, "2026-12-15"),
        (first, "2027-06-30"),
        (third, None),
    ]
    walked = await admin.walk(
        """query($first: Int, $after: String, $last: Int, $before: String) {
          customerCompetitors(first: $first, after: $after, last: $last, before: $before) {
            edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          } }""",
        ["customerCompetitors"],
        "id",
    )
    assert walked == every


async def test_a_representative_reaches_only_its_own_customers(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="East")
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    own = await create_customer(admin, "Own", owner_id=rep.user_id)
    theirs = await create_customer(admin, "Theirs")
    mine = await add_link(rep, own, acme, contractEndsOn="2027-01-31")
    other = await add_link(admin, theirs, acme, contractEndsOn="2027-02-28")
    assert (
        await not_found_argument(
            rep, "addCustomerCompetitor", {"customerId": theirs, "competitorId": acme}, LINK
        )
        == "input.customerId"
    )
    for name, input in [
        ("updateCustomerCompetitor", {"id": other["id"], "version": 1, "notes": "x"}),
        ("endCustomerCompetitor", {"id": other["id"], "version": 1}),
        ("removeCustomerCompetitor", {"id": other["id"], "version": 1}),
    ]:
        assert await not_found_argument(rep, name, input, LINK) == "input.id", name
    changed = await mutate_ok(
        rep, "updateCustomerCompetitor", {"id": mine["id"], "version": 1, "notes": "ok"}, LINK
    )
    assert changed["customerCompetitor"]["notes"] == "ok"
    assert await links(rep) == [mine["id"]]
    assert await links(admin) == [mine["id"], other["id"]]
    assert (await query(rep, NODE, {"id": other["id"]}))["node"] is None
    assert (await query(rep, USING, {"id": acme}))["competitor"]["customers"]["totalCount"] == 1
    assert (await query(admin, USING, {"id": acme}))["competitor"]["customers"]["totalCount"] == 2

    # A manager of the rep's team (competitors:write at ALL, customers:read at TEAM) writes
    # only the links it reads: its team's customers'.
    manager = await admin.user("manager@example.com", [CUSTOMER_MANAGER], team="East")
    assert await links(manager) == [mine["id"]]
    assert (
        await not_found_argument(
            manager, "addCustomerCompetitor", {"customerId": theirs, "competitorId": globex}, LINK
        )
        == "input.customerId"
    )
    for name, input in [
        ("updateCustomerCompetitor", {"id": other["id"], "version": 1, "notes": "x"}),
        ("endCustomerCompetitor", {"id": other["id"], "version": 1}),
        ("removeCustomerCompetitor", {"id": other["id"], "version": 1}),
    ]:
        assert await not_found_argument(manager, name, input, LINK) == "input.id", name
    ended = await mutate_ok(
        manager, "endCustomerCompetitor", {"id": mine["id"], "version": 2}, LINK
    )
    assert ended["customerCompetitor"]["endedOn"] == "2026-11-23"
    await add_link(manager, own, globex)

    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE])
    body = await support.gql(COMPETITORS, {"id": theirs, "ended": False})
    # no competitors:read: null with FORBIDDEN, as the other plugins' fields on Customer
    assert (error_code(body), body["data"]) == ("FORBIDDEN", {"customer": {"competitors": None}})
    assert await competitors_of(admin, theirs) == [("Acme", True)]
    body = await support.gql(LINKS, {"filter": None})
    assert (error_code(body), body["data"]) == ("FORBIDDEN", {"customerCompetitors": None})
    body = await support.gql(
        "mutation($input: AddCustomerCompetitorInput!) { addCustomerCompetitor(input: $input) "
        "{ errors { field } } }",
        {"input": {"customerId": theirs, "competitorId": acme}},
    )
    assert error_code(body) == "FORBIDDEN"


async def test_customer_competitors_cost_the_same_for_5_and_100_customers(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    product = await create_product(admin, acme, "Acme Suite")
    async with admin.db.transaction() as session:
        customers = [
            Customer(
                number=f"T{index:06d}",
                name=f"Customer {index}",
                kind="COMPANY",
                stage="POTENTIAL",
                grade="STANDARD",
                owner_id=admin.user_id,
                created_at=MONDAY,
                updated_at=MONDAY,
            )
            for index in range(100)
        ]
        session.add_all(customers)
        await session.flush()
        for customer in customers:
            session.add_all(
                [
                    CustomerCompetitor(
                        customer_id=customer.id,
                        competitor_id=db_id(acme),
                        product_id=db_id(product),
                        created_at=MONDAY,
                        updated_at=MONDAY,
                    ),
                    CustomerCompetitor(
                        customer_id=customer.id,
                        competitor_id=db_id(globex),
                        ended_on=MONDAY.date(),
                        created_at=MONDAY,
                        updated_at=MONDAY,
                    ),
                ]
            )
    page = """query($first: Int!) { customers(first: $first) { edges { node { id
      competitors(includeEnded: true) { current customer { id } competitor { name }
        product { name } }
      current: competitors { id } } } } }"""
    counts = []
    for first in (5, 100):
        counter = count_statements(admin.db)
        await query(admin, page, {"first": 1})  # what the first request of a token reads
        counter.reset()
        edges = (await query(admin, page, {"first": first}))["customers"]["edges"]
        assert len(edges) == first
        for edge in edges:
            node = edge["node"]
            assert [(c["current"], c["competitor"]["name"]) for c in node["competitors"]] == [
                (True, "Acme"),
                (False, "Globex"),
            ]
            assert node["competitors"][0]["product"] == {"name": "Acme Suite"}
            assert {c["customer"]["id"] for c in node["competitors"]} == {node["id"]}
            assert len(node["current"]) == 1
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


async def test_a_merge_moves_links_and_encounters_without_doubling(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    initech = await create_competitor(admin, "Initech")
    source = await create_customer(admin, "Old")
    target = await create_customer(admin, "New")
    doubled = await add_link(admin, source, acme, since="2024-01-01", contractEndsOn="2027-01-31")
    moved = await add_link(admin, source, globex)
    kept = await add_link(admin, target, acme, contractEndsOn="2027-06-30")
    ended = await add_link(admin, target, initech)
    await mutate_ok(admin, "endCustomerCompetitor", {"id": ended["id"], "version": 1}, LINK)
    first = await record(admin, acme, source, amount="100.00", currency="CNY")
    second = await record(admin, globex, source, outcome="LOST", reason="PRICE")
    selection = "target { id } moved { kind count }"
    merge = {"sourceId": source, "targetId": target}
    dry = await mutate_ok(admin, "mergeCustomers", merge | {"dryRun": True}, selection)
    counts = {m["kind"]: m["count"] for m in dry["moved"]}
    assert (counts["competitorLinks"], counts["competitorEncounters"]) == (2, 2)
    assert await competitors_of(admin, source) == [("Acme", True), ("Globex", True)]
    done = await mutate_ok(admin, "mergeCustomers", merge, selection)
    counts = {m["kind"]: m["count"] for m in done["moved"]}
    assert (counts["competitorLinks"], counts["competitorEncounters"]) == (2, 2)
    assert await competitors_of(admin, target) == [("Globex", True), ("Acme", True)]
    found = await query(
        admin,
        "query($id: ID!) { customer(id: $id) { competitors(includeEnded: true) { id endedOn } } }",
        {"id": target},
    )
    assert [(c["id"], c["endedOn"]) for c in found["customer"]["competitors"]] == [
        (moved["id"], None),
        (kept["id"], None),
        (doubled["id"], "2026-11-23"),
        (ended["id"], "2026-11-23"),
    ]
    assert await competitors_of(admin, source, ended=True) == []
    node = "query($id: ID!) { node(id: $id) { ... on CompetitorEncounter { customer { id } } } }"
    for encounter in (first, second):
        found = await query(admin, node, {"id": encounter["id"]})
        assert found["node"]["customer"] == {"id": target}
    assert (await audit_actions(admin, "CustomerCompetitor"))[-2:] == [
        "competitor.customer_link.merged"
    ] * 2


async def test_erasure_drops_notes_and_reason_texts_and_keeps_the_figures(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    customer = await create_customer(admin, "Jane Doe Ltd")
    bystander = await create_customer(admin, "Someone else")
    link = await add_link(
        admin, customer, acme, contractEndsOn="2027-01-31", notes="Jane hates Acme's support"
    )
    await mutate_ok(
        admin,
        "updateCustomerCompetitor",
        {"id": link["id"], "version": 1, "notes": "Jane's board decides"},
        LINK,
    )
    lost = await record(
        admin,
        acme,
        customer,
        outcome="LOST",
        reason="OTHER",
        reasonText="Jane's cousin works at Acme",
        amount="5000.00",
        currency="CNY",
    )
    other = await add_link(admin, bystander, acme, notes="kept")
    await mutate_ok(
        admin,
        "eraseCustomer",
        {"id": customer, "version": await version_of(admin, customer), "reason": "GDPR-7"},
        "customer { id }",
    )
    async with admin.db.read() as session:
        row = await session.get(CustomerCompetitor, db_id(link["id"]))
        assert row is not None
        assert (row.notes, row.contract_ends_on) == (ERASED, dt.date(2027, 1, 31))
        kept = await session.get(CustomerCompetitor, db_id(other["id"]))
        assert kept is not None
        assert kept.notes == "kept"
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.entity_type.in_(["CustomerCompetitor", "CompetitorEncounter"]),
                    AuditEvent.entity_id.in_([str(db_id(link["id"])), str(db_id(lost["id"]))]),
                )
                .order_by(AuditEvent.id)
            )
        ).all()
        assert [e.action for e in events] == [
            "competitor.customer_link.added",
            "competitor.customer_link.updated",
            "competitor.encounter.recorded",
        ]
        assert events[0].changes["notes"] == {"before": None, "after": ERASED}
        assert events[0].changes["contractEndsOn"] == {"before": None, "after": "2027-01-31"}
        assert events[1].changes == {"notes": {"before": ERASED, "after": ERASED}}
        assert events[2].changes["reasonText"] == {"before": None, "after": ERASED}
        assert events[2].changes["amount"] == {"before": None, "after": "5000.00"}
        assert events[2].changes["outcome"] == {"before": None, "after": "LOST"}
    found = await query(
        admin,
        "query($id: ID!) { node(id: $id) { ... on CompetitorEncounter { outcome reason "
        "reasonText amount { amount currency } occurredOn } } }",
        {"id": lost["id"]},
    )
    assert found["node"] == {
        "outcome": "LOST",
        "reason": "OTHER",
        "reasonText": ERASED,
        "amount": {"amount": "5000.00", "currency": "CNY"},
        "occurredOn": "2026-11-23",
    }
