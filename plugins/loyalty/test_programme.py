"""The programme's settings and tiers through the API: loyalty:read reads, loyalty:manage
changes; every refused value names its field; versions guard every change."""

from __future__ import annotations

from typing import Any

from core.plugin_api import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from schema.testkit import Api
from schema.testkit_graphql import data, error_code, gid, mutate, mutate_ok, mutate_refused

PROGRAMME_FIELDS = """
    earnRates { currency pointsPerUnit } rounding expiryMonths downgradeGraceDays
    tierSetsGrade autoEnrol birthdayBonus firstOrderBonus surveyBonus expiryNoticeDays version
"""
TIER = "id key name threshold multiplier benefits active version"
PROGRAMME = f"programme {{ {PROGRAMME_FIELDS} tiers {{ key threshold multiplier }} }}"
TIER_PAYLOAD = f"tier {{ {TIER} }}"
READ = f"{{ loyaltyProgramme {{ {PROGRAMME_FIELDS} tiers(includeInactive: true) {{ {TIER} }} }} }}"


async def programme(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(READ))["loyaltyProgramme"]
    return found


async def tier(api: Api, key: str) -> dict[str, Any]:
    return next(t for t in (await programme(api))["tiers"] if t["key"] == key)


async def test_the_seeded_programme_reads_back(admin: Api) -> None:
    found = await programme(admin)
    assert found["earnRates"] == [{"currency": "CNY", "pointsPerUnit": "1"}]
    assert found["rounding"] == "DOWN"
    assert found["expiryMonths"] == 24
    assert found["downgradeGraceDays"] == 30
    assert found["tierSetsGrade"] is False
    assert found["autoEnrol"] is True
    assert found["expiryNoticeDays"] == 30
    tiers = [(t["key"], t["threshold"], t["multiplier"]) for t in found["tiers"]]
    assert tiers == [("STANDARD", 0, "1.000"), ("SILVER", 5000, "1.250"), ("GOLD", 20000, "1.500")]


async def test_update_programme_changes_the_fields_given(admin: Api) -> None:
    payload = await mutate_ok(
        admin,
        "updateLoyaltyProgramme",
        {
            "version": 1,
            "earnRates": [
                {"currency": "cny", "pointsPerUnit": "1"},
                {"currency": "USD", "pointsPerUnit": "7.5"},
                {"currency": "JPY", "pointsPerUnit": "0.050000"},
            ],
            "rounding": "HALF_UP",
            "expiryMonths": None,
            "downgradeGraceDays": 0,
            "tierSetsGrade": True,
            "birthdayBonus": 100,
            "firstOrderBonus": 50,
            "surveyBonus": 10,
            "expiryNoticeDays": 0,
        },
        PROGRAMME,
    )
    found = payload["programme"]
    assert found["earnRates"] == [
        {"currency": "CNY", "pointsPerUnit": "1"},
        {"currency": "JPY", "pointsPerUnit": "0.05"},
        {"currency": "USD", "pointsPerUnit": "7.5"},
    ]
    assert found["rounding"] == "HALF_UP"
    assert found["expiryMonths"] is None
    assert found["downgradeGraceDays"] == 0
    assert found["tierSetsGrade"] is True
    assert found["autoEnrol"] is True  # left out: unchanged
    assert (found["birthdayBonus"], found["firstOrderBonus"], found["surveyBonus"]) == (100, 50, 10)
    assert found["expiryNoticeDays"] == 0
    assert found["version"] == 2
    assert (await programme(admin))["version"] == 2
    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "loyalty.programme.updated"}) '
            "{ edges { node { changes { field before after } } } } }"
        )
    )
    (event,) = audit["auditEvents"]["edges"]
    changed = {c["field"]: (c["before"], c["after"]) for c in event["node"]["changes"]}
    assert changed["rounding"] == ("DOWN", "HALF_UP")
    assert changed["expiryMonths"] == (24, None)


