"""Opportunities through the API: numbers, defaults and refused inputs; updates under
versions; moving through the stages with the closing rules (lost reason, its text, the
competitor named), the closing hook and webhook; reopening (sales:manage only); lists,
filters and orderings; Customer.opportunities batched; OWN/TEAM scoping, and no pipeline
for finance or support."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    Database,
    RequestContext,
    Settings,
    hookimpl,
)
from plugins.sales import models
from plugins.sales.testing import (
    MONDAY,
    create_customer,
    data,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)
from schema.testkit import Api, FakeClock, StatementCounter
from schema.testkit_tools import make_user
from schema.testkit_webhooks import WebhookReceiver, signature_valid

OPPORTUNITY = """opportunity {
  id number title amount { amount currency } expectedCloseOn probability
  probabilityOverridden source nextStep competitors lostReason lostReasonText closedAt
  createdAt updatedAt version
  customer { id } contact { id } owner { id }
  stage { key kind }
  stageHistory { from { key } to { key } changedAt actor { id } }
}"""


class Listener:
    """A plugin listening to the closing hook."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    def crm_sales_opportunity_closed(
        self,
        session: AsyncSession,
        opportunity: models.Opportunity,
        won: bool,
        competitors: Sequence[str],
        context: RequestContext | None,
    ) -> None:
        assert opportunity.closed_at is not None
        if opportunity.lost_reason_text == "explode":
            raise RuntimeError("listener refuses")
        if opportunity.lost_reason_text == "record":
            # Written with the change's session: commits (or rolls back) with the move.
            session.add(
                models.StageChange(
                    opportunity_id=opportunity.id,
                    from_stage_id=opportunity.stage_id,
                    to_stage_id=opportunity.stage_id,
                    changed_at=opportunity.closed_at,
                )
            )
        self.calls.append(
            (
                opportunity.number,
                won,
                list(competitors),
                opportunity.lost_reason,
                context is not None,
            )
        )


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def crm_extra_plugins(
    crm_extra_plugins: Mapping[str, Any], listener: Listener
) -> Mapping[str, Any]:
    return {**crm_extra_plugins, "listener": listener}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "listener"), webhooks_allow_private=True)


async def create(api: Api, customer: str, **values: Any) -> dict[str, Any]:
    input = {"customerId": customer, "title": "Deal", "amount": "1000.00"} | values
    payload = await mutate_ok(api, "createOpportunity", input, OPPORTUNITY)
    opportunity: dict[str, Any] = payload["opportunity"]
    return opportunity


async def move(api: Api, opportunity: dict[str, Any], stage: str, **values: Any) -> dict[str, Any]:
    input = {"id": opportunity["id"], "version": opportunity["version"], "stage": stage} | values
    payload = await mutate_ok(api, "moveOpportunity", input, OPPORTUNITY)
    moved: dict[str, Any] = payload["opportunity"]
    return moved


async def refused(api: Api, name: str, input: dict[str, Any]) -> list[tuple[str, str]]:
    errors = await mutate_refused(api, name, input, OPPORTUNITY)
    return [(e["field"], e["code"]) for e in errors]


async def add_contact(api: Api, customer: str, name: str = "Li Lei") -> str:
    payload = await mutate_ok(
        api, "createContact", {"customerId": customer, "name": name}, "contact { id }"
    )
    contact: str = payload["contact"]["id"]
    return contact


