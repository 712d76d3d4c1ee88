"""The pipeline's stages through the API: the seeded default pipeline, adding, renaming,
re-weighing, reordering and retiring stages (sales:manage); WON and LOST stay."""

from __future__ import annotations

import asyncio
from typing import Any

from core.plugin_api import CUSTOMER_MANAGER, SALES_REPRESENTATIVE
from plugins.sales.testing import data, error_code, gid, mutate, mutate_ok, mutate_refused
from schema.testkit import Api

STAGE = "stage { id key name kind position probability active }"
STAGES = "{ salesStages { id key name kind position probability active } }"


async def stages(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data(await api.gql(STAGES))["salesStages"]
    return found


async def by_key(api: Api) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in await stages(api)}


async def test_default_pipeline(admin: Api) -> None:
    found = await stages(admin)
    assert [(s["key"], s["kind"], s["position"], s["probability"]) for s in found] == [
        ("LEAD", "OPEN", 1, 10),
        ("QUALIFIED", "OPEN", 2, 25),
        ("PROPOSAL", "OPEN", 3, 50),
        ("NEGOTIATION", "OPEN", 4, 75),
        ("WON", "WON", 5, 100),
        ("LOST", "LOST", 6, 0),
    ]
    assert all(s["active"] for s in found)
    node = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on SalesStage { key } } }",
            {"id": found[0]["id"]},
        )
    )
    assert node["node"]["key"] == "LEAD"


async def test_create_stage_at_a_position_moves_the_rest_down(admin: Api) -> None:
    payload = await mutate_ok(
        admin,
        "createSalesStage",
        {"key": "DEMO_BOOKED", "name": " Demo booked ", "probability": 40, "position": 3},
        STAGE,
    )
    assert payload["stage"]["kind"] == "OPEN"
    assert payload["stage"]["name"] == "Demo booked"
    assert [(s["key"], s["position"]) for s in await stages(admin)] == [
        ("LEAD", 1),
        ("QUALIFIED", 2),
        ("DEMO_BOOKED", 3),
        ("PROPOSAL", 4),
        ("NEGOTIATION", 5),
        ("WON", 6),
        ("LOST", 7),
    ]
    last = await mutate_ok(
        admin,
        "createSalesStage",
        {"key": "CONTRACTING", "name": "Contracting", "probability": 90},
        STAGE,
    )
    assert last["stage"]["position"] == 6
    assert [s["key"] for s in await stages(admin)][-3:] == ["CONTRACTING", "WON", "LOST"]


async def test_refused_stage_inputs_name_their_field(admin: Api) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"key": "LEAD"}, "key", "DUPLICATE"),
        ({"key": "demo"}, "key", "INVALID"),
        ({"key": "DEMO__X"}, "key", "INVALID"),
        ({"key": "_DEMO"}, "key", "INVALID"),
        ({"key": "1DEMO"}, "key", "INVALID"),
        ({"key": ""}, "key", "REQUIRED"),
        ({"key": "K" * 33}, "key", "TOO_LONG"),
        ({"name": " "}, "name", "REQUIRED"),
        ({"probability": -1}, "probability", "OUT_OF_RANGE"),
        ({"probability": 101}, "probability", "OUT_OF_RANGE"),
        ({"position": 0}, "position", "OUT_OF_RANGE"),
        ({"position": 6}, "position", "OUT_OF_RANGE"),
    ]
    for values, field, code in cases:
        input = {"key": "DEMO", "name": "Demo", "probability": 30} | values
        errors = await mutate_refused(admin, "createSalesStage", input, STAGE)
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], values
    assert len(await stages(admin)) == 6


async def test_update_stage_renames_reweighs_and_reorders(admin: Api) -> None:
    found = await by_key(admin)
    payload = await mutate_ok(
        admin,
        "updateSalesStage",
        {"id": found["NEGOTIATION"]["id"], "name": "Negotiating", "probability": 80, "position": 1},
        STAGE,
    )
    assert payload["stage"]["name"] == "Negotiating"
    assert payload["stage"]["probability"] == 80
    assert [(s["key"], s["position"]) for s in await stages(admin)] == [
        ("NEGOTIATION", 1),
        ("LEAD", 2),
        ("QUALIFIED", 3),
        ("PROPOSAL", 4),
        ("WON", 5),
        ("LOST", 6),
    ]
    await mutate_ok(
        admin, "updateSalesStage", {"id": found["NEGOTIATION"]["id"], "position": 4}, STAGE
    )
    assert [s["key"] for s in await stages(admin)][:4] == [
        "LEAD",
        "QUALIFIED",
        "PROPOSAL",
        "NEGOTIATION",
    ]
    won = await mutate_ok(
        admin, "updateSalesStage", {"id": found["WON"]["id"], "name": "Closed won"}, STAGE
    )
    assert won["stage"]["name"] == "Closed won"
    assert won["stage"]["active"] is True


async def test_refused_stage_updates(admin: Api) -> None:
    found = await by_key(admin)
    lead, won, lost = found["LEAD"]["id"], found["WON"]["id"], found["LOST"]["id"]
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"id": won, "active": False}, "active", "BUSINESS_RULE"),
        ({"id": lost, "active": False}, "active", "BUSINESS_RULE"),
        ({"id": won, "position": 1}, "position", "INVALID"),
        ({"id": lead, "position": 5}, "position", "OUT_OF_RANGE"),
        ({"id": lead, "position": None}, "position", "OUT_OF_RANGE"),
        ({"id": lead, "probability": 150}, "probability", "OUT_OF_RANGE"),
        ({"id": lead, "probability": None}, "probability", "REQUIRED"),
        ({"id": lead, "name": ""}, "name", "REQUIRED"),
        ({"id": lead, "active": None}, "active", "REQUIRED"),
        ({"id": gid("Product", 1)}, "id", "INVALID"),
    ]
    for input, field, code in cases:
        errors = await mutate_refused(admin, "updateSalesStage", input, STAGE)
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], input
    body = await admin.gql(
        "mutation($input: UpdateSalesStageInput!) { "
        "updateSalesStage(input: $input) { errors { field } } }",
        {"input": {"id": gid("SalesStage", 999), "name": "x"}},
    )
    assert error_code(body) == "NOT_FOUND"