async def test_a_stale_programme_version_is_a_conflict(admin: Api) -> None:
    await mutate_ok(admin, "updateLoyaltyProgramme", {"version": 1, "birthdayBonus": 5}, PROGRAMME)
    stale = await mutate(
        admin, "updateLoyaltyProgramme", {"version": 1, "birthdayBonus": 9}, PROGRAMME
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["programme"]["birthdayBonus"] == 5
    assert (await programme(admin))["birthdayBonus"] == 5


async def test_refused_programme_values_name_their_field(admin: Api) -> None:
    rate = {"currency": "CNY", "pointsPerUnit": "1"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"earnRates": [{"currency": "XYZ", "pointsPerUnit": "1"}]},
            "earnRates.0.currency",
            "INVALID",
        ),
        (
            {"earnRates": [{"currency": "", "pointsPerUnit": "1"}]},
            "earnRates.0.currency",
            "REQUIRED",
        ),
        ({"earnRates": [rate, rate]}, "earnRates.1.currency", "DUPLICATE"),
        (
            {"earnRates": [{"currency": "USD", "pointsPerUnit": "0"}]},
            "earnRates.0.pointsPerUnit",
            "OUT_OF_RANGE",
        ),
        (
            {"earnRates": [{"currency": "USD", "pointsPerUnit": "-2"}]},
            "earnRates.0.pointsPerUnit",
            "OUT_OF_RANGE",
        ),
        (
            {"earnRates": [{"currency": "USD", "pointsPerUnit": "0.0000001"}]},
            "earnRates.0.pointsPerUnit",
            "INVALID",
        ),
        ({"earnRates": None}, "earnRates", "REQUIRED"),
        ({"rounding": None}, "rounding", "REQUIRED"),
        ({"expiryMonths": 0}, "expiryMonths", "OUT_OF_RANGE"),
        ({"expiryMonths": 121}, "expiryMonths", "OUT_OF_RANGE"),
        ({"downgradeGraceDays": -1}, "downgradeGraceDays", "OUT_OF_RANGE"),
        ({"downgradeGraceDays": 366}, "downgradeGraceDays", "OUT_OF_RANGE"),
        ({"downgradeGraceDays": None}, "downgradeGraceDays", "REQUIRED"),
        ({"birthdayBonus": -1}, "birthdayBonus", "OUT_OF_RANGE"),
        ({"firstOrderBonus": -1}, "firstOrderBonus", "OUT_OF_RANGE"),
        ({"surveyBonus": -1}, "surveyBonus", "OUT_OF_RANGE"),
        ({"expiryNoticeDays": -1}, "expiryNoticeDays", "OUT_OF_RANGE"),
        ({"tierSetsGrade": None}, "tierSetsGrade", "REQUIRED"),
        ({"autoEnrol": None}, "autoEnrol", "REQUIRED"),
    ]
    for values, field, code in cases:
        errors = await mutate_refused(
            admin, "updateLoyaltyProgramme", {"version": 1} | values, PROGRAMME
        )
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], values
    assert (await programme(admin))["version"] == 1  # nothing was written


async def test_every_bad_programme_field_is_named_at_once(admin: Api) -> None:
    errors = await mutate_refused(
        admin,
        "updateLoyaltyProgramme",
        {"version": 1, "expiryMonths": 500, "surveyBonus": -3, "downgradeGraceDays": 1000},
        PROGRAMME,
    )
    assert {e["field"] for e in errors} == {"expiryMonths", "surveyBonus", "downgradeGraceDays"}