async def test_create_with_defaults(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    first = await create(admin, customer, title=" First deal ")
    assert first["number"] == "O000001"
    assert first["title"] == "First deal"
    assert first["amount"] == {"amount": "1000.00", "currency": "CNY"}
    assert first["stage"] == {"key": "LEAD", "kind": "OPEN"}
    assert (first["probability"], first["probabilityOverridden"]) == (10, False)
    assert first["owner"]["id"] == gid("User", admin.user_id)
    assert first["customer"]["id"] == customer
    assert first["competitors"] == []
    assert first["closedAt"] is None
    assert first["version"] == 1
    assert first["createdAt"] == first["updatedAt"] == MONDAY.isoformat()
    assert first["stageHistory"] == [
        {
            "from": None,
            "to": {"key": "LEAD"},
            "changedAt": MONDAY.isoformat(),
            "actor": {"id": gid("User", admin.user_id)},
        }
    ]
    second = await create(admin, customer)
    assert second["number"] == "O000002"


async def test_create_with_every_field(api: Api, admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    contact = await add_contact(admin, customer)
    seller = await api.as_role(SALES_REPRESENTATIVE)
    found = await create(
        admin,
        customer,
        contactId=contact,
        ownerId=gid("User", seller.user_id),
        amount="150000",
        currency="usd",
        expectedCloseOn="2027-01-15",
        stage="proposal",
        probability=35,
        source="TRADE_SHOW",
        nextStep=" Send the quote ",
        competitors=["Globex", " globex ", "Initech"],
    )
    assert found["contact"]["id"] == contact
    assert found["owner"]["id"] == gid("User", seller.user_id)
    assert found["amount"] == {"amount": "150000.00", "currency": "USD"}
    assert found["expectedCloseOn"] == "2027-01-15"
    assert found["stage"]["key"] == "PROPOSAL"
    assert (found["probability"], found["probabilityOverridden"]) == (35, True)
    assert found["source"] == "TRADE_SHOW"
    assert found["nextStep"] == "Send the quote"
    assert found["competitors"] == ["Globex", "Initech"]
    yen = await create(admin, customer, amount="3000", currency="JPY")
    assert yen["amount"] == {"amount": "3000", "currency": "JPY"}


async def test_refused_create_inputs_name_their_field(api: Api, admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    other = await create_customer(admin, "Other")
    strangers_contact = await add_contact(admin, other)
    gone = await make_user(
        admin.db, admin.settings, "gone@example.com", [SALES_REPRESENTATIVE], active=False
    )
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"title": " "}, "title", "REQUIRED"),
        ({"title": "t" * 201}, "title", "TOO_LONG"),
        ({"amount": "-5"}, "amount", "OUT_OF_RANGE"),
        ({"amount": "1.001"}, "amount", "INVALID"),
        ({"amount": "1.5", "currency": "JPY"}, "amount", "INVALID"),
        ({"currency": "ABC"}, "currency", "INVALID"),
        ({"probability": 101}, "probability", "OUT_OF_RANGE"),
        ({"probability": -1}, "probability", "OUT_OF_RANGE"),
        ({"contactId": strangers_contact}, "contactId", "INVALID"),
        ({"contactId": customer}, "contactId", "INVALID"),
        ({"ownerId": gid("User", gone)}, "ownerId", "INVALID"),
        ({"ownerId": gid("User", 9999)}, "ownerId", "INVALID"),
        ({"ownerId": customer}, "ownerId", "INVALID"),
        ({"nextStep": "n" * 201}, "nextStep", "TOO_LONG"),
        ({"competitors": ["Globex", " "]}, "competitors.1", "REQUIRED"),
        ({"competitors": [f"C{i}" for i in range(21)]}, "competitors", "OUT_OF_RANGE"),
        ({"stage": "NOWHERE"}, "stage", "INVALID"),
        ({"stage": "WON"}, "stage", "INVALID_TRANSITION"),
        ({"stage": "LOST"}, "stage", "INVALID_TRANSITION"),
        ({"customerId": contact_placeholder()}, "customerId", "INVALID"),
    ]
    for values, field, code in cases:
        input = {"customerId": customer, "title": "Deal", "amount": "10"} | values
        assert await refused(admin, "createOpportunity", input) == [(field, code)], values
    missing = {"customerId": gid("Customer", 9999), "title": "Deal", "amount": "10"}
    argument = await not_found_argument(admin, "createOpportunity", missing, "opportunity { id }")
    assert argument == "input.customerId"
    listed = data(await admin.gql("{ opportunities { totalCount } }"))
    assert listed["opportunities"]["totalCount"] == 0


def contact_placeholder() -> str:
    return gid("Contact", 1)


