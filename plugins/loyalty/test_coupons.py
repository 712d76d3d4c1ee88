"""Coupons through HTTP: using one once (a second use refused naming ``code`` and when it
was used), expiry by the clock, cancelling (a reward's coupon gives its points and its stock
back), campaign coupons (every refused input), the ``coupons`` list with its filters and
paging, and who sees and uses which coupon.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import CUSTOMER_MANAGER, FINANCE, SALES_REPRESENTATIVE
from plugins.loyalty.models import Coupon, Entry, Lot, Reward
from plugins.loyalty.service import ledger
from plugins.loyalty.testing_rewards import (
    COUPON,
    COUPON_FIELDS,
    audit_actions,
    balance_of,
    create_customer,
    create_reward,
    make_member,
    redeem,
)
from schema.testkit import Api, FakeClock, StatementCounter
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

ISSUED = f"coupons {{ code coupon {{ {COUPON_FIELDS} }} }}"


def fields(errors: list[dict[str, str]]) -> dict[str, str]:
    return {error["field"]: error["code"] for error in errors}


async def use(api: Api, code: str, reference: str | None = None) -> dict[str, Any]:
    return await mutate_ok(api, "redeemCoupon", {"code": code, "reference": reference}, COUPON)


async def refused_use(api: Api, code: str) -> dict[str, str]:
    (error,) = await mutate_refused(api, "redeemCoupon", {"code": code}, COUPON)
    assert error["field"] == "code"
    return error


async def bought_coupon(
    admin: Api, clock: FakeClock, points: int = 1000, **reward: Any
) -> tuple[str, int, dict[str, Any], dict[str, Any]]:
    """A member (customer id, account id) who redeemed a reward: its payload and the reward."""
    customer = await create_customer(admin, "Acme")
    account_id = await make_member(admin, customer, points, clock())
    created = await create_reward(admin, **{"pointsCost": 300, **reward})
    return customer, account_id, await redeem(admin, customer, created["id"]), created


async def test_a_coupon_is_used_once(admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock)
    code = payload["code"]
    clock.advance(hours=2)
    used = (await use(admin, code, "receipt 42"))["coupon"]
    assert used["status"] == "USED"
    assert used["usedAt"] == clock().isoformat()
    assert used["usedReference"] == "receipt 42"
    assert used["version"] > payload["coupon"]["version"]
    clock.advance(days=1)
    error = await refused_use(admin, code)
    assert error["code"] == "INVALID_TRANSITION"
    assert "already used on 2026-11-23 11:00 (UTC)" in error["message"]
    actions = [action for action, _changes in await audit_actions(admin, "loyalty.coupon.")]
    assert actions == ["loyalty.coupon.issued", "loyalty.coupon.used"]


async def test_the_code_is_read_as_typed(admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock)
    typed = " " + payload["code"].replace("-", " ").lower() + " "
    assert (await use(admin, typed))["coupon"]["status"] == "USED"


async def test_unknown_and_empty_codes_and_long_references(admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock)
    error = await refused_use(admin, "AAAA-BBBB-CCCC-DDDD")
    assert (error["code"], error["message"]) == ("INVALID", "no coupon has this code")
    error = await refused_use(admin, " - ")
    assert error["code"] == "REQUIRED"
    error = await refused_use(admin, "A" * 65)
    assert error["code"] == "TOO_LONG"
    errors = await mutate_refused(
        admin, "redeemCoupon", {"code": payload["code"], "reference": "r" * 101}, COUPON
    )
    assert fields(errors) == {"reference": "TOO_LONG"}


async def test_a_coupon_expires_by_the_clock(admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock, couponDays=10)
    coupon_id = payload["coupon"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on Coupon { status } } }"
    clock.advance(days=10, seconds=-1)
    assert data(await admin.gql(query, {"id": coupon_id}))["node"] == {"status": "ISSUED"}
    clock.advance(seconds=1)
    assert data(await admin.gql(query, {"id": coupon_id}))["node"] == {"status": "EXPIRED"}
    error = await refused_use(admin, payload["code"])
    assert error["code"] == "INVALID_TRANSITION"
    assert "expired on 2026-12-03 09:00 (UTC)" in error["message"]
    errors = await mutate_refused(admin, "cancelCoupon", {"id": coupon_id}, COUPON)
    assert fields(errors) == {"id": "INVALID_TRANSITION"}


async def test_cancelling_a_reward_coupon_returns_points_and_stock(
    admin: Api, clock: FakeClock
) -> None:
    _customer, account_id, payload, reward = await bought_coupon(admin, clock, stock=1)
    assert await balance_of(admin, account_id) == 700
    cancelled = await mutate_ok(
        admin,
        "cancelCoupon",
        {"id": payload["coupon"]["id"], "reason": "customer changed their mind"},
        COUPON,
    )
    assert cancelled["coupon"]["status"] == "CANCELLED"
    assert await balance_of(admin, account_id) == 1000
    async with admin.db.read() as session:
        stock = await session.scalar(select(Reward.stock).where(Reward.id == db_id(reward["id"])))
        entries = (
            await session.execute(
                select(Entry.kind, Entry.points, Entry.source, Entry.reason)
                .where(Entry.account_id == account_id)
                .order_by(Entry.id)
            )
        ).all()
    assert stock == 1
    assert entries[-1] == ("EARN", 300, "COUPON", "customer changed their mind")
    error = await refused_use(admin, payload["code"])
    assert "was cancelled" in error["message"]
    again = await mutate_refused(admin, "cancelCoupon", {"id": payload["coupon"]["id"]}, COUPON)
    assert fields(again) == {"id": "INVALID_TRANSITION"}
    assert await balance_of(admin, account_id) == 1000
    changes = dict(await audit_actions(admin, "loyalty.coupon.cancelled"))
    assert changes["loyalty.coupon.cancelled"]["pointsReturned"] == 300


async def test_a_used_coupon_cannot_be_cancelled(admin: Api, clock: FakeClock) -> None:
    _customer, account_id, payload, _reward = await bought_coupon(admin, clock)
    await use(admin, payload["code"])
    errors = await mutate_refused(admin, "cancelCoupon", {"id": payload["coupon"]["id"]}, COUPON)
    assert fields(errors) == {"id": "INVALID_TRANSITION"}
    assert "already used" in errors[0]["message"]
    assert await balance_of(admin, account_id) == 700


async def test_cancel_refusals_and_permission(api: Api, admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock)
    errors = await mutate_refused(admin, "cancelCoupon", {"id": gid("Reward", 1)}, COUPON)
    assert fields(errors) == {"id": "INVALID"}
    errors = await mutate_refused(
        admin, "cancelCoupon", {"id": payload["coupon"]["id"], "reason": "r" * 501}, COUPON
    )
    assert fields(errors) == {"reason": "TOO_LONG"}
    argument = await not_found_argument(admin, "cancelCoupon", {"id": gid("Coupon", 999)}, COUPON)
    assert argument == "input.id"
    rep = await api.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(
        "mutation($id: ID!) { cancelCoupon(input: {id: $id}) { errors { field } } }",
        {"id": payload["coupon"]["id"]},
    )
    assert error_code(body) == "FORBIDDEN"


async def test_campaign_coupons_for_nobody_in_particular(admin: Api, clock: FakeClock) -> None:
    payload = await mutate_ok(
        admin,
        "issueCoupons",
        {"count": 3, "campaign": "Spring fair", "description": "10% off", "validDays": 14},
        ISSUED,
    )
    issued = payload["coupons"]
    assert len({item["code"] for item in issued}) == 3
    for item in issued:
        coupon = item["coupon"]
        assert coupon["campaign"] == "Spring fair"
        assert coupon["description"] == "10% off"
        assert coupon["customer"] is None
        assert coupon["reward"] is None
        assert coupon["codeHint"] == item["code"].replace("-", "")[-4:]
    used = await use(admin, issued[0]["code"])
    assert used["coupon"]["status"] == "USED"
    # a campaign coupon for nobody is cancelled without points or stock to give back
    cancelled = await mutate_ok(admin, "cancelCoupon", {"id": issued[1]["coupon"]["id"]}, COUPON)
    assert cancelled["coupon"]["status"] == "CANCELLED"


async def test_campaign_coupons_for_members(api: Api, admin: Api, clock: FakeClock) -> None:
    first = await create_customer(admin, "First")
    second = await create_customer(admin, "Second")
    await make_member(admin, first, 0, clock())
    await make_member(admin, second, 0, clock())
    payload = await mutate_ok(
        admin,
        "issueCoupons",
        {"customerIds": [first, second], "campaign": "Anniversary", "validDays": 30},
        ISSUED,
    )
    assert [item["coupon"]["customer"]["id"] for item in payload["coupons"]] == [first, second]
    manager = await api.as_role(CUSTOMER_MANAGER)
    await mutate_ok(
        manager,
        "issueCoupons",
        {"customerIds": [first], "campaign": "Anniversary", "validDays": 30},
        ISSUED,
    )


async def test_campaign_coupons_refused_inputs(api: Api, admin: Api, clock: FakeClock) -> None:
    base = {"campaign": "C", "validDays": 30}
    refusals: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({}, {"customerIds": "REQUIRED"}),
        ({"count": 2, "customerIds": []}, {"count": "INVALID"}),
        ({"customerIds": []}, {"customerIds": "REQUIRED"}),
        ({"count": 0}, {"count": "OUT_OF_RANGE"}),
        ({"count": 501}, {"count": "OUT_OF_RANGE"}),
        ({"count": 1, "validDays": 0}, {"validDays": "OUT_OF_RANGE"}),
        ({"count": 1, "validDays": 3651}, {"validDays": "OUT_OF_RANGE"}),
        ({"count": 1, "campaign": " "}, {"campaign": "REQUIRED"}),
        ({"count": 1, "campaign": "c" * 101}, {"campaign": "TOO_LONG"}),
        ({"count": 1, "description": "d" * 2001}, {"description": "TOO_LONG"}),
        ({"customerIds": [gid("Reward", 1)]}, {"customerIds.0": "INVALID"}),
    ]
    for change, expected in refusals:
        errors = await mutate_refused(admin, "issueCoupons", {**base, **change}, ISSUED)
        assert fields(errors) == expected, change
    member = await create_customer(admin, "Member")
    await make_member(admin, member, 0, clock())
    stranger = await create_customer(admin, "Not a member")
    errors = await mutate_refused(
        admin, "issueCoupons", {**base, "customerIds": [member, stranger]}, ISSUED
    )
    assert fields(errors) == {"customerIds.1": "BUSINESS_RULE"}
    assert await audit_actions(admin, "loyalty.coupon.") == []
    rep = await api.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(
        'mutation { issueCoupons(input: {count: 1, campaign: "C", validDays: 1}) '
        "{ errors { field } } }"
    )
    assert error_code(body) == "FORBIDDEN"


COUPONS = f"""
query($filter: CouponFilter, $first: Int, $after: String, $last: Int, $before: String) {{
  coupons(filter: $filter, first: $first, after: $after, last: $last, before: $before) {{
    edges {{ node {{ {COUPON_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""


async def test_coupon_list_filters_and_pages(admin: Api, clock: FakeClock) -> None:
    customer, _account, bought, _reward = await bought_coupon(admin, clock, points=5000)
    other = await create_customer(admin, "Other")
    await make_member(admin, other, 0, clock())
    clock.advance(minutes=1)
    campaign = await mutate_ok(
        admin,
        "issueCoupons",
        {"customerIds": [customer, other], "campaign": "Fair", "validDays": 1},
        ISSUED,
    )
    clock.advance(minutes=1)
    loose = await mutate_ok(
        admin, "issueCoupons", {"count": 2, "campaign": "Flyer", "validDays": 100}, ISSUED
    )
    await use(admin, loose["coupons"][0]["code"])
    clock.advance(days=2)  # the Fair coupons expire
    everything = await admin.walk(COUPONS, ["coupons"], "id")
    expected = [item["coupon"]["id"] for item in reversed(loose["coupons"])]
    expected += [item["coupon"]["id"] for item in reversed(campaign["coupons"])]
    expected.append(bought["coupon"]["id"])
    assert everything == expected  # latest first
    mine = await admin.walk(COUPONS, ["coupons"], "id", {"filter": {"customerId": customer}})
    assert mine == [campaign["coupons"][0]["coupon"]["id"], bought["coupon"]["id"]]

    async def statuses(*wanted: str) -> list[str]:
        found = await admin.walk(
            COUPONS, ["coupons"], "status", {"filter": {"status": list(wanted)}}
        )
        return sorted(found)

    assert await statuses("EXPIRED") == ["EXPIRED", "EXPIRED"]
    assert await statuses("ISSUED") == ["ISSUED", "ISSUED"]
    assert await statuses("USED") == ["USED"]
    assert await statuses("USED", "EXPIRED") == ["EXPIRED", "EXPIRED", "USED"]
    assert await statuses("CANCELLED") == []
    flyers = await admin.walk(COUPONS, ["coupons"], "campaign", {"filter": {"campaign": "Flyer"}})
    assert flyers == ["Flyer", "Flyer"]
    body = await admin.gql(COUPONS, {"filter": {"customerId": gid("Reward", 1)}})
    assert error_code(body) == "BAD_USER_INPUT"


async def test_a_representative_sees_and_uses_only_own_customers_coupons(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    own = await create_customer(admin, "Own", owner_id=rep.user_id)
    other = await create_customer(admin, "Other")
    await make_member(admin, own, 1000, clock())
    await make_member(admin, other, 1000, clock())
    reward = await create_reward(admin, pointsCost=10)
    mine = await redeem(rep, own, reward["id"])
    theirs = await redeem(admin, other, reward["id"])
    loose = await mutate_ok(
        admin, "issueCoupons", {"count": 1, "campaign": "Flyer", "validDays": 9}, ISSUED
    )
    seen = await rep.walk(COUPONS, ["coupons"], "id")
    assert seen == [mine["coupon"]["id"]]
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert data(await rep.gql(query, {"id": theirs["coupon"]["id"]}))["node"] is None
    assert data(await rep.gql(query, {"id": mine["coupon"]["id"]}))["node"] is not None
    none = await rep.walk(COUPONS, ["coupons"], "id", {"filter": {"customerId": other}})
    assert none == []
    # the code of another's coupon reads as unknown; nobody's campaign coupon may be used
    error = await refused_use(rep, theirs["code"])
    assert error["message"] == "no coupon has this code"
    assert (await use(rep, loose["coupons"][0]["code"]))["coupon"]["status"] == "USED"
    assert (await use(rep, mine["code"]))["coupon"]["status"] == "USED"
    finance = await api.as_role(FINANCE)
    assert len(await finance.walk(COUPONS, ["coupons"], "id")) == 3
    body = await finance.gql(
        'mutation { redeemCoupon(input: {code: "AAAA"}) { errors { field } } }'
    )
    assert error_code(body) == "FORBIDDEN"


async def test_concurrent_uses_of_one_code_succeed_once(admin: Api, clock: FakeClock) -> None:
    _customer, _account, payload, _reward = await bought_coupon(admin, clock)
    results = await asyncio.gather(
        *(
            mutate(admin, "redeemCoupon", {"code": payload["code"], "reference": str(n)}, COUPON)
            for n in range(8)
        )
    )
    succeeded = [result for result in results if not result["errors"]]
    assert len(succeeded) == 1
    for result in results:
        if result["errors"]:
            assert result["errors"][0]["field"] == "code"
            assert "already used" in result["errors"][0]["message"]


async def test_a_cancel_follows_a_coupon_a_merge_just_moved(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coupon is read before its account is locked: a merge committed in between moves
    it to another account, and the points go back to the account that holds it now."""
    _customer, first_account, payload, _reward = await bought_coupon(admin, clock)
    other = await make_member(admin, await create_customer(admin, "Target"), 0, clock())
    coupon_id = db_id(payload["coupon"]["id"])
    real_lock = ledger.lock
    moved: list[int] = []

    async def lock(session: AsyncSession, account_id: int) -> Any:
        if not moved:  # what the merge did, as it would be seen once the lock is held
            moved.append(account_id)
            await session.execute(
                update(Coupon).where(Coupon.id == coupon_id).values(account_id=other)
            )
        return await real_lock(session, account_id)

    monkeypatch.setattr(ledger, "lock", lock)
    cancelled = await mutate_ok(admin, "cancelCoupon", {"id": payload["coupon"]["id"]}, COUPON)
    assert cancelled["coupon"]["status"] == "CANCELLED"
    assert moved == [first_account]
    assert (await balance_of(admin, first_account), await balance_of(admin, other)) == (700, 300)


async def test_cancelled_points_come_back_with_their_own_expiry(
    admin: Api, clock: FakeClock
) -> None:
    """A cancellation never lengthens a point's life: the points return with the expiry of
    the lots the redemption took them from, and those already past it expire at once."""
    customer = await create_customer(admin, "Acme")
    soon = clock() + dt.timedelta(days=10)
    account_id = await make_member(admin, customer, 200, clock(), expires_at=soon)
    async with admin.db.transaction() as session:
        account = await ledger.lock(session, account_id)
        await ledger.earn(
            session,
            account,
            1000,
            source="MANUAL",
            source_ref=None,
            reason="test",
            actor_id=None,
            actor_label="test",
            now=clock(),
            expires_at=None,
        )
    created = await create_reward(admin, pointsCost=300, couponDays=90)
    first = await redeem(admin, customer, created["id"])  # 200 expiring soon, 100 never
    second = await redeem(admin, customer, created["id"])  # 300 that never expire
    assert await balance_of(admin, account_id) == 600
    await mutate_ok(admin, "cancelCoupon", {"id": second["coupon"]["id"]}, COUPON)
    clock.advance(days=20)
    await mutate_ok(admin, "cancelCoupon", {"id": first["coupon"]["id"]}, COUPON)
    async with admin.db.read() as session:
        lots = (
            await session.execute(
                select(Entry.kind, Entry.points, Lot.expires_at)
                .outerjoin(Lot, Lot.entry_id == Entry.id)
                .where(Entry.account_id == account_id, Entry.source.in_(("COUPON", "EXPIRY")))
                .order_by(Entry.id)
            )
        ).all()
    assert [(kind, points, at) for kind, points, at in lots] == [
        ("EARN", 300, None),  # the second coupon's points never expire
        ("EARN", 200, soon),  # the first's 200 were to expire 10 days after they were earned
        ("EARN", 100, None),
        ("EXPIRE", -200, None),  # ... and that day has passed
    ]
    assert await balance_of(admin, account_id) == 1000


async def test_a_redemption_locks_the_customer_then_the_account_then_the_reward(
    admin: Api, clock: FakeClock, count_statements: Callable[[Any], StatementCounter]
) -> None:
    customer = await create_customer(admin, "Acme")
    await make_member(admin, customer, 1000, clock())
    created = await create_reward(admin, pointsCost=300, stock=5)
    counter = count_statements(admin.db)
    await redeem(admin, customer, created["id"])
    statements = [" ".join(s.split()) for s in counter.statements]

    def first(test: Callable[[str], bool]) -> int:
        return next(i for i, s in enumerate(statements) if test(s))

    customer_lock = first(lambda s: s.startswith("SELECT customers.id FROM customers WHERE"))
    account_lock = first(
        lambda s: "loyalty_accounts.tier_key" in s and "WHERE loyalty_accounts.id =" in s
    )
    stock = first(lambda s: s.startswith("UPDATE loyalty_rewards SET stock"))
    assert customer_lock < account_lock < stock
    if admin.db.engine.dialect.name == "postgresql":
        assert statements[customer_lock].endswith("FOR UPDATE")
        assert statements[account_lock].endswith("FOR UPDATE")
