"""The competitor plugin as a plugin: what it adds when enabled and leaves no trace of when
not, and the cost of a page of competitors with every nested field, on demo data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ADMINISTRATOR,
    CRMPluginManager,
    Database,
    Settings,
    call_in_turn,
)
from plugins.competitor import demo
from schema.testkit import Api, StatementCounter, running_app
from schema.testkit_graphql import data, mutate_ok

INTROSPECT = """{
  competitor: __type(name: "Competitor") { name }
  encounter: __type(name: "CompetitorEncounter") { name }
  customer: __type(name: "Customer") { fields { name } }
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  permissions { name module }
  system { modules { name } }
}"""
QUERIES = {
    "competitors",
    "competitor",
    "competitorProducts",
    "priceComparison",
    "marketShares",
    "marketSegments",
    "marketShareSeries",
    "priceTrend",
    "intelFeed",
    "customerCompetitors",
    "competitorEncounters",
    "competitorStats",
}
MUTATIONS = {
    "createCompetitor",
    "updateCompetitor",
    "setCompetitorChannels",
    "addCompetitorCampaign",
    "updateCompetitorCampaign",
    "removeCompetitorCampaign",
    "createCompetitorProduct",
    "updateCompetitorProduct",
    "deleteCompetitorProduct",
    "recordCompetitorPrice",
    "deleteCompetitorPrice",
    "recordMarketShare",
    "updateMarketShare",
    "deleteMarketShare",
    "logIntel",
    "updateIntel",
    "deleteIntel",
    "watchCompetitor",
    "unwatchCompetitor",
    "addCustomerCompetitor",
    "updateCustomerCompetitor",
    "endCustomerCompetitor",
    "removeCustomerCompetitor",
    "recordEncounter",
    "deleteEncounter",
}
PERMISSIONS = {"competitors:read", "competitors:write", "competitors:manage"}
ROUTES = (
    "/export/competitor-intel.csv",
    "/export/competitor-encounters.xlsx",
)


async def schema_facts(api: Api) -> dict[str, Any]:
    body = data(await api.gql(INTROSPECT))
    return {
        "competitor": body["competitor"],
        "encounter": body["encounter"],
        "customer": {f["name"] for f in body["customer"]["fields"]},
        "query": {f["name"] for f in body["query"]["fields"]},
        "mutation": {f["name"] for f in body["mutation"]["fields"]},
        "permissions": {p["name"]: p["module"] for p in body["permissions"]},
        "modules": [m["name"] for m in body["system"]["modules"]],
    }


async def test_enabled_plugin_adds_its_schema_permissions_and_routes(admin: Api) -> None:
    facts = await schema_facts(admin)
    assert facts["competitor"] == {"name": "Competitor"}
    assert facts["encounter"] == {"name": "CompetitorEncounter"}
    assert "competitors" in facts["customer"]
    assert facts["query"] >= QUERIES
    assert facts["mutation"] >= MUTATIONS
    assert {p: m for p, m in facts["permissions"].items() if p.startswith("competitors:")} == (
        dict.fromkeys(PERMISSIONS, "competitor")
    )
    assert "competitor" in facts["modules"]
    for route in ROUTES:
        answer = await admin.client.get(route, headers=admin.headers)
        assert answer.status_code == 200, route


async def test_disabled_plugin_leaves_no_trace(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "sales"))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR])
        facts = await schema_facts(admin)
        assert facts["competitor"] is None
        assert facts["encounter"] is None
        assert "competitors" not in facts["customer"]
        assert not QUERIES & facts["query"]
        assert not MUTATIONS & facts["mutation"]
        assert not any(name.startswith("competitors:") for name in facts["permissions"])
        assert "competitor" not in facts["modules"]
        types = data(await admin.gql("{ __schema { types { name } } }"))["__schema"]["types"]
        names = {t["name"] for t in types}
        assert not {n for n in names if n.startswith(("Competitor", "Intel", "MarketShare"))}
        for route in (*ROUTES, "/competitors/Q29tcGV0aXRvcjox/battlecard.pdf"):
            answer = await admin.client.get(route, headers=admin.headers)
            assert answer.status_code == 404, route
        async with admin.db.read() as session:
            tables = await session.run_sync(
                lambda sync: set(inspect(sync.connection()).get_table_names())
            )
        assert not {t for t in tables if t.startswith("competitor")}
        assert "sales_opportunities" in tables
        product = await mutate_ok(
            admin,
            "createProduct",
            {"sku": "P-1", "name": "Pen", "listPrice": "1.00"},
            "product { sku }",
        )
        assert product["product"] == {"sku": "P-1"}  # sales works without it


# --- a page of competitors with every nested field ------------------------------------------

NESTED = """
query($first: Int!) {
  competitors(first: $first) {
    edges {
      node {
        name status threatLevel watchedByMe watcherCount
        strengths { text evidence { summary } }
        weaknesses { text }
        channels { channel notes }
        campaigns { name channels }
        products { name latestPrice { price { amount currency } } }
        intel(first: 3) { edges { node { kind summary reporter { name } } } }
        marketShare { segment period sharePercent }
        customers(first: 3) { edges { node { contractEndsOn customer { name } } } }
        encounters(first: 3) { edges { node { outcome amount { amount currency } } } }
        winLoss { met won lost winRate lossReasons { reason count } }
        battlecard {
          winRate priceDelta
          commonLossReasons { reason count }
          latestIntel { summary }
          priceComparisons { productName }
        }
      }
    }
  }
}"""


async def load_demo_data(
    pm: CRMPluginManager, session: AsyncSession, settings: Settings, size: int
) -> None:
    """Core's demo customers and users (``size`` customers), then the plugin's data."""
    keep = {"core.customers", "core.identity"}
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in keep]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=size, settings=settings)
    await demo.load(session, size, settings)


async def nested(api: Api, counter: StatementCounter, first: int) -> tuple[int, list[Any]]:
    counter.reset()
    edges: list[Any] = data(await api.gql(NESTED, {"first": first}))["competitors"]["edges"]
    assert len(edges) == first
    return counter.count, edges


async def test_a_page_of_competitors_costs_the_same_for_2_and_5(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[[Database], StatementCounter],
) -> None:
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 60)
    counter = count_statements(admin.db)
    await nested(admin, counter, 1)  # the token's first use is recorded once, not counted
    small, _ = await nested(admin, counter, 2)
    large, edges = await nested(admin, counter, 5)
    assert small == large, counter.statements
    nodes = [edge["node"] for edge in edges]
    assert all(node["strengths"] and node["products"] for node in nodes)
    assert all(node["intel"]["edges"] for node in nodes)
    assert sum(node["winLoss"]["met"] for node in nodes) > 0
    assert any(node["customers"]["edges"] for node in nodes)
    assert all(node["battlecard"]["winRate"] == node["winLoss"]["winRate"] for node in nodes)
