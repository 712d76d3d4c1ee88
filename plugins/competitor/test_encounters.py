"""Encounters entered by hand, through the API: what is recorded and every refused input;
deleting (competitors:manage); the list with its filters and orderings and
``Competitor.encounters``; a sales representative's reach."""

from __future__ import annotations

from typing import Any

from core.plugin_api import CUSTOMER_MANAGER, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from plugins.competitor.testing_encounters import (
    ENCOUNTER,
    ENCOUNTER_FIELDS,
    MONDAY,
    audit_actions,
    create_competitor,
    create_customer,
    query,
    record,
    refused,
)
from schema.testkit import Api
from schema.testkit_graphql import error_code, gid, mutate_ok, not_found_argument

LIST = """query($filter: CompetitorEncounterFilter, $orderBy: [CompetitorEncounterOrder!]) {
  competitorEncounters(filter: $filter, orderBy: $orderBy, first: 50) {
    totalCount edges { node { id } } } }"""
NODE = (
    f"query($id: ID!) {{ node(id: $id) {{ ... on CompetitorEncounter {{ {ENCOUNTER_FIELDS} }} }} }}"
)
MET = """query($id: ID!) { competitor(id: $id) { encounters(first: 10) {
  totalCount edges { node { id occurredOn } } } } }"""


