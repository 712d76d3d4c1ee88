"""The loyalty plugin as a plugin: what it adds when enabled and leaves no trace of when not,
that it works without the sales plugin, the cost of Customer.loyalty on a page of customers,
and its demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ADMINISTRATOR,
    CRMPluginManager,
    Database,
    Settings,
    call_in_turn,
)
from plugins.loyalty import demo
from plugins.loyalty.models import Account, Coupon, Lot, Reward
from plugins.loyalty.service import coupons as coupon_codes
from plugins.loyalty.service import ledger, tiers
from plugins.loyalty.service import programme as programmes
from schema.testkit import Api, StatementCounter, run_periodic_jobs, running_app
from schema.testkit_graphql import data, gid, mutate_ok

INTROSPECT = """{
  account: __type(name: "LoyaltyAccount") { name }
  programme: __type(name: "LoyaltyProgramme") { name }
  customer: __type(name: "Customer") { fields { name } }
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  permissions { name module }
  system { modules { name } }
}"""
QUERIES = {
    "loyaltyAccounts",
    "loyaltyAccount",
    "loyaltyProgramme",
    "loyaltyStats",
    "rewards",
    "coupons",
}
MUTATIONS = {
    "enrolCustomer",
    "earnPoints",
    "adjustPoints",
    "updateLoyaltyProgramme",
    "createLoyaltyTier",
    "updateLoyaltyTier",
    "redeemReward",
    "issueCoupons",
    "redeemCoupon",
    "cancelCoupon",
}
PERMISSIONS = {"loyalty:read", "loyalty:write", "loyalty:adjust", "loyalty:manage"}


async def schema_facts(api: Api) -> dict[str, Any]:
    body = data(await api.gql(INTROSPECT))
    return {
        "account": body["account"],
        "programme": body["programme"],
        "customer": {f["name"] for f in body["customer"]["fields"]},
        "query": {f["name"] for f in body["query"]["fields"]},
        "mutation": {f["name"] for f in body["mutation"]["fields"]},
        "permissions": {p["name"]: p["module"] for p in body["permissions"]},
        "modules": [m["name"] for m in body["system"]["modules"]],
    }


async def test_enabled_plugin_adds_its_schema_and_permissions(admin: Api) -> None:
    facts = await schema_facts(admin)
    assert facts["account"] == {"name": "LoyaltyAccount"}
    assert facts["programme"] == {"name": "LoyaltyProgramme"}
    assert "loyalty" in facts["customer"]
    assert facts["query"] >= QUERIES
    assert facts["mutation"] >= MUTATIONS
    assert {p: m for p, m in facts["permissions"].items() if p.startswith("loyalty:")} == (
        dict.fromkeys(PERMISSIONS, "loyalty")
    )
    assert "loyalty" in facts["modules"]


async def test_the_ledger_export_is_served(admin: Api) -> None:
    export = await admin.client.get("/export/loyalty-ledger.csv", headers=admin.headers)
    assert export.status_code == 200


async def test_disabled_plugin_leaves_no_trace(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "sales"))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR])
        facts = await schema_facts(admin)
        assert facts["account"] is None
        assert facts["programme"] is None
        assert "loyalty" not in facts["customer"]
        assert not QUERIES & facts["query"]
        assert not MUTATIONS & facts["mutation"]
        assert not any(name.startswith("loyalty") for name in facts["query"] | facts["mutation"])
        assert not any(name.startswith("loyalty:") for name in facts["permissions"])
        assert "loyalty" not in facts["modules"]
        types = data(await admin.gql("{ __schema { types { name } } }"))["__schema"]["types"]
        assert not [t["name"] for t in types if t["name"].startswith("Loyalty")]
        export = await admin.client.get("/export/loyalty-ledger.csv", headers=admin.headers)
        assert export.status_code == 404
        async with admin.db.read() as session:
            tables = await session.run_sync(
                lambda sync: set(inspect(sync.connection()).get_table_names())
            )
        assert not {t for t in tables if t.startswith("loyalty")}
        assert "sales_orders" in tables
        product = await mutate_ok(
            admin,
            "createProduct",
            {"sku": "P-1", "name": "Pen", "listPrice": "1.00"},
            "product { sku }",
        )
        assert product["product"] == {"sku": "P-1"}  # sales works


async def test_without_the_sales_plugin_the_programme_works(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "loyalty"))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        facts = await schema_facts(admin)
        assert facts["query"] >= QUERIES
        assert "placeOrder" not in facts["mutation"]
        made = await mutate_ok(admin, "createCustomer", {"name": "Shop buyer"}, "customer { id }")
        customer_id = made["customer"]["id"]
        payload = await mutate_ok(
            admin,
            "earnPoints",
            {
                "customerId": customer_id,
                "amount": "6000.00",
                "currency": "CNY",
                "reference": "POS-1",
                "idempotencyKey": "pos-1",
            },
            "entry { points }",
        )
        assert payload["entry"]["points"] == 6000
        found = data(
            await admin.gql(
                "query($id: ID!) { node(id: $id) { ... on Customer "
                "{ loyalty { balance tier { key } } } } }",
                {"id": customer_id},
            )
        )
        assert found["node"]["loyalty"] == {"balance": 6000, "tier": {"key": "SILVER"}}
        stats = data(await admin.gql("{ loyaltyStats { liability earned } }"))["loyaltyStats"]
        assert stats == {"liability": 6000, "earned": 6000}
        done = await run_periodic_jobs(
            admin.db, admin.settings, admin.app.state.crm.pm, dt.datetime.now(dt.UTC)
        )
        assert {"loyalty.expiry", "loyalty.tiers"} <= set(done)


# --- a page of customers with their loyalty account ------------------------------------------

NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        number
        loyalty {
          balance debt lifetimeEarned earnedLast12Months
          tier { key name multiplier }
          expiringSoon { points on }
          ledger(first: 3) { edges { node { kind points createdAt } } }
          coupons(first: 2) { totalCount }
        }
      }
    }
  }
}"""


