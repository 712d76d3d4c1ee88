"""The sales plugin as a plugin: what it adds when enabled and leaves no trace of when not,
the cost of its nested fields on a page of customers, and its demo data.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ADMINISTRATOR,
    SALES_REPRESENTATIVE,
    CRMPluginManager,
    Customer,
    Database,
    Settings,
    call_in_turn,
)
from plugins.sales import demo, models
from plugins.sales.testing import create_customer, data, gid, mutate_ok
from schema.testkit import Api, StatementCounter, running_app
from schema.testkit_tools import make_user

INTROSPECT = """{
  opportunity: __type(name: "Opportunity") { name }
  customer: __type(name: "Customer") { fields { name } }
  filter: __type(name: "CustomerFilter") { inputFields { name } }
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  permissions { name module }
  system { modules { name } }
}"""
SALES_QUERIES = {
    "products",
    "product",
    "salesStages",
    "opportunities",
    "opportunity",
    "contracts",
    "contract",
    "orders",
    "order",
    "salesFunnel",
    "salesForecast",
    "salesPerformance",
}
SALES_MUTATIONS = {
    "createProduct",
    "updateProduct",
    "createSalesStage",
    "updateSalesStage",
    "createOpportunity",
    "updateOpportunity",
    "moveOpportunity",
    "reopenOpportunity",
    "createContract",
    "updateContract",
    "activateContract",
    "terminateContract",
    "renewContract",
    "placeOrder",
    "markOrderPaid",
    "cancelOrder",
    "refundOrder",
    "importOrders",
}
CUSTOMER_FIELDS = {"opportunities", "contracts", "orders", "purchaseSummary", "valueTier"}
PERMISSIONS = {
    "sales:read",
    "sales:write",
    "sales:manage",
    "sales:read_orders",
    "sales:read_contracts",
}
ARCHIVE = """
mutation($id: ID!, $version: Int!) {
  archiveCustomer(input: {id: $id, version: $version}) { errors { field message code } }
}"""


async def schema_facts(api: Api) -> dict[str, Any]:
    body = data(await api.gql(INTROSPECT))
    return {
        "opportunity": body["opportunity"],
        "customer": {f["name"] for f in body["customer"]["fields"]},
        "filter": {f["name"] for f in body["filter"]["inputFields"]},
        "query": {f["name"] for f in body["query"]["fields"]},
        "mutation": {f["name"] for f in body["mutation"]["fields"]},
        "permissions": {p["name"]: p["module"] for p in body["permissions"]},
        "modules": [m["name"] for m in body["system"]["modules"]],
    }


async def test_enabled_plugin_adds_its_schema_permissions_and_routes(admin: Api) -> None:
    facts = await schema_facts(admin)

    assert facts["opportunity"] == {"name": "Opportunity"}
    assert facts["customer"] >= CUSTOMER_FIELDS
    assert "valueTier" in facts["filter"]
    assert facts["query"] >= SALES_QUERIES
    assert facts["mutation"] >= SALES_MUTATIONS
    assert {p: m for p, m in facts["permissions"].items() if p.startswith("sales:")} == (
        dict.fromkeys(PERMISSIONS, "sales")
    )
    assert "sales" in facts["modules"]
    response = await admin.client.get("/export/orders.csv", headers=admin.headers)
    assert response.status_code == 200


async def test_disabled_plugin_leaves_no_trace(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture",))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR])
        facts = await schema_facts(admin)

        assert facts["opportunity"] is None
        assert not CUSTOMER_FIELDS & facts["customer"]
        assert "valueTier" not in facts["filter"]
        assert not SALES_QUERIES & facts["query"]
        assert not SALES_MUTATIONS & facts["mutation"]
        assert not any(name.startswith("sales:") for name in facts["permissions"])
        assert "sales" not in facts["modules"]
        body = await admin.gql("{ orders { totalCount } }")
        assert "Cannot query field 'orders'" in body["errors"][0]["message"]
        response = await admin.client.get("/export/orders.csv", headers=admin.headers)
        assert response.status_code == 404
        async with admin.db.read() as session:
            tables = await session.run_sync(
                lambda sync: set(inspect(sync.connection()).get_table_names())
            )
        assert not {t for t in tables if t.startswith("sales")}
        assert "customers" in tables
        # Nothing vetoes archiving.
        customer = await create_customer(admin, "Free To Go")
        payload = data(await admin.gql(ARCHIVE, {"id": customer, "version": 1}))
        assert payload["archiveCustomer"]["errors"] == []


# --- a page of customers with their sales records --------------------------------------------

NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        number
        opportunities(first: 3) {
          edges { node { number amount { amount currency } stage { key } owner { name } } }
        }
        contracts(first: 3) { edges { node { number status } } }
        orders(first: 3) {
          edges { node { number total { amount } lines { quantity product { name } } } }
        }
        purchaseSummary { currency orderCount totalSpent { amount currency } }
        valueTier
      }
    }
  }
}"""


