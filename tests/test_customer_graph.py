"""Behaviour of the customer graph that docs/api.md describes, beyond core's own tests:
``history`` counts every event of a customer, and an import that updates part of an
address keeps the parts the file has no column for.
"""

from __future__ import annotations

from typing import Any

from tests.support import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field message code } }
}
"""
UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { version } errors { field message code } }
}
"""
HISTORY = """
query($id: ID!, $first: Int) {
  customer(id: $id) {
    history(first: $first) { totalCount edges { node { action } } pageInfo { hasNextPage } }
  }
}
"""
IMPORT = """
mutation($input: ImportCustomersInput!) {
  importCustomers(input: $input) {
    created updated imported rowErrors { line field message } errors { field message }
  }
}
"""
ADDRESS = """
query($number: String!) {
  customer(number: $number) { address { line1 line2 city region postalCode country } }
}
"""


async def create(api: Api, values: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(CREATE, {"input": values})
    payload = body["data"]["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def test_history_total_count_counts_every_event_not_the_page(admin: Api) -> None:
    customer = await create(admin, {"name": "Northwind Traders"})
    for version, stage in enumerate(["NEW", "ACTIVE", "DORMANT"], start=1):
        body = await admin.gql(
            UPDATE, {"input": {"id": customer["id"], "version": version, "stage": stage}}
        )
        assert body["data"]["updateCustomer"]["errors"] == []

    first_page = await admin.gql(HISTORY, {"id": customer["id"], "first": 2})
    everything = await admin.gql(HISTORY, {"id": customer["id"], "first": 10})

    history = first_page["data"]["customer"]["history"]
    assert [edge["node"]["action"] for edge in history["edges"]] == [
        "customer.updated",
        "customer.updated",
    ]
    assert history["pageInfo"] == {"hasNextPage": True}
    assert history["totalCount"] == 4  # created and three updates, not the two on the page
    assert everything["data"]["customer"]["history"]["totalCount"] == 4


async def test_an_import_that_updates_part_of_an_address_keeps_the_rest(admin: Api) -> None:
    address = {
        "line1": "12 Pier Rd",
        "line2": "Unit 4",
        "city": "Seattle",
        "region": "WA",
        "postalCode": "98101",
        "country": "US",
    }
    customer = await create(admin, {"name": "Northwind Traders", "address": address})

    body = await admin.gql(
        IMPORT,
        {
            "input": {
                "csv": f"number,city,postal_code\n{customer['number']},Tacoma,\n",
                "matchOn": ["NUMBER"],
            }
        },
    )
    after = await admin.gql(ADDRESS, {"number": customer["number"]})

    assert body["data"]["importCustomers"] == {
        "created": 0,
        "updated": 1,
        "imported": True,
        "rowErrors": [],
        "errors": [],
    }
    # The file's columns change (an empty cell clears); the others stay as they were.
    assert after["data"]["customer"]["address"] == {
        **address,
        "city": "Tacoma",
        "postalCode": None,
    }
