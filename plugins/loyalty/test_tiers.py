"""Tiers over a rolling 12 months: a rise applies on the earn that reaches a threshold, a fall
only after the grace period (by the daily job), earning back cancels a pending downgrade; a
change calls the hook, posts the webhook, notifies the customer's owner and, when the
programme says so, sets the customer's grade."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.plugin_api import (
    SALES_REPRESENTATIVE,
    CRMPluginManager,
    Settings,
    hookimpl,
)
from plugins.loyalty.testing import MONDAY
from plugins.loyalty.testing_tiers import (
    account,
    days,
    earn,
    member,
    reverse,
    set_programme,
    spend,
)
from schema.testkit import Api, FakeClock, StatementCounter, run_periodic_jobs, running_app
from schema.testkit_graphql import data, db_id, gid, mutate_ok
from schema.testkit_webhooks import WebhookReceiver


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "loyalty"), webhooks_allow_private=True)


@pytest.fixture
async def api(
    settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=clock) as client:
        yield client


class Recorder:
    """Listens to crm_loyalty_tier_changed as another plugin would."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str, bool]] = []

    @hookimpl
    def crm_loyalty_tier_changed(
        self, account: Any, from_tier: str, to_tier: str, context: Any
    ) -> None:
        self.calls.append((account.id, from_tier, to_tier, context is None))


async def run_jobs(api: Api, clock: FakeClock) -> dict[str, Any]:
    pm = api.app.state.crm.pm
    done = await run_periodic_jobs(api.db, api.settings, pm, clock())
    return dict(done["loyalty.tiers"])


async def notifications(user: Api) -> list[tuple[str, str]]:
    body = data(await user.gql("{ notifications { edges { node { kind title } } } }"))
    return [(e["node"]["kind"], e["node"]["title"]) for e in body["notifications"]["edges"]]


async def test_reaching_a_threshold_upgrades_at_once(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 4999)
    assert (await account(admin, account_id)).tier_key == "STANDARD"
    clock.advance(hours=1)
    await earn(admin, clock, account_id, 1)
    found = await account(admin, account_id)
    assert found.tier_key == "SILVER"
    assert found.tier_since == clock()
    assert found.downgrade_due_at is None
    await earn(admin, clock, account_id, 15000)
    assert (await account(admin, account_id)).tier_key == "GOLD"


async def test_one_earn_can_skip_a_tier(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 25000)
    assert (await account(admin, account_id)).tier_key == "GOLD"


async def test_a_change_is_announced(admin: Api, clock: FakeClock) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    recorder = Recorder()
    admin.app.state.crm.pm.register(recorder)
    subscribe = (
        "mutation($url: String!) { createWebhookSubscription(input: {url: $url, eventTypes: "
        '["loyalty.tier_changed"]}) { secret errors { field message } } }'
    )
    async with WebhookReceiver() as receiver:
        data(await admin.gql(subscribe, {"url": receiver.url}))
        account_id = await member(admin, clock, "Acme", owner_id=rep.user_id)
        await earn(admin, clock, account_id, 6000)
        await admin.deliver_outbox()
    assert recorder.calls == [(account_id, "STANDARD", "SILVER", True)]
    (posted,) = [r.json() for r in receiver.requests]
    assert posted["type"] == "loyalty.tier_changed"
    assert (posted["data"]["fromTier"], posted["data"]["toTier"]) == ("STANDARD", "SILVER")
    assert posted["data"]["account"] == gid("LoyaltyAccount", account_id)
    assert posted["data"]["customer"] == gid(
        "Customer", (await account(admin, account_id)).customer_id
    )
    assert await notifications(rep) == [
        ("loyalty.tier_changed", "Acme is now Silver (was Standard)")
    ]
    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "loyalty.account.tier_changed"}) '
            "{ edges { node { changes { field before after } } } } }"
        )
    )
    (event,) = audit["auditEvents"]["edges"]
    assert event["node"]["changes"] == [{"field": "tier", "before": "STANDARD", "after": "SILVER"}]


async def test_points_older_than_a_year_fall_out_and_the_grace_applies(
    admin: Api, clock: FakeClock
) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE, lasting=True)
    account_id = await member(admin, clock, "Acme", owner_id=rep.user_id)
    await earn(admin, clock, account_id, 6000)
    clock.set(MONDAY + days(364))
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 0
    found = await account(admin, account_id)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", None)
    clock.set(MONDAY + days(366))  # the 6,000 points are out of the rolling year
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 0
    found = await account(admin, account_id)
    assert found.tier_key == "SILVER"
    assert found.downgrade_due_at == MONDAY + days(366 + 30)
    clock.set(MONDAY + days(366 + 29))
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).tier_key == "SILVER"
    clock.set(MONDAY + days(366 + 30))
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 1
    found = await account(admin, account_id)
    assert (found.tier_key, found.downgrade_due_at) == ("STANDARD", None)
    assert found.tier_since == clock()
    kinds = [kind for kind, _title in await notifications(rep)]
    assert kinds == ["loyalty.tier_changed", "loyalty.tier_changed"]