async def test_who_reads_and_who_changes_the_programme(api: Api, admin: Api) -> None:
    anonymous = await api.gql(READ)
    assert error_code(anonymous) == "UNAUTHENTICATED"
    finance = await admin.as_role(FINANCE)
    assert (await programme(finance))["rounding"] == "DOWN"
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    assert (await programme(rep))["expiryMonths"] == 24
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    assert error_code(await sysadmin.gql(READ)) == "FORBIDDEN"
    for caller in (finance, rep):
        body = await caller.gql(
            "mutation { updateLoyaltyProgramme(input: {version: 1, surveyBonus: 1}) "
            "{ errors { field } } }"
        )
        assert error_code(body) == "FORBIDDEN"
        body = await caller.gql(
            'mutation { createLoyaltyTier(input: {key: "X", name: "X", threshold: 1, '
            'multiplier: "1"}) { errors { field } } }'
        )
        assert error_code(body) == "FORBIDDEN"
    manager = await admin.as_role(CUSTOMER_MANAGER)
    await mutate_ok(manager, "updateLoyaltyProgramme", {"version": 1, "surveyBonus": 3}, PROGRAMME)
    assert (await programme(admin))["surveyBonus"] == 3


async def test_create_a_tier_between_or_above_the_others(admin: Api) -> None:
    payload = await mutate_ok(
        admin,
        "createLoyaltyTier",
        {
            "key": " platinum ",
            "name": " Platinum ",
            "threshold": 50000,
            "multiplier": "2",
            "benefits": "Double points.",
        },
        TIER_PAYLOAD,
    )
    created = payload["tier"]
    assert created["key"] == "PLATINUM"
    assert created["name"] == "Platinum"
    assert created["multiplier"] == "2.000"
    assert created["active"] is True
    assert created["version"] == 1
    bronze = await mutate_ok(
        admin,
        "createLoyaltyTier",
        {"key": "BRONZE", "name": "Bronze", "threshold": 1000, "multiplier": "1.1"},
        TIER_PAYLOAD,
    )
    assert bronze["tier"]["threshold"] == 1000
    keys = [t["key"] for t in (await programme(admin))["tiers"]]
    assert keys == ["STANDARD", "BRONZE", "SILVER", "GOLD", "PLATINUM"]
    node = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on LoyaltyTier { key } } }",
            {"id": created["id"]},
        )
    )
    assert node["node"] == {"key": "PLATINUM"}


async def test_refused_tiers_name_their_field(admin: Api) -> None:
    good = {"key": "NEW", "name": "New", "threshold": 30000, "multiplier": "1.6"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"key": "GOLD"}, "key", "DUPLICATE"),
        ({"key": "gold"}, "key", "DUPLICATE"),
        ({"key": "BAD KEY"}, "key", "INVALID"),
        ({"key": "1ST"}, "key", "INVALID"),
        ({"key": " "}, "key", "REQUIRED"),
        ({"key": "K" * 33}, "key", "TOO_LONG"),
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "n" * 81}, "name", "TOO_LONG"),
        ({"threshold": 20000}, "threshold", "DUPLICATE"),
        ({"threshold": 0}, "threshold", "OUT_OF_RANGE"),
        ({"threshold": -5}, "threshold", "OUT_OF_RANGE"),
        ({"multiplier": "0.5"}, "multiplier", "OUT_OF_RANGE"),
        ({"multiplier": "10.5"}, "multiplier", "OUT_OF_RANGE"),
        ({"multiplier": "1.2345"}, "multiplier", "INVALID"),
        ({"multiplier": "1.2"}, "multiplier", "BUSINESS_RULE"),  # below GOLD's 1.5
        ({"threshold": 3000, "multiplier": "2"}, "multiplier", "BUSINESS_RULE"),  # > SILVER's
        ({"benefits": "b" * 2001}, "benefits", "TOO_LONG"),
    ]
    for values, field, code in cases:
        errors = await mutate_refused(admin, "createLoyaltyTier", good | values, TIER_PAYLOAD)
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], values
    assert len((await programme(admin))["tiers"]) == 3


