"""earnPoints (idempotent by key), adjustPoints, enrolCustomer and the rate rule, through
HTTP; Customer.loyalty and the account queries."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE, Settings
from plugins.loyalty.ledger_testing import create_customer, differences
from plugins.loyalty.models import Account, Programme
from plugins.loyalty.service import earning
from plugins.loyalty.testing import MONDAY
from plugins.loyalty.testing_rewards import audit_actions
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import data, db_id, error_code, gid, mutate, mutate_ok
from schema.testkit_webhooks import WebhookReceiver

EARNED = """
entry { id kind points debtPoints source sourceRef amount currency actorLabel
        actor { id } createdAt }
account { id balance debt lifetimeEarned tier { key } }
replayed
"""
ADJUSTED = "entry { id kind points reason source } account { balance lifetimeEarned }"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # The webhook test posts to a receiver on this machine.
    return make_settings(plugins=("fixture", "sales", "loyalty"), webhooks_allow_private=True)


async def set_programme(api: Api, **values: Any) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(Programme)
            .where(Programme.id == 1)
            .values(version=Programme.version + 1, **values)
        )


async def set_tier(api: Api, customer: str, tier: str) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(Account)
            .where(Account.customer_id == db_id(customer))
            .values(tier_key=tier, version=Account.version + 1)
        )


async def earn(api: Api, customer: str, **values: Any) -> dict[str, Any]:
    return await mutate(api, "earnPoints", {"customerId": customer, **values}, EARNED)


def refusal(payload: dict[str, Any]) -> list[tuple[str, str]]:
    assert payload.get("entry") is None, payload
    return [(error["field"], error["code"]) for error in payload["errors"]]


# --- the rate rule ---------------------------------------------------------------------------


def programme(rates: dict[str, str], rounding: str = "DOWN") -> Programme:
    return Programme(id=1, earn_rates=rates, rounding=rounding)


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "multiplier", "points"),
    [
        ("123.99", "1", "DOWN", "1.000", 123),
        ("123.50", "1", "HALF_UP", "1.000", 124),
        ("123.49", "1", "HALF_UP", "1.000", 123),
        ("123.01", "1", "UP", "1.000", 124),
        ("100", "1", "DOWN", "1.250", 125),
        ("99.99", "1", "DOWN", "1.500", 149),
        ("1234.5", "0.1", "DOWN", "1.000", 123),
        ("0.99", "1", "DOWN", "1.000", 0),
    ],
)
def test_points_for_multiplies_the_rate_by_the_tier_and_rounds_as_set(
    amount: str, rate: str, rounding: str, multiplier: str, points: int
) -> None:
    found = earning.points_for(
        decimal.Decimal(amount),
        "CNY",
        programme({"CNY": rate}, rounding),
        decimal.Decimal(multiplier),
    )
    assert found == points


def test_a_currency_without_a_rate_earns_nothing() -> None:
    assert (
        earning.points_for(decimal.Decimal(100), "USD", programme({"CNY": "1"}), decimal.Decimal(1))
        == 0
    )


def test_expiry_counts_calendar_months_to_the_last_day() -> None:
    start = dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)
    assert earning.add_months(start, 1) == dt.datetime(2026, 2, 28, 10, tzinfo=dt.UTC)
    assert earning.add_months(start, 24) == dt.datetime(2028, 1, 31, 10, tzinfo=dt.UTC)
    assert earning.add_months(start, -12) == dt.datetime(2025, 1, 31, 10, tzinfo=dt.UTC)


# --- earnPoints -------------------------------------------------------------------------------


async def test_earn_points_for_an_amount_enrols_and_earns_at_the_rate(admin: Api) -> None:
    customer = await create_customer(admin, "Shopper")
    payload = await earn(admin, customer, amount="123.45", currency="cny", reference="R-1")
    assert payload["errors"] == []
    entry, account = payload["entry"], payload["account"]
    assert (entry["kind"], entry["points"], entry["debtPoints"]) == ("EARN", 123, 0)
    assert (entry["source"], entry["sourceRef"]) == ("API", "R-1")
    assert (entry["amount"], entry["currency"]) == ("123.45", "CNY")
    assert entry["actor"] == {"id": gid("User", admin.user_id)}
    assert entry["actorLabel"] == "admin@example.com"
    assert entry["createdAt"] == MONDAY.isoformat()
    assert (account["balance"], account["lifetimeEarned"], account["tier"]["key"]) == (
        123,
        123,
        "STANDARD",
    )
    assert payload["replayed"] is False
    assert await differences(admin) == []


async def test_earn_points_given_as_points(admin: Api) -> None:
    customer = await create_customer(admin, "Shopper")
    payload = await earn(admin, customer, points=50)
    assert (payload["entry"]["points"], payload["entry"]["amount"]) == (50, None)
    assert payload["account"]["balance"] == 50


async def test_earn_points_at_the_members_tier_multiplier(admin: Api) -> None:
    customer = await create_customer(admin, "Silver")
    await mutate_ok(admin, "enrolCustomer", {"customerId": customer}, "account { id }")
    await set_tier(admin, customer, "SILVER")
    payload = await earn(admin, customer, amount="100", currency="CNY")
    assert payload["entry"]["points"] == 125


async def test_the_same_idempotency_key_earns_once_and_answers_the_first_result(
    admin: Api,
) -> None:
    customer = await create_customer(admin, "Twice")
    values = {"amount": "80", "currency": "CNY", "reference": "R-7", "idempotencyKey": "k-1"}
    first = await earn(admin, customer, **values)
    again = await earn(admin, customer, **values)
    assert again["errors"] == []
    assert again["replayed"] is True
    assert again["entry"]["id"] == first["entry"]["id"]
    assert again["account"]["balance"] == 80


async def test_concurrent_requests_under_one_key_earn_once(admin: Api) -> None:
    customer = await create_customer(admin, "Hurried")
    values = {"points": 10, "idempotencyKey": "k-3"}
    answers = await asyncio.gather(*(earn(admin, customer, **values) for _n in range(5)))
    assert [answer["errors"] for answer in answers] == [[]] * 5
    assert len({answer["entry"]["id"] for answer in answers}) == 1
    assert [answer["replayed"] for answer in answers].count(False) == 1
    assert (await earn(admin, customer, **values))["account"]["balance"] == 10


async def test_another_request_under_a_used_key_is_refused_naming_it(admin: Api) -> None:
    customer = await create_customer(admin, "Twice")
    other = await create_customer(admin, "Other")
    await earn(admin, customer, points=10, idempotencyKey="k-2")
    for values in (
        {"points": 11, "idempotencyKey": "k-2"},
        {"amount": "10", "currency": "CNY", "idempotencyKey": "k-2"},
    ):
        assert refusal(await earn(admin, customer, **values)) == [("idempotencyKey", "CONFLICT")]
    assert refusal(await earn(admin, other, points=10, idempotencyKey="k-2")) == [
        ("idempotencyKey", "CONFLICT")
    ]


async def test_two_clients_choosing_the_same_key_each_earn(admin: Api) -> None:
    """A key is scoped to its client: another client's identical request under the same key
    earns too (it is not answered with the first client's result)."""
    customer = await create_customer(admin, "Shared key")
    till = await admin.as_role(SUPPORT_REPRESENTATIVE)
    values = {"points": 10, "idempotencyKey": "receipt-1"}
    first = await earn(admin, customer, **values)
    second = await earn(till, customer, **values)
    assert (first["replayed"], second["replayed"]) == (False, False)
    assert first["entry"]["id"] != second["entry"]["id"]
    assert second["account"]["balance"] == 20
    again = await earn(till, customer, **values)
    assert (again["replayed"], again["entry"]["id"]) == (True, second["entry"]["id"])
    assert again["account"]["balance"] == 20
    refused = await earn(till, customer, points=11, idempotencyKey="receipt-1")
    assert refusal(refused) == [("idempotencyKey", "CONFLICT")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"points": 5, "amount": "5", "currency": "CNY"}, [("points", "INVALID")]),
        ({}, [("amount", "REQUIRED")]),
        ({"amount": "0", "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "-3", "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "1.00001", "currency": "CNY"}, [("amount", "INVALID")]),
        ({"amount": "1" + "0" * 14, "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
        ({"amount": "10"}, [("currency", "REQUIRED")]),
        ({"amount": "10", "currency": "XYZ"}, [("currency", "INVALID")]),
        ({"amount": "10", "currency": "USD"}, [("currency", "BUSINESS_RULE")]),
        ({"amount": "0.99", "currency": "CNY"}, [("amount", "BUSINESS_RULE")]),
        ({"points": 0}, [("points", "OUT_OF_RANGE")]),
        ({"points": -1}, [("points", "OUT_OF_RANGE")]),
        ({"points": 1_000_000_001}, [("points", "OUT_OF_RANGE")]),
        ({"points": 1, "reference": "r" * 101}, [("reference", "TOO_LONG")]),
        ({"points": 1, "idempotencyKey": "k" * 161}, [("idempotencyKey", "TOO_LONG")]),
        ({"amount": "1000000001", "currency": "CNY"}, [("amount", "OUT_OF_RANGE")]),
    ],
)
async def test_earn_points_refuses_bad_input_naming_the_field(
    admin: Api, values: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    customer = await create_customer(admin, "Refused")
    assert refusal(await earn(admin, customer, **values)) == expected


async def test_earn_points_refuses_an_id_of_another_type(admin: Api) -> None:
    payload = await mutate(admin, "earnPoints", {"customerId": gid("User", 1), "points": 1}, EARNED)
    assert refusal(payload) == [("customerId", "INVALID")]


async def test_earn_points_for_an_unknown_customer_is_not_found(admin: Api) -> None:
    body = await admin.gql(
        "mutation($input: EarnPointsInput!) { earnPoints(input: $input) { replayed } }",
        {"input": {"customerId": gid("Customer", 999999), "points": 1}},
    )
    assert error_code(body) == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "input.customerId"


async def test_earn_points_without_auto_enrol_needs_an_enrolled_customer(admin: Api) -> None:
    await set_programme(admin, auto_enrol=False)
    customer = await create_customer(admin, "Stranger")
    assert refusal(await earn(admin, customer, points=5)) == [("customerId", "BUSINESS_RULE")]
    await mutate_ok(admin, "enrolCustomer", {"customerId": customer}, "account { id }")
    assert (await earn(admin, customer, points=5))["account"]["balance"] == 5


async def test_earn_points_needs_loyalty_write(admin: Api) -> None:
    customer = await create_customer(admin, "Guarded")
    finance = await admin.as_role(FINANCE)
    body = await finance.gql(
        "mutation($input: EarnPointsInput!) { earnPoints(input: $input) { replayed } }",
        {"input": {"customerId": customer, "points": 1}},
    )
    assert error_code(body) == "FORBIDDEN"


async def test_a_sales_representative_earns_only_for_their_own_customers(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    theirs = await create_customer(admin, "Theirs", owner_id=rep.user_id)
    others = await create_customer(admin, "Others")
    assert (await earn(rep, theirs, points=3))["account"]["balance"] == 3
    body = await rep.gql(
        "mutation($input: EarnPointsInput!) { earnPoints(input: $input) { replayed } }",
        {"input": {"customerId": others, "points": 3}},
    )
    assert error_code(body) == "NOT_FOUND"


# --- adjustPoints ------------------------------------------------------------------------------


async def adjust(api: Api, customer: str, points: int, reason: str = "goodwill") -> dict[str, Any]:
    values = {"customerId": customer, "points": points, "reason": reason}
    return await mutate(api, "adjustPoints", values, ADJUSTED)


async def test_adjust_points_adds_and_takes_away_with_a_reason(admin: Api) -> None:
    customer = await create_customer(admin, "Adjusted")
    await earn(admin, customer, points=100)
    added = await adjust(admin, customer, 30)
    assert added["entry"] == {
        "id": added["entry"]["id"],
        "kind": "ADJUST",
        "points": 30,
        "reason": "goodwill",
        "source": "MANUAL",
    }
    assert added["account"] == {"balance": 130, "lifetimeEarned": 100}
    taken = await adjust(admin, customer, -120, "correction")
    assert (taken["entry"]["points"], taken["account"]["balance"]) == (-120, 10)
    audited = await audit_actions(admin, "loyalty.account.adjusted")
    assert [(changes["points"], changes["reason"]) for _action, changes in audited] == [
        (30, "goodwill"),
        (-120, "correction"),
    ]
    assert audited[1][1]["entryId"] == taken["entry"]["id"]
    assert await differences(admin) == []


async def test_adjust_points_refuses_bad_input_naming_the_field(admin: Api) -> None:
    customer = await create_customer(admin, "Adjusted")
    stranger = await create_customer(admin, "Stranger")
    await earn(admin, customer, points=10)
    assert refusal(await adjust(admin, customer, -11)) == [("points", "BUSINESS_RULE")]
    assert refusal(await adjust(admin, customer, 0)) == [("points", "OUT_OF_RANGE")]
    assert refusal(await adjust(admin, customer, 5, "  ")) == [("reason", "REQUIRED")]
    assert refusal(await adjust(admin, customer, 5, "r" * 2001)) == [("reason", "TOO_LONG")]
    assert refusal(await adjust(admin, customer, -2_000_000_000)) == [("points", "OUT_OF_RANGE")]
    assert refusal(await adjust(admin, stranger, 5)) == [("customerId", "BUSINESS_RULE")]


async def test_adjust_points_needs_loyalty_adjust(admin: Api) -> None:
    customer = await create_customer(admin, "Guarded")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(
        "mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { errors { field } } }",
        {"input": {"customerId": customer, "points": 5, "reason": "x"}},
    )
    assert error_code(body) == "FORBIDDEN"


# --- enrolCustomer and reading accounts -------------------------------------------------------


async def test_enrolling_twice_answers_the_same_account(admin: Api) -> None:
    customer = await create_customer(admin, "Member")
    selection = "account { id balance debt tier { key name } enrolledAt customer { id } }"
    first = await mutate_ok(admin, "enrolCustomer", {"customerId": customer}, selection)
    again = await mutate_ok(admin, "enrolCustomer", {"customerId": customer}, selection)
    assert first == again
    account = first["account"]
    assert (account["balance"], account["debt"], account["tier"]["key"]) == (0, 0, "STANDARD")
    assert account["customer"] == {"id": customer}
    assert account["enrolledAt"] == MONDAY.isoformat()
    assert await audit_actions(admin, "loyalty.account.enrolled") == [
        (
            "loyalty.account.enrolled",
            {
                "customerId": {"before": None, "after": customer},
                "tier": {"before": None, "after": "STANDARD"},
            },
        )
    ]


ACCOUNT = """
id balance debt lifetimeEarned earnedLast12Months tier { key name }
expiringSoon(days: 400) { points on }
ledger(first: 2) { totalCount edges { node { kind points source } } }
coupons(first: 5) { totalCount }
"""


async def test_customer_loyalty_shows_the_account_and_its_ledger(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Member")
    stranger = await create_customer(admin, "Stranger")
    await earn(admin, customer, points=40)
    clock.advance(days=400)
    await earn(admin, customer, points=60)
    await adjust(admin, customer, -10)
    body = await admin.gql(
        f"""query($id: ID!, $other: ID!) {{
          customer(id: $id) {{ loyalty {{ {ACCOUNT} }} }}
          other: customer(id: $other) {{ loyalty {{ id }} }}
        }}""",
        {"id": customer, "other": stranger},
    )
    found = data(body)
    assert found["other"] == {"loyalty": None}
    account = found["customer"]["loyalty"]
    assert (account["balance"], account["lifetimeEarned"], account["earnedLast12Months"]) == (
        90,
        100,
        60,
    )
    # 24 months' expiry: 30 left of the first 40 (the adjustment took the oldest lot first)
    expiring = account["expiringSoon"]
    assert [item["points"] for item in expiring] == [30]
    assert expiring[0]["on"] == "2028-11-23"
    assert account["ledger"]["totalCount"] == 3
    assert account["coupons"] == {"totalCount": 0}
    assert [edge["node"] for edge in account["ledger"]["edges"]] == [
        {"kind": "ADJUST", "points": -10, "source": "MANUAL"},
        {"kind": "EARN", "points": 60, "source": "API"},
    ]


async def test_expiring_soon_refuses_days_out_of_range(admin: Api) -> None:
    customer = await create_customer(admin, "Member")
    await earn(admin, customer, points=1)
    for days in (0, 3661):
        body = await admin.gql(
            "query($id: ID!, $days: Int!) { customer(id: $id) { loyalty { "
            "expiringSoon(days: $days) { points } } } }",
            {"id": customer, "days": days},
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == "days"


async def test_loyalty_accounts_filter_by_tier_customer_and_balance(admin: Api) -> None:
    rich = await create_customer(admin, "Rich")
    poor = await create_customer(admin, "Poor")
    gold = await create_customer(admin, "Gold")
    await earn(admin, rich, points=500)
    await earn(admin, poor, points=5)
    await earn(admin, gold, points=50)
    await set_tier(admin, gold, "GOLD")

    async def customers(filter: dict[str, Any]) -> list[str]:
        body = await admin.gql(
            """query($filter: LoyaltyAccountFilter) {
              loyaltyAccounts(filter: $filter, first: 10) { edges { node { customer { id } } } }
            }""",
            {"filter": filter},
        )
        edges = data(body)["loyaltyAccounts"]["edges"]
        return [edge["node"]["customer"]["id"] for edge in edges]

    assert await customers({}) == [rich, poor, gold]
    assert await customers({"minBalance": 50}) == [rich, gold]
    assert await customers({"tier": "gold"}) == [gold]
    assert await customers({"customerId": poor}) == [poor]
    body = await admin.gql(
        "query($filter: LoyaltyAccountFilter) { loyaltyAccounts(filter: $filter) { totalCount } }",
        {"filter": {"customerId": gid("User", 1)}},
    )
    assert error_code(body) == "BAD_USER_INPUT"


async def test_loyalty_account_by_id_and_node(admin: Api) -> None:
    customer = await create_customer(admin, "Member")
    payload = await earn(admin, customer, points=7)
    account_id = payload["account"]["id"]
    body = await admin.gql(
        """query($id: ID!, $entry: ID!) {
          loyaltyAccount(id: $id) { balance }
          node(id: $entry) { ... on LoyaltyEntry { points account { id } } }
        }""",
        {"id": account_id, "entry": payload["entry"]["id"]},
    )
    assert data(body) == {
        "loyaltyAccount": {"balance": 7},
        "node": {"points": 7, "account": {"id": account_id}},
    }


async def test_accounts_are_scoped_to_the_callers_customers(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    theirs = await create_customer(admin, "Theirs", owner_id=rep.user_id)
    others = await create_customer(admin, "Others")
    await earn(admin, theirs, points=1)
    payload = await earn(admin, others, points=2)
    body = await rep.gql(
        """query($id: ID!) {
          loyaltyAccounts { edges { node { balance } } }
          loyaltyAccount(id: $id) { balance }
        }""",
        {"id": payload["account"]["id"]},
    )
    assert data(body) == {
        "loyaltyAccounts": {"edges": [{"node": {"balance": 1}}]},
        "loyaltyAccount": None,
    }


async def test_reading_accounts_needs_loyalty_read(admin: Api) -> None:
    customer = await create_customer(admin, "Member")
    await earn(admin, customer, points=1)
    nobody = await admin.user("nobody@example.com", [])
    body = await nobody.gql("{ loyaltyAccounts { totalCount } }")
    assert error_code(body) == "FORBIDDEN"


async def test_enrolling_earning_and_adjusting_are_webhook_events(admin: Api) -> None:
    customer = await create_customer(admin, "Announced")
    events = ["loyalty.member_enrolled", "loyalty.points_earned", "loyalty.points_adjusted"]
    async with WebhookReceiver() as receiver:
        subscribed = await admin.gql(
            "mutation($url: String!, $events: [String!]!) { createWebhookSubscription("
            "input: {url: $url, eventTypes: $events}) { secret errors { field } } }",
            {"url": receiver.url, "events": events},
        )
        assert data(subscribed)["createWebhookSubscription"]["errors"] == []
        earned = await earn(admin, customer, points=12, reference="R-9")
        await adjust(admin, customer, -2)
        await admin.deliver_outbox()
    posted = {request.json()["type"]: request.json() for request in receiver.requests}
    assert sorted(posted) == sorted(events)
    assert len(receiver.requests) == 3
    bodies = [posted[event] for event in events]
    account = earned["account"]["id"]
    assert bodies[0]["data"]["customer"] == customer
    assert bodies[1]["data"] == {
        "account": account,
        "customer": customer,
        "tier": "STANDARD",
        "balance": 12,
        "debt": 0,
        "entry": earned["entry"]["id"],
        "kind": "EARN",
        "points": 12,
        "debtPoints": 0,
        "source": "API",
        "sourceRef": "R-9",
    }
    assert (bodies[2]["data"]["points"], bodies[2]["data"]["balance"]) == (-2, 10)