async def test_the_job_run_twice_at_one_moment_changes_once(admin: Api, clock: FakeClock) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE, lasting=True)
    account_id = await member(admin, clock, "Acme", owner_id=rep.user_id)
    await set_programme(admin, downgradeGraceDays=0)
    await earn(admin, clock, account_id, 21000)
    clock.advance(days=400)
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 1
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 0
    assert (await account(admin, account_id)).tier_key == "STANDARD"  # GOLD to STANDARD at once
    assert len(await notifications(rep)) == 2


async def test_earning_back_cancels_the_pending_downgrade(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 5000)
    clock.advance(days=370)
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).downgrade_due_at is not None
    clock.advance(days=10)
    await earn(admin, clock, account_id, 4000)  # not yet back: the grace still runs
    assert (await account(admin, account_id)).downgrade_due_at == MONDAY + days(400)
    await earn(admin, clock, account_id, 1000)
    found = await account(admin, account_id)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", None)
    clock.advance(days=40)
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).tier_key == "SILVER"


async def test_a_partial_fall_keeps_the_grace_and_lands_on_the_tier_reached(
    admin: Api, clock: FakeClock
) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 20000)
    clock.advance(days=200)
    await earn(admin, clock, account_id, 5000)
    clock.advance(days=170)  # the 20,000 fell out, 5,000 remain: SILVER after the grace
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).tier_key == "GOLD"
    clock.advance(days=31)
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).tier_key == "SILVER"


async def test_an_earn_after_the_grace_applies_the_downgrade(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 5000)
    clock.advance(days=370)
    await run_jobs(admin, clock)
    clock.advance(days=31)
    await earn(admin, clock, account_id, 10)  # before the daily job came round
    assert (await account(admin, account_id)).tier_key == "STANDARD"


async def test_reversed_and_refunded_points_do_not_count(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    entry_id = await earn(admin, clock, account_id, 6000)
    assert (await account(admin, account_id)).tier_key == "SILVER"
    await reverse(admin, clock, account_id, entry_id)
    await set_programme(admin, downgradeGraceDays=0)
    await run_jobs(admin, clock)
    assert (await account(admin, account_id)).tier_key == "STANDARD"
    await earn(admin, clock, account_id, 6000, source="COUPON")  # points given back
    assert (await account(admin, account_id)).tier_key == "STANDARD"


async def test_points_paying_a_debt_count_in_full(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    entry_id = await earn(admin, clock, account_id, 3000)
    await spend(admin, clock, account_id, 3000, "REDEEM")
    await reverse(admin, clock, account_id, entry_id)  # 3,000 of debt
    assert (await account(admin, account_id)).debt == 3000
    await earn(admin, clock, account_id, 5000)  # 3,000 pay the debt, all 5,000 count
    found = await account(admin, account_id)
    assert (found.debt, found.balance, found.tier_key) == (0, 2000, "SILVER")


async def test_the_tier_sets_the_customer_grade_when_the_programme_says(
    admin: Api, clock: FakeClock
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Customer { grade } } }"
    off = await member(admin, clock, "Left alone")
    await earn(admin, clock, off, 6000)
    customer_of_off = (await account(admin, off)).customer_id
    assert data(await admin.gql(query, {"id": gid("Customer", customer_of_off)}))["node"] == {
        "grade": "STANDARD"
    }
    await set_programme(admin, tierSetsGrade=True)
    account_id = await member(admin, clock, "Graded")
    await earn(admin, clock, account_id, 21000)
    customer_id = (await account(admin, account_id)).customer_id
    found = data(await admin.gql(query, {"id": gid("Customer", customer_id)}))
    assert found["node"] == {"grade": "GOLD"}
    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "customer.updated"}) '
            "{ edges { node { entityId changes { field before after } } } } }"
        )
    )
    grades = [
        c
        for e in audit["auditEvents"]["edges"]
        for c in e["node"]["changes"]
        if c["field"] == "grade"
    ]
    assert grades == [{"field": "grade", "before": "STANDARD", "after": "GOLD"}]


async def test_a_new_tier_applies_to_members_on_their_next_earn(
    admin: Api, clock: FakeClock
) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 3000)
    await mutate_ok(
        admin,
        "createLoyaltyTier",
        {"key": "BRONZE", "name": "Bronze", "threshold": 2000, "multiplier": "1.1"},
        "tier { key }",
    )
    await earn(admin, clock, account_id, 1)
    assert (await account(admin, account_id)).tier_key == "BRONZE"