async def test_archived_customer_gets_no_opportunity(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    await mutate_ok(admin, "archiveCustomer", {"id": customer, "version": 1}, "customer { id }")
    input = {"customerId": customer, "title": "Deal", "amount": "10"}
    assert await refused(admin, "createOpportunity", input) == [("customerId", "CONFLICT")]


async def test_update_changes_fields_under_versions(api: Api, admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    contact = await add_contact(admin, customer)
    seller = await api.as_role(SALES_REPRESENTATIVE)
    found = await create(admin, customer, probability=60, competitors=["Globex"])
    base = {"id": found["id"], "version": 1}
    payload = await mutate_ok(
        admin,
        "updateOpportunity",
        base
        | {
            "title": "Bigger deal",
            "amount": "2500.5",
            "contactId": contact,
            "ownerId": gid("User", seller.user_id),
            "expectedCloseOn": "2026-12-31",
            "probability": None,
            "source": "REFERRAL",
            "nextStep": "Call",
            "competitors": [],
        },
        OPPORTUNITY,
    )
    updated = payload["opportunity"]
    assert updated["title"] == "Bigger deal"
    assert updated["amount"] == {"amount": "2500.50", "currency": "CNY"}
    assert updated["contact"]["id"] == contact
    assert updated["owner"]["id"] == gid("User", seller.user_id)
    assert updated["expectedCloseOn"] == "2026-12-31"
    assert (updated["probability"], updated["probabilityOverridden"]) == (10, False)
    assert updated["source"] == "REFERRAL"
    assert updated["nextStep"] == "Call"
    assert updated["competitors"] == []
    assert updated["stage"]["key"] == "LEAD"
    assert updated["version"] == 2
    stale = await mutate(admin, "updateOpportunity", base | {"title": "Again"}, OPPORTUNITY)
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["opportunity"]["title"] == "Bigger deal"
    fresh = {"id": found["id"], "version": 2}
    cleared = await mutate_ok(
        admin,
        "updateOpportunity",
        fresh | {"contactId": None, "source": None, "nextStep": None},
        OPPORTUNITY,
    )
    assert cleared["opportunity"]["contact"] is None
    assert cleared["opportunity"]["source"] is None
    assert cleared["opportunity"]["nextStep"] is None
    fresh = {"id": found["id"], "version": 3}
    other = await create_customer(admin, "Other")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"ownerId": None}, "ownerId", "REQUIRED"),
        ({"ownerId": gid("User", 9999)}, "ownerId", "INVALID"),
        ({"contactId": await add_contact(admin, other)}, "contactId", "INVALID"),
        ({"title": ""}, "title", "REQUIRED"),
        ({"amount": "0.001"}, "amount", "INVALID"),
        ({"amount": None}, "amount", "REQUIRED"),
        ({"currency": "JPY"}, "amount", "INVALID"),
        ({"currency": "??"}, "currency", "INVALID"),
        ({"probability": 200}, "probability", "OUT_OF_RANGE"),
        ({"competitors": [""]}, "competitors.0", "REQUIRED"),
        ({"id": other}, "id", "INVALID"),
    ]
    for values, field, code in cases:
        assert await refused(admin, "updateOpportunity", fresh | values) == [(field, code)], values
    missing = {"id": gid("Opportunity", 9999), "version": 1, "title": "x"}
    assert (
        await not_found_argument(admin, "updateOpportunity", missing, "opportunity { id }")
        == "input.id"
    )
    events = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "sales.opportunity."}) { edges { node { action } } } }'
        )
    )
    actions = sorted(e["node"]["action"] for e in events["auditEvents"]["edges"])
    assert actions == [
        "sales.opportunity.created",
        "sales.opportunity.updated",
        "sales.opportunity.updated",
    ]