async def load_demo_data(
    pm: CRMPluginManager, session: AsyncSession, settings: Settings, size: int
) -> None:
    """Core's demo customers and users (``size`` customers), then the plugin's accounts."""
    keep = {"core.customers", "core.identity"}
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in keep]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=size, settings=settings)
    await demo.load(session, size, settings)


async def nested(api: Api, counter: StatementCounter, first: int) -> tuple[int, list[Any]]:
    counter.reset()
    edges: list[Any] = data(await api.gql(NESTED, {"first": first}))["customers"]["edges"]
    assert len(edges) == first
    return counter.count, edges


async def test_customer_loyalty_costs_the_same_for_5_and_100_customers(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[[Database], StatementCounter],
) -> None:
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 120)
    counter = count_statements(admin.db)
    await nested(admin, counter, 1)  # the token's first use is recorded once, not counted
    small, _ = await nested(admin, counter, 5)
    large, edges = await nested(admin, counter, 100)
    assert small == large, counter.statements
    members = [e["node"]["loyalty"] for e in edges if e["node"]["loyalty"]]
    assert 25 <= len(members) <= 40
    assert all(m["ledger"]["edges"] for m in members)


# --- demo data ---------------------------------------------------------------------------------


async def test_demo_data_is_consistent_and_quiet(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 90)
    now = dt.datetime.now(dt.UTC)
    async with admin.db.transaction() as session:
        assert [str(d) for d in await ledger.verify(session)] == []
        accounts = (await session.scalars(select(Account))).all()
        earned = await tiers.earned_in_year(session, [a.id for a in accounts], now)
        soon = await session.scalar(
            select(func.count(Lot.id)).where(
                Lot.remaining > 0,
                Lot.expires_at > now,
                Lot.expires_at <= now + dt.timedelta(days=30),
            )
        )
        coupons = await session.scalar(select(func.count(Coupon.id)))
        hints = set((await session.scalars(select(Coupon.code_hint))).all())
        stocks = (await session.scalars(select(Reward.stock))).all()
        ladder = await programmes.tiers(session)
    assert len(accounts) == 30  # a third of the 90 customers
    assert {a.tier_key for a in accounts} == {"STANDARD", "SILVER", "GOLD"}
    thresholds = {"STANDARD": 0, "SILVER": 5000, "GOLD": 20000}
    for account in accounts:
        assert earned[account.id] >= thresholds[account.tier_key]
        assert account.tier_key == tiers.reached(ladder, earned[account.id]).key
        assert account.downgrade_due_at is None
        assert account.balance >= 0
    assert soon
    assert coupons
    # codes of the kind redeemCoupon reads (16 characters of its alphabet; never shown)
    assert all(len(h) == 4 and set(h) <= set(coupon_codes.ALPHABET) for h in hints)
    assert all(stock is None or stock >= 0 for stock in stocks)
    done = await run_periodic_jobs(admin.db, admin.settings, plugin_manager, now)
    assert done["loyalty.expiry"] == {"loyalty points expired": 0, "loyalty expiry notices": 0}
    assert done["loyalty.tiers"] == {"loyalty tier changes": 0, "loyalty birthday bonuses": 0}
    notifications = data(await admin.gql("{ notifications { totalCount } }"))
    assert notifications["notifications"]["totalCount"] == 0
    stats = data(await admin.gql("{ loyaltyStats { liability members topRewards { name } } }"))
    assert stats["loyaltyStats"]["liability"] == sum(a.balance for a in accounts)
    assert stats["loyaltyStats"]["members"] == 30
    assert stats["loyaltyStats"]["topRewards"]
    assert gid("Customer", accounts[0].customer_id)