async def test_update_a_tier(admin: Api) -> None:
    silver = await tier(admin, "SILVER")
    payload = await mutate_ok(
        admin,
        "updateLoyaltyTier",
        {
            "id": silver["id"],
            "version": 1,
            "name": "Argent",
            "threshold": 6000,
            "multiplier": "1.3",
            "benefits": "More.",
        },
        TIER_PAYLOAD,
    )
    changed = payload["tier"]
    assert (changed["name"], changed["threshold"], changed["multiplier"]) == (
        "Argent",
        6000,
        "1.300",
    )
    assert (changed["benefits"], changed["key"], changed["version"]) == ("More.", "SILVER", 2)
    stale = await mutate(
        admin, "updateLoyaltyTier", {"id": silver["id"], "version": 1, "name": "X"}, TIER_PAYLOAD
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["tier"]["name"] == "Argent"
    gold = await tier(admin, "GOLD")
    off = await mutate_ok(
        admin, "updateLoyaltyTier", {"id": gold["id"], "version": 1, "active": False}, TIER_PAYLOAD
    )
    assert off["tier"]["active"] is False
    assert [
        t["key"]
        for t in data(await admin.gql("{ loyaltyProgramme { tiers { key } } }"))[
            "loyaltyProgramme"
        ]["tiers"]
    ] == ["STANDARD", "SILVER"]


async def test_refused_tier_changes_name_their_field(admin: Api) -> None:
    standard = await tier(admin, "STANDARD")
    silver = await tier(admin, "SILVER")
    gold = await tier(admin, "GOLD")
    cases: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
        (standard, {"threshold": 100}, "threshold", "BUSINESS_RULE"),
        (standard, {"active": False}, "active", "BUSINESS_RULE"),
        (silver, {"threshold": 25000}, "threshold", "BUSINESS_RULE"),  # above GOLD, lower x
        (silver, {"threshold": 20000}, "threshold", "DUPLICATE"),
        (silver, {"threshold": 0}, "threshold", "OUT_OF_RANGE"),
        (silver, {"multiplier": "1.6"}, "multiplier", "BUSINESS_RULE"),  # above GOLD's
        (silver, {"multiplier": "0.9"}, "multiplier", "OUT_OF_RANGE"),
        (silver, {"multiplier": None}, "multiplier", "REQUIRED"),
        (silver, {"threshold": None}, "threshold", "REQUIRED"),
        (gold, {"multiplier": "1.2"}, "multiplier", "BUSINESS_RULE"),  # below SILVER's
        (gold, {"name": " "}, "name", "REQUIRED"),
        (gold, {"active": None}, "active", "REQUIRED"),
    ]
    for row, values, field, code in cases:
        input = {"id": row["id"], "version": 1} | values
        errors = await mutate_refused(admin, "updateLoyaltyTier", input, TIER_PAYLOAD)
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (row["key"], values)
    assert [t["version"] for t in (await programme(admin))["tiers"]] == [1, 1, 1]


async def test_an_unknown_tier_is_not_found(admin: Api) -> None:
    body = await admin.gql(
        "mutation($input: UpdateLoyaltyTierInput!) { updateLoyaltyTier(input: $input) "
        "{ errors { field } } }",
        {"input": {"id": gid("LoyaltyTier", 999), "version": 1, "name": "X"}},
    )
    assert error_code(body) == "NOT_FOUND"
    body = await admin.gql(
        "mutation($input: UpdateLoyaltyTierInput!) { updateLoyaltyTier(input: $input) "
        "{ errors { field code } } }",
        {"input": {"id": gid("Customer", 1), "version": 1, "name": "X"}},
    )
    assert data(body)["updateLoyaltyTier"]["errors"][0]["field"] == "id"


async def test_a_tier_node_needs_loyalty_read(admin: Api) -> None:
    gold = await tier(admin, "GOLD")
    query = "query($id: ID!) { node(id: $id) { ... on LoyaltyTier { key } } }"
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    assert data(await sysadmin.gql(query, {"id": gold["id"]}))["node"] is None
    finance = await admin.as_role(FINANCE)
    assert data(await finance.gql(query, {"id": gold["id"]}))["node"] == {"key": "GOLD"}