async def test_retiring_stages(admin: Api) -> None:
    found = await by_key(admin)
    customer = data(
        await admin.gql('mutation { createCustomer(input: {name: "Acme"}) { customer { id } } }')
    )["createCustomer"]["customer"]["id"]
    await mutate_ok(
        admin,
        "createOpportunity",
        {"customerId": customer, "title": "Deal", "amount": "10", "stage": "QUALIFIED"},
        "opportunity { id }",
    )
    errors = await mutate_refused(
        admin, "updateSalesStage", {"id": found["QUALIFIED"]["id"], "active": False}, STAGE
    )
    assert [(e["field"], e["code"]) for e in errors] == [("active", "BUSINESS_RULE")]
    assert "1 opportunities" in errors[0]["message"]
    retired = await mutate_ok(
        admin, "updateSalesStage", {"id": found["PROPOSAL"]["id"], "active": False}, STAGE
    )
    assert retired["stage"]["active"] is False
    errors = await mutate_refused(
        admin,
        "createOpportunity",
        {"customerId": customer, "title": "Deal", "amount": "10", "stage": "PROPOSAL"},
        "opportunity { id }",
    )
    assert [(e["field"], e["code"]) for e in errors] == [("stage", "INVALID")]
    listed = data(await admin.gql("{ opportunities { edges { node { id version } } } }"))
    deal = listed["opportunities"]["edges"][0]["node"]
    errors = await mutate_refused(
        admin, "moveOpportunity", deal | {"stage": "PROPOSAL"}, "opportunity { id }"
    )
    assert [(e["field"], e["code"]) for e in errors] == [("stage", "INVALID")]
    for key in ("LEAD", "NEGOTIATION"):
        await mutate_ok(admin, "updateSalesStage", {"id": found[key]["id"], "active": False}, STAGE)
    # QUALIFIED is now the last active OPEN stage, which always stays.
    await mutate_ok(admin, "updateSalesStage", {"id": found["LEAD"]["id"], "active": True}, STAGE)
    await mutate_ok(admin, "updateSalesStage", {"id": found["LEAD"]["id"], "active": False}, STAGE)
    errors = await mutate_refused(
        admin, "updateSalesStage", {"id": found["QUALIFIED"]["id"], "active": False}, STAGE
    )
    assert [(e["field"], e["code"]) for e in errors] == [("active", "BUSINESS_RULE")]
    assert "at least one OPEN stage" in errors[0]["message"]


async def test_only_sales_managers_configure_stages(api: Api, admin: Api) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    manager = await api.as_role(CUSTOMER_MANAGER)
    body = await rep.gql(
        'mutation { createSalesStage(input: {key: "X", name: "X", probability: 1}) '
        "{ errors { field } } }"
    )
    assert error_code(body) == "FORBIDDEN"
    assert len(await stages(rep)) == 6
    await mutate_ok(manager, "createSalesStage", {"key": "X", "name": "X", "probability": 1}, STAGE)
    events = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "sales.stage."}) { edges { node { action } } } }'
        )
    )
    assert [e["node"]["action"] for e in events["auditEvents"]["edges"]] == ["sales.stage.created"]


async def test_concurrent_creates_of_one_key_make_one_stage(admin: Api) -> None:
    input = {"key": "RACE", "name": "Race", "probability": 5}
    payloads = await asyncio.gather(
        *(mutate(admin, "createSalesStage", input, STAGE) for _n in range(5))
    )
    assert len([p for p in payloads if not p["errors"]]) == 1
    for payload in payloads:
        if payload["errors"]:
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [("key", "DUPLICATE")]
    assert [s["key"] for s in await stages(admin)].count("RACE") == 1


async def test_concurrent_stage_edits_keep_an_open_stage_and_distinct_positions(
    admin: Api,
) -> None:
    found = await by_key(admin)
    for key in ("LEAD", "QUALIFIED"):
        await mutate_ok(admin, "updateSalesStage", {"id": found[key]["id"], "active": False}, STAGE)
    # The last two active OPEN stages retired at once: one of them stays.
    payloads = await asyncio.gather(
        *(
            mutate(admin, "updateSalesStage", {"id": found[key]["id"], "active": False}, STAGE)
            for key in ("PROPOSAL", "NEGOTIATION")
        )
    )
    refusals = [[(e["field"], e["code"]) for e in p["errors"]] for p in payloads if p["errors"]]
    assert refusals == [[("active", "BUSINESS_RULE")]]
    assert [s["key"] for s in await stages(admin) if s["kind"] == "OPEN" and s["active"]] in (
        ["PROPOSAL"],
        ["NEGOTIATION"],
    )
    # Moves and a create at once: the positions stay 1..n, each once.
    await asyncio.gather(
        mutate(admin, "updateSalesStage", {"id": found["LEAD"]["id"], "position": 4}, STAGE),
        mutate(admin, "updateSalesStage", {"id": found["NEGOTIATION"]["id"], "position": 1}, STAGE),
        mutate(
            admin, "createSalesStage", {"key": "DEMO", "name": "Demo", "probability": 30}, STAGE
        ),
    )
    positions = [s["position"] for s in await stages(admin)]
    assert sorted(positions) == list(range(1, 8))