async def test_moves_keep_history_and_probability_follows_stage(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    found = await create(admin, customer)
    clock.advance(days=2)
    moved = await move(admin, found, "qualified")
    assert moved["stage"]["key"] == "QUALIFIED"
    assert moved["probability"] == 25
    assert moved["closedAt"] is None
    assert moved["updatedAt"] == (MONDAY + dt.timedelta(days=2)).isoformat()
    clock.advance(days=1)
    moved = await move(admin, moved, "LEAD")  # back is a move too
    history = [
        (h["from"] and h["from"]["key"], h["to"]["key"], h["changedAt"])
        for h in moved["stageHistory"]
    ]
    assert history == [
        (None, "LEAD", MONDAY.isoformat()),
        ("LEAD", "QUALIFIED", (MONDAY + dt.timedelta(days=2)).isoformat()),
        ("QUALIFIED", "LEAD", (MONDAY + dt.timedelta(days=3)).isoformat()),
    ]
    base = {"id": moved["id"], "version": moved["version"]}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"stage": "LEAD"}, "stage", "INVALID"),
        ({"stage": "NOWHERE"}, "stage", "INVALID"),
        ({"stage": "QUALIFIED", "lostReason": "PRICE"}, "lostReason", "INVALID"),
        ({"stage": "WON", "lostReasonText": "why"}, "lostReasonText", "INVALID"),
        ({"stage": "LOST"}, "lostReason", "REQUIRED"),
        ({"stage": "LOST", "lostReason": "OTHER"}, "lostReasonText", "REQUIRED"),
        (
            {"stage": "LOST", "lostReason": "OTHER", "lostReasonText": " "},
            "lostReasonText",
            "REQUIRED",
        ),
        ({"stage": "LOST", "lostReason": "COMPETITOR"}, "competitors", "REQUIRED"),
        (
            {"stage": "LOST", "lostReason": "COMPETITOR", "competitors": []},
            "competitors",
            "REQUIRED",
        ),
        (
            {"stage": "LOST", "lostReason": "PRICE", "competitors": [""]},
            "competitors.0",
            "REQUIRED",
        ),
    ]
    for values, field, code in cases:
        assert await refused(admin, "moveOpportunity", base | values) == [(field, code)], values
    stale = await mutate(
        admin, "moveOpportunity", {"id": moved["id"], "version": 1, "stage": "WON"}, OPPORTUNITY
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    missing = {"id": gid("Opportunity", 9999), "version": 1, "stage": "WON"}
    assert (
        await not_found_argument(admin, "moveOpportunity", missing, "opportunity { id }")
        == "input.id"
    )


async def test_lost_to_a_competitor_closes_and_tells(
    admin: Api, listener: Listener, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    found = await create(admin, customer, probability=90)
    clock.advance(hours=5)
    lost = await move(
        admin,
        found,
        "LOST",
        lostReason="COMPETITOR",
        lostReasonText=" Cheaper ",
        competitors=["Globex"],
    )
    closed_at = (MONDAY + dt.timedelta(hours=5)).isoformat()
    assert lost["stage"]["kind"] == "LOST"
    assert lost["closedAt"] == closed_at
    assert (lost["lostReason"], lost["lostReasonText"]) == ("COMPETITOR", "Cheaper")
    assert lost["competitors"] == ["Globex"]
    assert lost["probability"] == 0
    assert listener.calls == [("O000001", False, ["Globex"], "COMPETITOR", True)]
    base = {"id": lost["id"], "version": lost["version"]}
    assert await refused(admin, "moveOpportunity", base | {"stage": "LEAD"}) == [
        ("stage", "INVALID_TRANSITION")
    ]
    assert await refused(admin, "moveOpportunity", base | {"stage": "WON"}) == [
        ("stage", "INVALID_TRANSITION")
    ]
    assert await refused(admin, "updateOpportunity", base | {"competitors": []}) == [
        ("competitors", "REQUIRED")
    ]
    other = await create(admin, customer, competitors=["Initech"])
    await move(admin, other, "LOST", lostReason="COMPETITOR")  # the competitors already named
    priced = await create(admin, customer)
    priced = await move(admin, priced, "LOST", lostReason="OTHER", lostReasonText="Budget cut")
    assert priced["lostReasonText"] == "Budget cut"
    assert [call[:3] for call in listener.calls[1:]] == [
        ("O000002", False, ["Initech"]),
        ("O000003", False, []),
    ]


async def test_won_closes_with_full_probability(admin: Api, listener: Listener) -> None:
    customer = await create_customer(admin, "Acme")
    found = await create(admin, customer, probability=40, competitors=["Globex"])
    won = await move(admin, found, "WON")
    assert won["closedAt"] == MONDAY.isoformat()
    assert won["probability"] == 100
    assert won["probabilityOverridden"] is True
    assert won["lostReason"] is None
    assert listener.calls == [("O000001", True, ["Globex"], None, True)]


async def test_closing_is_posted_as_a_webhook(api: Api, admin: Api) -> None:
    customer = await create_customer(admin, "Jane Doe")
    found = await create(admin, customer, title="Jane's secret deal", amount="12.5")
    async with WebhookReceiver() as receiver:
        payload = data(
            await admin.gql(
                """mutation($url: String!) { createWebhookSubscription(input: {
                  url: $url, eventTypes: ["sales.opportunity.closed"] }) {
                  secret errors { field } } }""",
                {"url": receiver.url},
            )
        )
        secret = payload["createWebhookSubscription"]["secret"]
        await move(admin, found, "WON")
        await api.deliver_outbox()
    (request,) = receiver.requests
    assert signature_valid(secret, request)
    event = request.json()
    assert event["type"] == "sales.opportunity.closed"
    assert event["data"]["won"] is True
    opportunity = event["data"]["opportunity"]
    assert opportunity["id"] == found["id"]
    assert opportunity["number"] == "O000001"
    assert opportunity["stage"] == "WON"
    assert opportunity["customerId"] == customer
    assert opportunity["amount"] == {"amount": "12.50", "currency": "CNY"}
    assert "secret" not in str(event)
    assert "Jane" not in str(event)


async def test_reopen_is_for_sales_managers(api: Api, admin: Api, listener: Listener) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    customer = await create_customer(admin, "Acme", owner_id=rep.user_id)
    found = await create(rep, customer)
    lost = await move(rep, found, "LOST", lostReason="OTHER", lostReasonText="No budget")
    input = {"id": lost["id"], "version": lost["version"], "stage": "QUALIFIED"}
    body = await rep.gql(
        "mutation($input: ReopenOpportunityInput!) { "
        "reopenOpportunity(input: $input) { errors { field } } }",
        {"input": input},
    )
    assert error_code(body) == "FORBIDDEN"
    assert await refused(admin, "reopenOpportunity", input | {"stage": "WON"}) == [
        ("stage", "INVALID_TRANSITION")
    ]
    assert await refused(admin, "reopenOpportunity", input | {"stage": "NOWHERE"}) == [
        ("stage", "INVALID")
    ]
    reopened = (await mutate_ok(admin, "reopenOpportunity", input, OPPORTUNITY))["opportunity"]
    assert reopened["stage"]["key"] == "QUALIFIED"
    assert reopened["closedAt"] is None
    assert (reopened["lostReason"], reopened["lostReasonText"]) == (None, None)
    assert reopened["probability"] == 25
    assert [(h["from"] and h["from"]["key"], h["to"]["key"]) for h in reopened["stageHistory"]] == [
        (None, "LEAD"),
        ("LEAD", "LOST"),
        ("LOST", "QUALIFIED"),
    ]
    assert reopened["stageHistory"][-1]["actor"]["id"] == gid("User", admin.user_id)
    again = {"id": reopened["id"], "version": reopened["version"], "stage": "LEAD"}
    assert await refused(admin, "reopenOpportunity", again) == [("id", "INVALID_TRANSITION")]
    won = await move(rep, reopened, "WON")  # the rep works it again
    assert won["closedAt"] is not None
    assert len(listener.calls) == 2
    missing = {"id": gid("Opportunity", 9999), "version": 1, "stage": "LEAD"}
    assert (
        await not_found_argument(admin, "reopenOpportunity", missing, "opportunity { id }")
        == "input.id"
    )
    events = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "sales.opportunity.reopened"}) { totalCount } }'
        )
    )
    assert events["auditEvents"]["totalCount"] == 1