async def test_earning_through_the_api_upgrades_and_tells_listeners_who_asked(
    admin: Api, clock: FakeClock
) -> None:
    recorder = Recorder()
    admin.app.state.crm.pm.register(recorder)
    made = await mutate_ok(admin, "createCustomer", {"name": "Shop buyer"}, "customer { id }")
    payload = await mutate_ok(
        admin,
        "earnPoints",
        {"customerId": made["customer"]["id"], "points": 20000, "idempotencyKey": "k-1"},
        "entry { points account { id } }",
    )
    account_id = db_id(payload["entry"]["account"]["id"])
    assert (await account(admin, account_id)).tier_key == "GOLD"
    assert recorder.calls == [(account_id, "STANDARD", "GOLD", False)]  # a request's context


async def test_members_of_a_deactivated_tier_move_at_once(admin: Api, clock: FakeClock) -> None:
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 21000)
    gold = data(await admin.gql("{ loyaltyProgramme { tiers { id key version } } }"))[
        "loyaltyProgramme"
    ]["tiers"][2]
    await mutate_ok(
        admin,
        "updateLoyaltyTier",
        {"id": gold["id"], "version": gold["version"], "active": False},
        "tier { active }",
    )
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 1
    found = await account(admin, account_id)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", None)


async def test_the_job_locks_the_customer_before_the_account(
    admin: Api, clock: FakeClock, count_statements: Callable[[Any], StatementCounter]
) -> None:
    """A downgrade by the job sets the customer's grade: it must lock the customer's row
    before the account, the order earning and merging keep, or the two deadlock."""
    await set_programme(admin, tierSetsGrade=True, downgradeGraceDays=0)
    account_id = await member(admin, clock, "Acme")
    await earn(admin, clock, account_id, 6000)
    customer_id = (await account(admin, account_id)).customer_id
    clock.advance(days=400)
    counter = count_statements(admin.db)
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 1
    statements = [" ".join(s.split()) for s in counter.statements]
    customer_lock = next(
        i for i, s in enumerate(statements) if s.startswith("SELECT customers.id FROM customers")
    )
    account_lock = next(
        i
        for i, s in enumerate(statements)
        if "loyalty_accounts.tier_key" in s and "WHERE loyalty_accounts.id =" in s
    )
    grade_update = next(i for i, s in enumerate(statements) if s.startswith("UPDATE customers"))
    assert customer_lock < account_lock < grade_update
    if admin.db.engine.dialect.name == "postgresql":
        assert statements[customer_lock].endswith("FOR UPDATE")
        assert statements[account_lock].endswith("FOR UPDATE")
    found = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on Customer { grade } } }",
            {"id": gid("Customer", customer_id)},
        )
    )
    assert found["node"] == {"grade": "STANDARD"}


async def test_the_rolling_year_ends_exactly_twelve_months_back(
    admin: Api, clock: FakeClock
) -> None:
    """Points earned exactly 12 months ago are out of the rolling year; a second later they
    were in. Reversing an earn from before the year takes nothing from the year."""
    old = await member(admin, clock, "Acme")
    old_entry = await earn(admin, clock, old, 5000)
    clock.set(MONDAY + days(100))
    kept = await member(admin, clock, "Kept")
    await earn(admin, clock, kept, 5000)
    year_later = MONDAY.replace(year=MONDAY.year + 1)
    clock.set(year_later - days(1 / 86400))
    await run_jobs(admin, clock)
    found = await account(admin, old)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", None)
    clock.set(year_later)
    await run_jobs(admin, clock)
    found = await account(admin, old)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", year_later + days(30))
    clock.set(year_later + days(1))
    await earn(admin, clock, old, 5000)  # earned back within the grace
    await reverse(admin, clock, old, old_entry)  # the 5,000 of a year ago: out of the year
    found = await account(admin, old)
    assert (found.tier_key, found.downgrade_due_at) == ("SILVER", None)
    assert (await account(admin, kept)).tier_key == "SILVER"


async def test_a_lowered_threshold_lifts_members_by_the_daily_job(
    admin: Api, clock: FakeClock
) -> None:
    account_id = await member(admin, clock, "Acme")
    idle = await member(admin, clock, "Idle")
    await earn(admin, clock, account_id, 3000)
    silver = data(await admin.gql("{ loyaltyProgramme { tiers { id key version } } }"))[
        "loyaltyProgramme"
    ]["tiers"][1]
    await mutate_ok(
        admin,
        "updateLoyaltyTier",
        {"id": silver["id"], "version": silver["version"], "threshold": 2500},
        "tier { threshold }",
    )
    clock.advance(days=1)
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 1
    assert (await account(admin, account_id)).tier_key == "SILVER"
    assert (await account(admin, idle)).tier_key == "STANDARD"
    assert (await run_jobs(admin, clock))["loyalty tier changes"] == 0
