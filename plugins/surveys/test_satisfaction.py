"""Customer.satisfaction: CSAT, NPS, responses and the latest response of each customer, from
the responses the caller may see, in a number of statements that does not grow with the
number of customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.plugin_api import Database
from plugins.surveys.testing import Seed, customer
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import data, gid

QUERY = """query($first: Int) { customers(first: $first) { edges { node { name
  satisfaction { csat nps responses lastResponseAt } } } } }"""


async def satisfaction(api: Api, first: int = 50) -> dict[str, Any]:
    found = data(await api.gql(QUERY, {"first": first}))["customers"]["edges"]
    return {edge["node"]["name"]: edge["node"]["satisfaction"] for edge in found}


async def test_figures_per_customer(admin: Api) -> None:
    csat = await Seed.of(admin)
    nps = await Seed.of(admin, "NPS_RELATIONSHIP")
    agent = await admin.user("alice.agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    acme = await customer(admin, "Acme")
    bolt = await customer(admin, "Bolt")
    await customer(admin, "Calm")
    # Acme: ratings 5, 4, 3, 2 (handled by Alice) and 4, 4, 4, 4: 6 of 8 are 4 or 5, CSAT
    # 0.75; one NPS of 9: a promoter, NPS 100. Three responses, the latest on 11-05.
    await csat.add(
        acme,
        handler_id=agent.user_id,
        sent="2026-11-01T08:00",
        submitted="2026-11-01T09:00",
        ratings=(5, 4, 3, 2),
    )
    await csat.add(
        acme, sent="2026-11-02T08:00", submitted="2026-11-02T09:00", ratings=(4, 4, 4, 4)
    )
    await nps.add(acme, sent="2026-11-05T08:00", submitted="2026-11-05T09:00", nps=9)
    # Bolt: NPS 10 and 3: one promoter, one detractor: 0; no ratings.
    await nps.add(bolt, sent="2026-11-03T08:00", submitted="2026-11-03T09:00", nps=10)
    await nps.add(bolt, sent="2026-11-04T08:00", submitted="2026-11-04T09:00", nps=3)
    assert await satisfaction(admin) == {
        "Acme": {
            "csat": 0.75,
            "nps": 100.0,
            "responses": 3,
            "lastResponseAt": "2026-11-05T09:00:00+00:00",
        },
        "Bolt": {
            "csat": None,
            "nps": 0.0,
            "responses": 2,
            "lastResponseAt": "2026-11-04T09:00:00+00:00",
        },
        "Calm": {"csat": None, "nps": None, "responses": 0, "lastResponseAt": None},
    }
    # Alice sees the response of the ticket she handled only: 2 of 4 ratings are 4 or 5.
    found = data(
        await agent.gql(
            "query($id: ID!) { node(id: $id) { ... on Customer { satisfaction { csat nps "
            "responses } } } }",
            {"id": gid("Customer", acme)},
        )
    )
    assert found["node"]["satisfaction"] == {
        "csat": 0.5,
        "nps": None,
        "responses": 1,
    }
    # Without surveys:read the field alone is refused.
    finance = await admin.as_role("FINANCE")
    body = await finance.gql(QUERY, {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"][-1] == "satisfaction"


async def test_statements_do_not_grow_with_customers(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    seed = await Seed.of(admin)

    async def add(count: int) -> None:
        for index in range(count):
            found = await customer(admin, f"Customer {index:02d} {count}")
            await seed.add(
                found, sent="2026-11-01T08:00", submitted="2026-11-01T09:00", ratings=(4, 4, 4, 4)
            )

    await add(2)
    counter = count_statements(admin.db)
    small = await satisfaction(admin)
    few = counter.count
    await add(8)
    counter.reset()
    large = await satisfaction(admin)
    assert len(small) == 2
    assert len(large) == 10
    assert all(item["csat"] == 1.0 and item["responses"] == 1 for item in large.values())
    assert counter.count == few