LIST = """query($filter: OpportunityFilter, $orderBy: [OpportunityOrder!], $first: Int,
  $after: String, $last: Int, $before: String) {
  opportunities(filter: $filter, orderBy: $orderBy, first: $first, after: $after,
    last: $last, before: $before) {
    totalCount edges { node { number } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_lists_filter_sort_and_page(api: Api, admin: Api, clock: FakeClock) -> None:
    north = await api.user("north@example.com", [SALES_REPRESENTATIVE], team="North", lasting=True)
    acme = await create_customer(admin, "Acme")
    globex = await create_customer(admin, "Globex")
    one = await create(
        admin,
        acme,
        title="Router upgrade",
        amount="500",
        expectedCloseOn="2026-12-01",
        source="WEBSITE",
    )
    clock.advance(hours=1)
    two = await create(
        admin,
        globex,
        amount="1500",
        expectedCloseOn="2027-02-01",
        ownerId=gid("User", north.user_id),
    )
    clock.advance(hours=1)
    three = await create(admin, acme, amount="900", source="REFERRAL")
    clock.advance(hours=1)
    await move(admin, one, "WON")
    await move(admin, two, "PROPOSAL")
    viewer = data(await north.gql("{ viewer { team { id } } }"))
    team = viewer["viewer"]["team"]["id"]
    assert await admin.walk(LIST, ["opportunities"], "number") == ["O000003", "O000002", "O000001"]
    by_amount = [{"field": "AMOUNT", "direction": "DESC"}]
    assert await admin.walk(LIST, ["opportunities"], "number", {"orderBy": by_amount}) == [
        "O000002",
        "O000003",
        "O000001",
    ]
    by_close = [{"field": "EXPECTED_CLOSE"}]
    assert await admin.walk(LIST, ["opportunities"], "number", {"orderBy": by_close}) == [
        "O000001",
        "O000002",
        "O000003",
    ]
    closed_from = (MONDAY + dt.timedelta(hours=3)).isoformat()
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"stage": ["won", "PROPOSAL"]}, ["O000002", "O000001"]),
        ({"open": True}, ["O000003", "O000002"]),
        ({"open": False}, ["O000001"]),
        ({"ownerId": gid("User", north.user_id)}, ["O000002"]),
        ({"teamId": team}, ["O000002"]),
        ({"customerId": acme}, ["O000003", "O000001"]),
        ({"source": ["WEBSITE", "REFERRAL"]}, ["O000003", "O000001"]),
        ({"expectedClose": {"from": "2026-12-01", "to": "2026-12-31"}}, ["O000001"]),
        ({"expectedClose": {"from": "2027-01-01"}}, ["O000002"]),
        ({"closed": {"from": closed_from}}, ["O000001"]),
        ({"search": "router"}, ["O000001"]),
        ({"search": "o000003"}, ["O000003"]),
    ]
    for filter, numbers in cases:
        assert await admin.walk(LIST, ["opportunities"], "number", {"filter": filter}) == numbers, (
            filter
        )
    for filter in (
        {"ownerId": acme},
        {"teamId": acme},
        {"customerId": team},
        {"expectedClose": {"from": "2027-01-01", "to": "2026-01-01"}},
        {"search": "x" * 201},
    ):
        assert error_code(await admin.gql(LIST, {"filter": filter})) == "BAD_USER_INPUT", filter
    single = "query($id: ID, $number: String) { opportunity(id: $id, number: $number) { number } }"
    assert (
        data(await admin.gql(single, {"number": "o000002"}))["opportunity"]["number"] == "O000002"
    )
    assert data(await admin.gql(single, {"id": three["id"]}))["opportunity"]["number"] == "O000003"
    assert data(await admin.gql(single, {"number": "O999999"}))["opportunity"] is None
    assert error_code(await admin.gql(single, {})) == "BAD_USER_INPUT"
    assert error_code(await admin.gql(single, {"id": acme})) == "BAD_USER_INPUT"


CUSTOMERS = """query($first: Int!) { customers(first: $first) { edges { node { id
  opportunities(first: 3) { totalCount edges { node { number probability stage { key }
    owner { id } stageHistory { to { key } } } } } } } } }"""


async def test_customer_opportunities_are_batched(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    for index in range(8):
        customer = await create_customer(admin, f"Customer {index}")
        for _n in range(2):
            await create(admin, customer)
    counts = []
    for first in (2, 8):
        counter = count_statements(admin.db)
        body = data(await admin.gql(CUSTOMERS, {"first": first}))
        edges = body["customers"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["opportunities"]["totalCount"] == 2 for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    newest = data(await admin.gql(CUSTOMERS, {"first": 1}))["customers"]["edges"][0]["node"]
    numbers = [e["node"]["number"] for e in newest["opportunities"]["edges"]]
    assert numbers == sorted(numbers, reverse=True)
    by_number = """query($id: ID!) { node(id: $id) { ... on Customer {
      opportunities(orderBy: [{field: NUMBER}], first: 1) { edges { node { number } } } } } }"""
    first = data(await admin.gql(by_number, {"id": newest["id"]}))["node"]["opportunities"]
    assert [e["node"]["number"] for e in first["edges"]] == [min(numbers)]


async def test_scoping(api: Api, admin: Api) -> None:
    rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE], team="North")
    peer = await api.user("peer@example.com", [SALES_REPRESENTATIVE], team="North")
    manager = await api.user("boss@example.com", [CUSTOMER_MANAGER], team="North")
    south = await api.user("south@example.com", [CUSTOMER_MANAGER], team="South")
    finance = await api.as_role(FINANCE)
    support = await api.as_role(SUPPORT_REPRESENTATIVE)
    mine = await create_customer(admin, "Mine", owner_id=rep.user_id)
    peers = await create_customer(admin, "Peers", owner_id=peer.user_id)
    own = await create(rep, mine, title="Own")
    assert own["owner"]["id"] == gid("User", rep.user_id)
    on_my_customer = await create(
        admin, mine, title="On my customer", ownerId=gid("User", peer.user_id)
    )
    peer_deal = await create(peer, peers, title="Peer's")

    async def numbers(api: Api) -> list[str]:
        return await api.walk(LIST, ["opportunities"], "number")

    assert await numbers(rep) == [on_my_customer["number"], own["number"]]
    assert await numbers(peer) == [peer_deal["number"], on_my_customer["number"]]
    assert await numbers(manager) == [peer_deal["number"], on_my_customer["number"], own["number"]]
    assert await numbers(south) == []
    single = "query($id: ID!) { opportunity(id: $id) { number } node(id: $id) { id } }"
    hidden = data(await rep.gql(single, {"id": peer_deal["id"]}))
    assert hidden == {"opportunity": None, "node": None}
    for outsider in (finance, support):
        assert error_code(await outsider.gql("{ opportunities { totalCount } }")) == "FORBIDDEN"
        assert error_code(await outsider.gql("{ salesStages { key } }")) == "FORBIDDEN"
    # writes reach only what the scope reaches
    steal = {"id": peer_deal["id"], "version": 1, "title": "Mine now"}
    assert (
        await not_found_argument(rep, "updateOpportunity", steal, "opportunity { id }")
        == "input.id"
    )
    move_input = {"id": peer_deal["id"], "version": 1, "stage": "WON"}
    assert (
        await not_found_argument(rep, "moveOpportunity", move_input, "opportunity { id }")
        == "input.id"
    )
    elsewhere = {"customerId": peers, "title": "Poach", "amount": "1"}
    assert (
        await not_found_argument(rep, "createOpportunity", elsewhere, "opportunity { id }")
        == "input.customerId"
    )
    give = {
        "customerId": mine,
        "title": "Give",
        "amount": "1",
        "ownerId": gid("User", peer.user_id),
    }
    assert await refused(rep, "createOpportunity", give) == [("ownerId", "INVALID")]
    team_deal = await create(manager, peers, title="Team", ownerId=gid("User", rep.user_id))
    assert team_deal["owner"]["id"] == gid("User", rep.user_id)
    south_input = {"id": own["id"], "version": 1, "title": "x"}
    assert (
        await not_found_argument(south, "updateOpportunity", south_input, "opportunity { id }")
        == "input.id"
    )
    # a customer's opportunities, scoped too
    query = """query($id: ID!) { node(id: $id) { ... on Customer {
      opportunities { totalCount edges { node { number } } } } } }"""
    seen = data(await peer.gql(query, {"id": mine}))["node"]
    assert seen is None or seen["opportunities"]["totalCount"] == 1
    mine_seen = data(await rep.gql(query, {"id": mine}))["node"]["opportunities"]
    assert mine_seen["totalCount"] == 2


async def test_the_closing_hook_runs_inside_the_move(admin: Api, listener: Listener) -> None:
    customer = await create_customer(admin, "Acme")
    found = await create(admin, customer)
    input = {
        "id": found["id"],
        "version": 1,
        "stage": "LOST",
        "lostReason": "OTHER",
        "lostReasonText": "explode",
    }
    body = await admin.gql(
        "mutation($input: MoveOpportunityInput!) { "
        "moveOpportunity(input: $input) { errors { field } } }",
        {"input": input},
    )
    assert body["errors"]
    single = (
        "query($id: ID!) { opportunity(id: $id) { version closedAt stage { key } "
        "stageHistory { to { key } } } }"
    )
    after = data(await admin.gql(single, {"id": found["id"]}))["opportunity"]
    assert after == {
        "version": 1,
        "closedAt": None,
        "stage": {"key": "LEAD"},
        "stageHistory": [{"to": {"key": "LEAD"}}],
    }
    lost = await move(admin, found, "LOST", lostReason="OTHER", lostReasonText="record")
    # the listener's row committed with the move
    assert [h["to"]["key"] for h in lost["stageHistory"]] == ["LEAD", "LOST", "LOST"]
    events = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "sales.opportunity.moved"}) { totalCount } }'
        )
    )
    assert events["auditEvents"]["totalCount"] == 1


async def test_create_without_an_active_open_stage_is_refused_on_stage(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    # A pipeline damaged outside the API (the API keeps one OPEN stage active).
    async with admin.db.transaction() as session:
        await session.execute(
            update(models.Stage).where(models.Stage.kind == "OPEN").values(active=False)
        )
    input = {"customerId": customer, "title": "Deal", "amount": "10"}
    errors = await mutate_refused(admin, "createOpportunity", input, OPPORTUNITY)
    assert [(e["field"], e["code"]) for e in errors] == [("stage", "BUSINESS_RULE")]
    assert "no OPEN stage" in errors[0]["message"]


async def test_a_closed_opportunity_keeps_its_figures_until_reopened(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    won = await move(admin, await create(admin, customer, expectedCloseOn="2026-12-01"), "WON")
    lost = await move(admin, await create(admin, customer), "LOST", lostReason="PRICE")
    for closed in (won, lost):
        fresh = {"id": closed["id"], "version": closed["version"]}
        for values, field in (
            ({"amount": "2000"}, "amount"),
            ({"currency": "USD"}, "currency"),
            ({"expectedCloseOn": "2027-01-01"}, "expectedCloseOn"),
            ({"expectedCloseOn": None}, "expectedCloseOn"),
        ):
            if closed is lost and values == {"expectedCloseOn": None}:
                continue  # it has none: clearing it changes nothing
            errors = await mutate_refused(admin, "updateOpportunity", fresh | values, OPPORTUNITY)
            assert [(e["field"], e["code"]) for e in errors] == [(field, "INVALID_TRANSITION")]
            assert "reopen it" in errors[0]["message"]
    # The same figures again, a title and a next step: accepted.
    fresh = {"id": won["id"], "version": won["version"]}
    same = {"amount": "1000", "currency": "CNY", "expectedCloseOn": "2026-12-01"}
    payload = await mutate_ok(
        admin,
        "updateOpportunity",
        fresh | same | {"title": "Won deal", "nextStep": "Invoice"},
        OPPORTUNITY,
    )
    updated = payload["opportunity"]
    assert (updated["title"], updated["nextStep"]) == ("Won deal", "Invoice")
    assert updated["amount"] == {"amount": "1000.00", "currency": "CNY"}
    # Reopened, its figures change again.
    reopened = await mutate_ok(
        admin,
        "reopenOpportunity",
        {"id": won["id"], "version": updated["version"], "stage": "PROPOSAL"},
        OPPORTUNITY,
    )
    fresh = {"id": won["id"], "version": reopened["opportunity"]["version"]}
    payload = await mutate_ok(admin, "updateOpportunity", fresh | {"amount": "2000"}, OPPORTUNITY)
    assert payload["opportunity"]["amount"] == {"amount": "2000.00", "currency": "CNY"}
