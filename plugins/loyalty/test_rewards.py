"""The rewards catalogue and redeeming rewards through HTTP: creating and changing rewards
(every refused input names its field), redemption (points spent, stock taken, a coupon whose
code is shown once and stored only as its SHA-256 and last four characters), every rule a
redemption checks (active, dates in the deployment's calendar, minimum tier, balance,
stock, enrolment, reach), the ``rewards`` list and who may do what.

The deployment's calendar here is Asia/Shanghai (UTC+8), so that a reward's last day ends
before the UTC day does. Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import CUSTOMER_MANAGER, FINANCE, SALES_REPRESENTATIVE, Settings
from plugins.loyalty.models import Coupon, Entry, Reward
from plugins.loyalty.testing import MONDAY
from plugins.loyalty.testing_rewards import (
    COUPON,
    REWARD,
    audit_actions,
    balance_of,
    create_customer,
    create_reward,
    make_member,
    redeem,
)
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import (
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "loyalty"), time_zone="Asia/Shanghai")


def fields(errors: list[dict[str, str]]) -> dict[str, str]:
    return {error["field"]: error["code"] for error in errors}


async def test_create_reward_keeps_every_field_and_is_audited(admin: Api) -> None:
    reward = await create_reward(
        admin,
        name="  Tea set ",
        description="Porcelain, six cups",
        pointsCost=2500,
        stock=3,
        validFrom="2026-11-01",
        validUntil="2026-12-31",
        minTier="silver",
        couponDays=30,
        active=True,
    )
    assert reward == {
        "id": reward["id"],
        "name": "Tea set",
        "description": "Porcelain, six cups",
        "pointsCost": 2500,
        "stock": 3,
        "validFrom": "2026-11-01",
        "validUntil": "2026-12-31",
        "minTier": "SILVER",
        "couponDays": 30,
        "active": True,
        "version": reward["version"],
    }
    ((action, changes),) = await audit_actions(admin, "loyalty.reward.")
    assert action == "loyalty.reward.created"
    assert changes["pointsCost"] == {"before": None, "after": 2500}


async def test_unlimited_stock_and_defaults(admin: Api) -> None:
    reward = await create_reward(admin)
    assert reward["stock"] is None
    assert reward["couponDays"] == 90
    assert reward["active"] is True
    assert reward["minTier"] is None


async def test_create_reward_refuses_each_bad_field(admin: Api) -> None:
    errors = await mutate_refused(
        admin,
        "createReward",
        {
            "name": " ",
            "description": "x" * 2001,
            "pointsCost": 0,
            "stock": -1,
            "validFrom": "2026-12-31",
            "validUntil": "2026-12-01",
            "minTier": "PLATINUM",
            "couponDays": 0,
        },
        REWARD,
    )
    assert fields(errors) == {
        "name": "REQUIRED",
        "description": "TOO_LONG",
        "pointsCost": "OUT_OF_RANGE",
        "stock": "OUT_OF_RANGE",
        "validUntil": "OUT_OF_RANGE",
        "minTier": "INVALID",
        "couponDays": "OUT_OF_RANGE",
    }
    assert "PLATINUM" in next(e["message"] for e in errors if e["field"] == "minTier")
    errors = await mutate_refused(
        admin,
        "createReward",
        {"name": "Big", "pointsCost": 1_000_000_001, "couponDays": 3651},
        REWARD,
    )
    assert fields(errors) == {"pointsCost": "OUT_OF_RANGE", "couponDays": "OUT_OF_RANGE"}


async def test_update_reward_changes_given_fields_only(admin: Api) -> None:
    reward = await create_reward(admin, stock=5, minTier="GOLD", validUntil="2026-12-31")
    payload = await mutate_ok(
        admin,
        "updateReward",
        {
            "id": reward["id"],
            "version": reward["version"],
            "pointsCost": 150,
            "stock": None,
            "minTier": None,
            "validUntil": None,
            "active": False,
        },
        REWARD,
    )
    changed = payload["reward"]
    assert changed["pointsCost"] == 150
    assert changed["stock"] is None
    assert changed["minTier"] is None
    assert changed["validUntil"] is None
    assert changed["active"] is False
    assert changed["name"] == "Coffee mug"
    assert changed["version"] > reward["version"]
    actions = [action for action, _changes in await audit_actions(admin, "loyalty.reward.")]
    assert actions == ["loyalty.reward.created", "loyalty.reward.updated"]


async def test_update_reward_refusals(admin: Api) -> None:
    reward = await create_reward(admin, validFrom="2026-12-01")
    errors = await mutate_refused(
        admin,
        "updateReward",
        {
            "id": reward["id"],
            "version": reward["version"],
            "name": "",
            "pointsCost": None,
            "stock": -5,
            "couponDays": None,
            "active": None,
            "validUntil": "2026-11-30",
            "minTier": "NOPE",
        },
        REWARD,
    )
    assert fields(errors) == {
        "name": "REQUIRED",
        "pointsCost": "REQUIRED",
        "stock": "OUT_OF_RANGE",
        "couponDays": "REQUIRED",
        "active": "REQUIRED",
        "validUntil": "OUT_OF_RANGE",
        "minTier": "INVALID",
    }
    stale = await mutate_refused(
        admin,
        "updateReward",
        {"id": reward["id"], "version": reward["version"] + 7, "name": "Other"},
        REWARD,
    )
    assert fields(stale) == {"version": "CONFLICT"}
    wrong = await mutate_refused(
        admin, "updateReward", {"id": gid("Customer", 1), "version": 1}, REWARD
    )
    assert fields(wrong) == {"id": "INVALID"}
    argument = await not_found_argument(
        admin, "updateReward", {"id": gid("Reward", 999), "version": 1}, REWARD
    )
    assert argument == "input.id"


async def test_catalogue_needs_loyalty_manage(api: Api, admin: Api) -> None:
    reward = await create_reward(admin)
    rep = await api.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(
        'mutation { createReward(input: {name: "X", pointsCost: 1}) { errors { field } } }'
    )
    assert error_code(body) == "FORBIDDEN"
    body = await rep.gql(
        'mutation($id: ID!) { updateReward(input: {id: $id, version: 1, name: "Y"}) '
        "{ errors { field } } }",
        {"id": reward["id"]},
    )
    assert error_code(body) == "FORBIDDEN"
    manager = await api.as_role(CUSTOMER_MANAGER)
    await create_reward(manager, name="Manager's")


async def test_redeem_spends_points_takes_stock_and_issues_a_coupon(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, 1000, clock())
    reward = await create_reward(admin, pointsCost=300, stock=2, couponDays=30)
    payload = await redeem(admin, customer, reward["id"])
    assert payload["balance"] == 700
    assert await balance_of(admin, account_id) == 700
    code = payload["code"]
    assert len(code.replace("-", "")) == 16
    coupon = payload["coupon"]
    assert coupon["codeHint"] == code.replace("-", "")[-4:]
    assert coupon["status"] == "ISSUED"
    assert coupon["reward"] == {"id": reward["id"], "name": "Coffee mug"}
    assert coupon["customer"] == {"id": customer}
    assert coupon["description"] == "Coffee mug"
    issued = dt.datetime.fromisoformat(coupon["issuedAt"])
    assert issued == clock()
    assert dt.datetime.fromisoformat(coupon["expiresAt"]) == issued + dt.timedelta(days=30)
    async with admin.db.read() as session:
        row = await session.get(Coupon, db_id(coupon["id"]))
        assert row is not None
        assert row.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        assert row.code_hint == coupon["codeHint"]
        entry = await session.get(Entry, row.entry_id)
        assert entry is not None
        assert (entry.kind, entry.points, entry.source) == ("REDEEM", -300, "REWARD")
        assert entry.source_ref == str(db_id(reward["id"]))
        stock = await session.scalar(select(Reward.stock).where(Reward.id == db_id(reward["id"])))
    assert stock == 1
    actions = [action for action, _changes in await audit_actions(admin, "loyalty.")]
    assert "loyalty.reward.redeemed" in actions
    assert "loyalty.coupon.issued" in actions
    for _action, changes in await audit_actions(admin, "loyalty."):
        assert code not in str(changes)
        assert code.replace("-", "") not in str(changes)


async def test_codes_are_unique_and_never_shown_again(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 1000, clock())
    reward = await create_reward(admin, pointsCost=10)
    codes = {(await redeem(admin, customer, reward["id"]))["code"] for _ in range(5)}
    assert len(codes) == 5
    body = await admin.gql('{ __type(name: "Coupon") { fields { name } } }')
    names = {field["name"] for field in data(body)["__type"]["fields"]}
    assert "code" not in names
    assert "codeHint" in names


async def test_stock_runs_to_zero_then_refuses(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, 1000, clock())
    reward = await create_reward(admin, pointsCost=100, stock=2)
    await redeem(admin, customer, reward["id"])
    await redeem(admin, customer, reward["id"])
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"rewardId": "BUSINESS_RULE"}
    assert "out of stock" in errors[0]["message"]
    assert await balance_of(admin, account_id) == 800
    body = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on Reward { stock } } }", {"id": reward["id"]}
    )
    assert data(body)["node"] == {"stock": 0}


async def test_inactive_reward_refused(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, 1000, clock())
    reward = await create_reward(admin, active=False)
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"rewardId": "BUSINESS_RULE"}
    assert "not active" in errors[0]["message"]
    assert await balance_of(admin, account_id) == 1000


async def test_dates_are_the_deployments_calendar(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 1000, clock())
    # Monday 09:00 UTC is Monday 17:00 in Shanghai.
    not_yet = await create_reward(admin, validFrom="2026-11-24")
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": not_yet["id"]}, "code"
    )
    assert fields(errors) == {"rewardId": "BUSINESS_RULE"}
    assert "2026-11-24" in errors[0]["message"]
    last_day = await create_reward(admin, validUntil="2026-11-23")
    await redeem(admin, customer, last_day["id"])
    # 16:30 UTC on Monday is already Tuesday 00:30 in Shanghai: the first reward opens, the
    # second has closed, though the UTC day is still Monday.
    clock.set(dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC))
    await redeem(admin, customer, not_yet["id"])
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": last_day["id"]}, "code"
    )
    assert fields(errors) == {"rewardId": "BUSINESS_RULE"}
    assert "until 2026-11-23" in errors[0]["message"]


async def test_minimum_tier(admin: Api, clock: FakeClock) -> None:
    standard = await create_customer(admin, "Standard Co")
    silver = await create_customer(admin, "Silver Co")
    gold = await create_customer(admin, "Gold Co")
    await make_member(admin, standard, 1000, clock())
    await make_member(admin, silver, 1000, clock(), tier="SILVER")
    await make_member(admin, gold, 1000, clock(), tier="GOLD")
    reward = await create_reward(admin, minTier="SILVER")
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": standard, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"customerId": "BUSINESS_RULE"}
    assert "SILVER" in errors[0]["message"]
    assert "STANDARD" in errors[0]["message"]
    await redeem(admin, silver, reward["id"])
    await redeem(admin, gold, reward["id"])
    gold_only = await create_reward(admin, minTier="GOLD")
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": silver, "rewardId": gold_only["id"]}, "code"
    )
    assert fields(errors) == {"customerId": "BUSINESS_RULE"}


async def test_balance_must_cover_the_cost(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, 99, clock())
    reward = await create_reward(admin, pointsCost=100, stock=1)
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"customerId": "BUSINESS_RULE"}
    assert "99" in errors[0]["message"]
    assert await balance_of(admin, account_id) == 99
    async with admin.db.read() as session:
        stock = await session.scalar(select(Reward.stock).where(Reward.id == db_id(reward["id"])))
    assert stock == 1


async def test_expired_points_do_not_pay(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(
        admin, customer, 500, clock(), expires_at=clock() + dt.timedelta(days=1)
    )
    reward = await create_reward(admin, pointsCost=100)
    clock.advance(days=2)
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"customerId": "BUSINESS_RULE"}
    assert await balance_of(admin, account_id) == 500  # the refusal rolled everything back


async def test_redeem_refuses_bad_ids_unknown_rewards_and_non_members(admin: Api) -> None:
    reward = await create_reward(admin)
    errors = await mutate_refused(
        admin,
        "redeemReward",
        {"customerId": gid("Reward", 1), "rewardId": gid("Customer", 1)},
        "code",
    )
    assert fields(errors) == {"customerId": "INVALID", "rewardId": "INVALID"}
    customer = await create_customer(admin, "Not a member")
    errors = await mutate_refused(
        admin, "redeemReward", {"customerId": customer, "rewardId": reward["id"]}, "code"
    )
    assert fields(errors) == {"customerId": "BUSINESS_RULE"}
    assert "not enrolled" in errors[0]["message"]
    argument = await not_found_argument(
        admin,
        "redeemReward",
        {"customerId": gid("Customer", 999), "rewardId": reward["id"]},
        "code",
    )
    assert argument == "input.customerId"
    await make_member(admin, customer, 100, MONDAY)
    argument = await not_found_argument(
        admin, "redeemReward", {"customerId": customer, "rewardId": gid("Reward", 999)}, "code"
    )
    assert argument == "input.rewardId"


async def test_a_sales_representative_redeems_for_own_customers_only(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    own = await create_customer(admin, "Own", owner_id=rep.user_id)
    other = await create_customer(admin, "Other")
    await make_member(admin, own, 500, clock())
    await make_member(admin, other, 500, clock())
    reward = await create_reward(admin)
    payload = await redeem(rep, own, reward["id"])
    assert payload["balance"] == 400
    argument = await not_found_argument(
        rep, "redeemReward", {"customerId": other, "rewardId": reward["id"]}, "code"
    )
    assert argument == "input.customerId"


REWARDS = """
query($filter: RewardFilter, $first: Int, $after: String, $last: Int, $before: String) {
  rewards(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    edges { node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_rewards_list_filters_and_pages(admin: Api, clock: FakeClock) -> None:
    for name in ("Apron", "Bag", "Cap", "Diary"):
        await create_reward(admin, name=name)
    await create_reward(admin, name="Old", active=False)
    await create_reward(admin, name="Gold lounge", minTier="GOLD")
    await create_reward(admin, name="Sold out", stock=0)
    await create_reward(admin, name="Next year", validFrom="2027-01-01")
    names = await admin.walk(REWARDS, ["rewards"], "name", page=3)
    assert names == ["Apron", "Bag", "Cap", "Diary", "Gold lounge", "Next year", "Old", "Sold out"]
    active = await admin.walk(REWARDS, ["rewards"], "name", {"filter": {"active": False}})
    assert active == ["Old"]
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 10, clock())
    available = await admin.walk(
        REWARDS, ["rewards"], "name", {"filter": {"availableTo": customer}}
    )
    assert available == ["Apron", "Bag", "Cap", "Diary"]
    gold = await create_customer(admin, "Gold Co")
    await make_member(admin, gold, 10, clock(), tier="GOLD")
    available = await admin.walk(REWARDS, ["rewards"], "name", {"filter": {"availableTo": gold}})
    assert available == ["Apron", "Bag", "Cap", "Diary", "Gold lounge"]
    body = await admin.gql(REWARDS, {"filter": {"availableTo": await create_customer(admin, "X")}})
    assert error_code(body) == "BAD_USER_INPUT"


async def test_rewards_need_loyalty_read(api: Api, admin: Api) -> None:
    await create_reward(admin)
    nobody = await api.user("nobody@example.com", [])
    body = await nobody.gql("{ rewards { edges { node { id } } } }")
    assert error_code(body) == "FORBIDDEN"
    finance = await api.as_role(FINANCE)
    assert data(await finance.gql("{ rewards { edges { node { id } } } }"))["rewards"]["edges"]


async def test_redeem_payload_on_refusal_is_empty(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 0, clock())
    reward = await create_reward(admin)
    payload = (
        await admin.gql(
            "mutation($input: RedeemRewardInput!) { redeemReward(input: $input) "
            f"{{ code balance {COUPON} errors {{ field }} }} }}",
            {"input": {"customerId": customer, "rewardId": reward["id"]}},
        )
    )["data"]["redeemReward"]
    assert payload == {
        "code": None,
        "balance": None,
        "coupon": None,
        "errors": [{"field": "customerId"}],
    }


async def test_delete_reward_without_coupons_only(api: Api, admin: Api, clock: FakeClock) -> None:
    spare = await create_reward(admin, name="Spare")
    selection = "deletedId"
    stale = await mutate_refused(
        admin, "deleteReward", {"id": spare["id"], "version": spare["version"] + 1}, selection
    )
    assert fields(stale) == {"version": "CONFLICT"}
    rep = await api.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(
        "mutation($id: ID!) { deleteReward(input: {id: $id, version: 1}) { deletedId } }",
        {"id": spare["id"]},
    )
    assert error_code(body) == "FORBIDDEN"
    payload = await mutate_ok(
        admin, "deleteReward", {"id": spare["id"], "version": spare["version"]}, selection
    )
    assert payload["deletedId"] == spare["id"]
    body = await admin.gql("query($id: ID!) { node(id: $id) { id } }", {"id": spare["id"]})
    assert data(body)["node"] is None
    assert [a for a, _c in await audit_actions(admin, "loyalty.reward.")][-1] == (
        "loyalty.reward.deleted"
    )
    argument = await not_found_argument(
        admin, "deleteReward", {"id": spare["id"], "version": 1}, selection
    )
    assert argument == "input.id"
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 500, clock())
    used = await create_reward(admin, name="Popular")
    await redeem(admin, customer, used["id"])
    errors = await mutate_refused(
        admin, "deleteReward", {"id": used["id"], "version": used["version"]}, selection
    )
    assert fields(errors) == {"id": "BUSINESS_RULE"}
    assert "active to false" in errors[0]["message"]


async def test_concurrent_redemptions_never_oversell_or_overspend(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, 500, clock())
    scarce = await create_reward(admin, name="Scarce", pointsCost=10, stock=3)
    plenty = await create_reward(admin, name="Plenty", pointsCost=100)

    async def attempt(reward: dict[str, Any]) -> dict[str, Any]:
        input = {"customerId": customer, "rewardId": reward["id"]}
        return await mutate(admin, "redeemReward", input, "code")

    results = await asyncio.gather(*(attempt(scarce) for _ in range(8)))
    assert sum(1 for result in results if not result["errors"]) == 3
    assert {r["errors"][0]["field"] for r in results if r["errors"]} == {"rewardId"}
    results = await asyncio.gather(*(attempt(plenty) for _ in range(8)))
    assert sum(1 for result in results if not result["errors"]) == 4  # 470 points left
    assert {r["errors"][0]["field"] for r in results if r["errors"]} == {"customerId"}
    assert await balance_of(admin, account_id) == 70