async def load_demo_data(
    pm: CRMPluginManager, session: AsyncSession, settings: Settings, size: int
) -> None:
    """Core's demo customers (``size`` of them), then the sales plugin's demo records."""
    others = [plugin for name, plugin in pm.list_name_plugin() if name != "core.customers"]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=size, settings=settings)
    await demo.load(session, size, settings.zone)


async def nested(api: Api, counter: StatementCounter, first: int) -> tuple[int, list[Any]]:
    counter.reset()
    edges: list[Any] = data(await api.gql(NESTED, {"first": first}))["customers"]["edges"]
    assert len(edges) == first
    return counter.count, edges


async def test_nested_sales_fields_cost_the_same_for_5_and_100_customers(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[[Database], StatementCounter],
) -> None:
    for n in (1, 2, 3):
        await make_user(admin.db, admin.settings, f"rep{n}@example.com", [SALES_REPRESENTATIVE])
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 120)
    counter = count_statements(admin.db)
    await nested(admin, counter, 1)  # the token's first use is recorded once, not counted

    small, _ = await nested(admin, counter, 5)
    large, edges = await nested(admin, counter, 100)

    assert small == large, counter.statements
    nodes = [edge["node"] for edge in edges]
    assert sum(len(n["opportunities"]["edges"]) for n in nodes) > 50
    assert sum(len(n["orders"]["edges"]) for n in nodes) > 50
    assert any(n["contracts"]["edges"] for n in nodes)
    lines = [li for n in nodes for o in n["orders"]["edges"] for li in o["node"]["lines"]]
    assert lines
    assert all(li["product"]["name"] for li in lines)
    assert {n["valueTier"] for n in nodes} == {"HIGH", "MEDIUM", "STANDARD"}

    # A sales representative (OWN scope) pays for the scope once, not per customer.
    rep = await admin.login("rep1@example.com")
    await nested(rep, counter, 1)
    rep_small, _ = await nested(rep, counter, 5)
    rep_large, _ = await nested(rep, counter, 30)
    assert rep_small == rep_large, counter.statements


# --- demo data ---------------------------------------------------------------------------------


async def test_demo_data_is_consistent_and_meaningful(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 60)
    now = dt.datetime.now(dt.UTC)

    async with admin.db.read() as session:
        stages = dict((await session.execute(select(models.Stage.id, models.Stage.kind))).all())
        opportunities = (await session.scalars(select(models.Opportunity))).all()
        histories = (await session.scalars(select(models.StageChange))).all()
        orders = (await session.scalars(select(models.Order))).all()
        lines = (await session.scalars(select(models.OrderLine))).all()
        contracts = (await session.scalars(select(models.Contract))).all()
        tiers = dict(
            (
                await session.execute(
                    select(models.CustomerValue.tier, func.count()).group_by(
                        models.CustomerValue.tier
                    )
                )
            ).all()
        )
        customers = await session.scalar(select(func.count()).select_from(Customer))

    # Every stage kind occurs; closed ones have a closing time, open ones none.
    assert {stages[o.stage_id] for o in opportunities} == {"OPEN", "WON", "LOST"}
    for o in opportunities:
        assert (o.closed_at is not None) == (stages[o.stage_id] != "OPEN")
        assert o.created_at <= now
        assert o.closed_at is None or o.closed_at <= now
        assert o.lost_reason is None or stages[o.stage_id] == "LOST"
    # Each history ends at the opportunity's stage, and starts with its creation.
    by_opportunity: dict[int, list[models.StageChange]] = {}
    for change in sorted(histories, key=lambda c: (c.changed_at, c.id)):
        by_opportunity.setdefault(change.opportunity_id, []).append(change)
    for o in opportunities:
        history = by_opportunity[o.id]
        assert history[0].from_stage_id is None
        assert history[-1].to_stage_id == o.stage_id
    # An order's total is the sum of its lines; no order is in the future.
    totals: dict[int, decimal.Decimal] = {}
    for line in lines:
        totals[line.order_id] = totals.get(line.order_id, decimal.Decimal(0)) + line.total
    assert all(order.total == totals[order.id] for order in orders)
    assert all(order.ordered_at <= now for order in orders)
    # Every value tier occurs, and each customer has one.
    assert set(tiers) == {"HIGH", "MEDIUM", "STANDARD"}
    assert sum(tiers.values()) == customers
    # Reminders that fell due before the demo count as sent: no flood on the first run.
    for contract in contracts:
        due = contract.ends_on - dt.timedelta(days=max(30, contract.notice_days))
        if contract.status == "ACTIVE" and due <= now.date():
            assert contract.renewal_told_for == contract.ends_on


async def test_demo_orders_can_be_worked_through_the_api(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 10)
    async with admin.db.read() as session:
        order = await session.scalar(
            select(models.Order).where(models.Order.status == "PAID").limit(1)
        )
    assert order is not None

    payload = await mutate_ok(
        admin,
        "refundOrder",
        {"id": gid("Order", order.id), "version": order.version},
        "order { status }",
    )

    assert payload["order"]["status"] == "REFUNDED"