async def listed(
    api: Api, order_by: list[dict[str, str]] | None = None, **filter: Any
) -> list[str]:
    found = await query(api, LIST, {"filter": filter or None, "orderBy": order_by})
    connection = found["competitorEncounters"]
    ids = [edge["node"]["id"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(ids)
    return ids


async def test_an_encounter_entered_by_hand_and_every_refused_input(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    customer = await create_customer(admin, "Initech")
    lost = await record(
        admin,
        acme,
        customer,
        outcome="LOST",
        reason="PRICE",
        reasonText=" Too dear ",
        amount="1200.5",
        currency=" cny ",
        occurredOn="2026-11-20",
    )
    assert lost == {
        "id": lost["id"],
        "source": "MANUAL",
        "outcome": "LOST",
        "reason": "PRICE",
        "reasonText": "Too dear",
        "amount": {"amount": "1200.50", "currency": "CNY"},
        "occurredOn": "2026-11-20",
        "opportunityId": None,
        "createdAt": MONDAY.isoformat(),
        "competitor": {"id": acme, "name": "Acme"},
        "customer": {"id": customer},
        "owner": {"id": gid("User", admin.user_id)},
    }
    won = await record(admin, acme, customer, reason="RELATIONSHIP")
    assert (won["outcome"], won["reason"], won["occurredOn"], won["amount"]) == (
        "WON",
        "RELATIONSHIP",
        "2026-11-23",  # today when left out
        None,
    )
    assert (await query(admin, NODE, {"id": lost["id"]}))["node"] == lost
    earliest = await record(admin, acme, customer, occurredOn="1900-01-01")
    assert earliest["occurredOn"] == "1900-01-01"
    base = {"competitorId": acme, "customerId": customer, "outcome": "LOST", "reason": "PRICE"}
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"reason": None}, [("reason", "REQUIRED")]),
        ({"reason": "OTHER"}, [("reasonText", "REQUIRED")]),
        ({"reason": "OTHER", "reasonText": "  "}, [("reasonText", "REQUIRED")]),
        ({"reasonText": "x" * 2001}, [("reasonText", "TOO_LONG")]),
        ({"amount": "10"}, [("currency", "REQUIRED")]),
        ({"currency": "CNY"}, [("amount", "REQUIRED")]),
        ({"amount": "10", "currency": "XYZ"}, [("currency", "INVALID")]),
        ({"amount": "10.001", "currency": "CNY"}, [("amount", "INVALID")]),
        ({"amount": "-1", "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "100000000000000", "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
        ({"occurredOn": "2026-11-24"}, [("occurredOn", "OUT_OF_RANGE")]),
        # Not before 1900: the win/loss trend lists each quarter from the first to the last.
        ({"occurredOn": "1899-12-31"}, [("occurredOn", "OUT_OF_RANGE")]),
        ({"occurredOn": "0001-01-01"}, [("occurredOn", "OUT_OF_RANGE")]),
        ({"ownerId": gid("User", 9999)}, [("ownerId", "INVALID")]),
        ({"ownerId": customer}, [("ownerId", "INVALID")]),
        ({"competitorId": customer}, [("competitorId", "INVALID")]),
        ({"customerId": acme}, [("customerId", "INVALID")]),
        (
            {"reason": None, "occurredOn": "2027-01-01", "amount": "1"},
            [("occurredOn", "OUT_OF_RANGE"), ("reason", "REQUIRED"), ("currency", "REQUIRED")],
        ),
    ]
    for values, errors in cases:
        assert await refused(admin, "recordEncounter", base | values) == errors, values
    for values, argument in [
        ({"competitorId": gid("Competitor", 9999)}, "input.competitorId"),
        ({"customerId": gid("Customer", 9999)}, "input.customerId"),
    ]:
        assert await not_found_argument(admin, "recordEncounter", base | values, ENCOUNTER) == (
            argument
        )

    deleted = await mutate_ok(admin, "deleteEncounter", {"id": won["id"]}, ENCOUNTER)
    assert deleted["encounter"]["id"] == won["id"]
    assert (await query(admin, NODE, {"id": won["id"]}))["node"] is None
    assert (
        await not_found_argument(admin, "deleteEncounter", {"id": won["id"]}, ENCOUNTER)
        == "input.id"
    )
    assert await refused(admin, "deleteEncounter", {"id": acme}) == [("id", "INVALID")]
    assert await audit_actions(admin, "CompetitorEncounter") == [
        "competitor.encounter.recorded",
        "competitor.encounter.recorded",
        "competitor.encounter.recorded",
        "competitor.encounter.deleted",
    ]
    archived = await create_customer(admin, "Gone Ltd")
    await mutate_ok(admin, "archiveCustomer", {"id": archived, "version": 1}, "customer { id }")
    assert await refused(admin, "recordEncounter", base | {"customerId": archived}) == [
        ("customerId", "CONFLICT")
    ]


async def test_the_list_of_encounters_its_filters_and_orderings(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    first = await create_customer(admin, "First")
    second = await create_customer(admin, "Second", owner_id=rep.user_id)
    a = await record(admin, acme, first, occurredOn="2026-01-15")
    b = await record(admin, globex, first, outcome="LOST", reason="TIMING", occurredOn="2026-06-30")
    c = await record(rep, acme, second, outcome="LOST", reason="PRICE", occurredOn="2026-06-30")
    d = await record(
        admin, globex, second, occurredOn="2025-12-31", ownerId=gid("User", rep.user_id)
    )
    ids = [e["id"] for e in (a, b, c, d)]
    assert await listed(admin) == [c["id"], b["id"], a["id"], d["id"]]  # latest day, then id
    assert await listed(admin, [{"field": "OCCURRED_ON", "direction": "ASC"}]) == [
        d["id"],
        a["id"],
        b["id"],
        c["id"],
    ]
    assert await listed(admin, [{"field": "CREATED_AT"}]) == ids
    assert await listed(admin, competitorIds=[acme]) == [c["id"], a["id"]]
    assert await listed(admin, competitorIds=[acme, globex, acme]) == await listed(admin)
    assert await listed(admin, outcome="LOST") == [c["id"], b["id"]]
    assert await listed(admin, outcome="WON", source="MANUAL") == [a["id"], d["id"]]
    assert await listed(admin, source="SALES") == []
    assert await listed(admin, ownerId=gid("User", rep.user_id)) == [c["id"], d["id"]]
    assert await listed(admin, customerId=first) == [b["id"], a["id"]]
    assert await listed(admin, occurred={"from": "2026-01-15", "to": "2026-06-30"}) == [
        c["id"],
        b["id"],
        a["id"],
    ]
    assert await listed(admin, occurred={"to": "2026-01-14"}) == [d["id"]]
    assert await listed(admin, occurred={"from": "2026-06-30"}) == [c["id"], b["id"]]
    bad: list[tuple[dict[str, Any], str]] = [
        (
            {"filter": {"occurred": {"from": "2026-02-01", "to": "2026-01-31"}}},
            "filter.occurred.to",
        ),
        ({"filter": {"competitorIds": [acme, first]}}, "filter.competitorIds.1"),
        ({"filter": {"ownerId": acme}}, "filter.ownerId"),
        ({"filter": {"customerId": acme}}, "filter.customerId"),
        (
            {"orderBy": [{"field": "CREATED_AT"}, {"field": "CREATED_AT"}]},
            "orderBy.1.field",
        ),
    ]
    for variables, argument in bad:
        body = await admin.gql(LIST, variables)
        assert error_code(body) == "BAD_USER_INPUT", variables
        assert body["errors"][0]["extensions"]["argument"] == argument
    met = (await query(admin, MET, {"id": globex}))["competitor"]["encounters"]
    assert met["totalCount"] == 2
    assert [(e["node"]["id"], e["node"]["occurredOn"]) for e in met["edges"]] == [
        (b["id"], "2026-06-30"),
        (d["id"], "2025-12-31"),
    ]
    walked = await admin.walk(
        """query($first: Int, $after: String, $last: Int, $before: String) {
          competitorEncounters(first: $first, after: $after, last: $last, before: $before) {
            edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          } }""",
        ["competitorEncounters"],
        "id",
        page=3,
    )
    assert walked == [c["id"], b["id"], a["id"], d["id"]]


async def test_a_representative_sees_and_records_only_its_own(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="East")
    acme = await create_competitor(admin, "Acme")
    own = await create_customer(admin, "Own", owner_id=rep.user_id)
    theirs = await create_customer(admin, "Theirs")
    mine = await record(rep, acme, own, outcome="LOST", reason="PRICE")
    assert mine["owner"] == {"id": gid("User", rep.user_id)}
    assigned = await record(admin, acme, theirs, ownerId=gid("User", rep.user_id))
    hidden = await record(admin, acme, theirs, outcome="LOST", reason="SERVICE")
    for_rep = {"competitorId": acme, "outcome": "WON"}
    assert (
        await not_found_argument(
            rep, "recordEncounter", for_rep | {"customerId": theirs}, ENCOUNTER
        )
        == "input.customerId"
    )
    assert await refused(
        rep,
        "recordEncounter",
        for_rep | {"customerId": own, "ownerId": gid("User", admin.user_id)},
    ) == [("ownerId", "INVALID")]
    assert await listed(rep) == [assigned["id"], mine["id"]]  # the latest first
    assert await listed(admin) == [hidden["id"], assigned["id"], mine["id"]]
    seen = (await query(rep, NODE, {"id": assigned["id"]}))["node"]
    assert (seen["id"], seen["customer"]) == (assigned["id"], None)  # not the rep's customer
    assert (await query(rep, NODE, {"id": hidden["id"]}))["node"] is None
    assert (await query(rep, MET, {"id": acme}))["competitor"]["encounters"]["totalCount"] == 2
    body = await rep.gql(
        "mutation($input: DeleteEncounterInput!) { deleteEncounter(input: $input) "
        "{ errors { field } } }",
        {"input": {"id": mine["id"]}},
    )
    assert error_code(body) == "FORBIDDEN"
    # A manager of the rep's team (competitors:write and manage at ALL, customers:read at
    # TEAM) writes only where it reads: not for a customer out of its team, nor deletes an
    # encounter it cannot see.
    manager = await admin.user("manager@example.com", [CUSTOMER_MANAGER], team="East")
    assert await listed(manager) == [mine["id"]]
    assert (
        await not_found_argument(
            manager, "recordEncounter", for_rep | {"customerId": theirs}, ENCOUNTER
        )
        == "input.customerId"
    )
    assert (
        await not_found_argument(manager, "deleteEncounter", {"id": hidden["id"]}, ENCOUNTER)
        == "input.id"
    )
    await mutate_ok(manager, "deleteEncounter", {"id": mine["id"]}, ENCOUNTER)
    assert await listed(admin) == [hidden["id"], assigned["id"]]
    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE])
    body = await support.gql(LIST, {})
    assert (error_code(body), body["data"]) == ("FORBIDDEN", {"competitorEncounters": None})
    body = await support.gql(
        "mutation($input: RecordEncounterInput!) { recordEncounter(input: $input) "
        "{ errors { field } } }",
        {"input": for_rep | {"customerId": theirs}},
    )
    assert error_code(body) == "FORBIDDEN"
