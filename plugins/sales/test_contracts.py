"""Contracts through HTTP: writing one (every refused input), its life (activate,
terminate, renew), the lists and ``Customer.contracts``, who sees and changes which, and the
periodic jobs (renewal reminders to the customer's owner, once per end date, by inbox,
e-mail, hook and webhook; expiry and automatic renewal).

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.plugin_api import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    Customer,
    Settings,
    User,
    hookimpl,
)
from plugins.sales.models import Contract
from plugins.sales.service import contract_jobs
from plugins.sales.testing import (
    MONDAY,
    create_customer,
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)
from schema.testkit import Api, FakeClock, StatementCounter, running_app
from schema.testkit_mail import running_smtp_server
from schema.testkit_webhooks import WebhookReceiver, signature_valid

FIELDS = """
  id number title startsOn endsOn status autoRenew noticeDays terminatedAt renewalDueOn
  version value { amount currency } owner { id } customer { id }
"""
CONTRACT = f"contract {{ {FIELDS} }}"
INBOX = "query { notifications(first: 20) { edges { node { kind title body subjectId } } } }"


class Listener:
    """A plugin that records the renewal hook's calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dt.datetime]] = []

    @hookimpl(optionalhook=True)
    def crm_sales_contract_renewal_due(
        self, contract: Contract, days_left: int, now: dt.datetime
    ) -> None:
        self.calls.append((contract.number, days_left, now))


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


async def create_contract(api: Api, customer: str, **fields: Any) -> dict[str, Any]:
    input = {
        "customerId": customer,
        "title": "Support 2027",
        "startsOn": "2026-12-01",
        "endsOn": "2027-11-30",
        "value": "12000.00",
    } | fields
    contract: dict[str, Any] = (await mutate_ok(api, "createContract", input, CONTRACT))["contract"]
    return contract


async def step(api: Api, name: str, contract: dict[str, Any], **fields: Any) -> dict[str, Any]:
    input = {"id": contract["id"], "version": contract["version"]} | fields
    result: dict[str, Any] = (await mutate_ok(api, name, input, CONTRACT))["contract"]
    return result


async def refused(
    api: Api, name: str, contract: dict[str, Any], **fields: Any
) -> list[tuple[str, str, str]]:
    input = {"id": contract["id"], "version": contract["version"]} | fields
    errors = await mutate_refused(api, name, input, CONTRACT)
    return [(e["field"], e["code"], e["message"]) for e in errors]


async def refused_create(api: Api, customer: str, **fields: Any) -> list[tuple[str, str]]:
    input = {
        "customerId": customer,
        "title": "Support",
        "startsOn": "2026-12-01",
        "endsOn": "2027-11-30",
        "value": "100",
    } | fields
    errors = await mutate_refused(api, "createContract", input, CONTRACT)
    return [(e["field"], e["code"]) for e in errors]


async def numbers(api: Api, query: str = "", variables: dict[str, Any] | None = None) -> list[str]:
    body = await api.gql(
        "query($filter: ContractFilter, $orderBy: [ContractOrder!]) { contracts(first: 50, "
        "filter: $filter, orderBy: $orderBy) { edges { node { number } } } }",
        variables or {},
    )
    return [edge["node"]["number"] for edge in data(body)["contracts"]["edges"]]


async def inbox(api: Api) -> list[tuple[str, str, str]]:
    edges = data(await api.gql(INBOX))["notifications"]["edges"]
    return [(e["node"]["kind"], e["node"]["title"], e["node"]["body"]) for e in edges]


# ------------------------------------------------------------------------- writing one


async def test_a_contract_is_written_as_a_numbered_draft_owned_by_its_writer(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    first = await create_contract(admin, customer)
    assert first["number"] == "CT000001"
    assert first["status"] == "DRAFT"
    assert first["owner"]["id"] == gid("User", admin.user_id)
    assert first["customer"]["id"] == customer
    assert first["value"] == {"amount": "12000.00", "currency": "CNY"}
    assert (first["autoRenew"], first["noticeDays"], first["terminatedAt"]) == (False, 30, None)
    assert first["renewalDueOn"] == "2027-10-31"  # 30 days before the end
    assert first["version"] == 1
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    second = await create_contract(
        admin,
        customer,
        value="500",
        currency="jpy",
        ownerId=gid("User", rep.user_id),
        autoRenew=True,
        noticeDays=60,
        startsOn="2026-12-01",
        endsOn="2026-12-01",  # a one-day term
    )
    assert second["number"] == "CT000002"
    assert second["value"] == {"amount": "500", "currency": "JPY"}
    assert second["owner"]["id"] == gid("User", rep.user_id)
    assert (second["autoRenew"], second["noticeDays"]) == (True, 60)
    assert second["renewalDueOn"] == "2026-10-02"  # the notice period is the longer lead


async def test_every_refused_input_of_create_names_its_field(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    assert await refused_create(admin, customer, title="  ") == [("title", "REQUIRED")]
    assert await refused_create(admin, customer, title="x" * 201) == [("title", "TOO_LONG")]
    assert await refused_create(admin, customer, endsOn="2026-11-30") == [
        ("endsOn", "OUT_OF_RANGE")
    ]
    assert await refused_create(admin, customer, value="-1") == [("value", "OUT_OF_RANGE")]
    assert await refused_create(admin, customer, value="1.001") == [("value", "INVALID")]
    assert await refused_create(admin, customer, value="1.5", currency="JPY") == [
        ("value", "INVALID")
    ]
    assert await refused_create(admin, customer, currency="XYZ") == [("currency", "INVALID")]
    assert await refused_create(admin, customer, noticeDays=366) == [("noticeDays", "OUT_OF_RANGE")]
    assert await refused_create(admin, customer, noticeDays=-1) == [("noticeDays", "OUT_OF_RANGE")]
    assert await refused_create(admin, customer, ownerId=customer) == [("ownerId", "INVALID")]
    assert await refused_create(admin, customer, ownerId=gid("User", 999)) == [
        ("ownerId", "INVALID")
    ]
    assert await refused_create(admin, gid("User", 1)) == [("customerId", "INVALID")]
    # Several at once.
    assert await refused_create(admin, customer, title="", value="-5") == [
        ("title", "REQUIRED"),
        ("value", "OUT_OF_RANGE"),
    ]
    input = {
        "customerId": gid("Customer", 999),
        "title": "Support",
        "startsOn": "2026-12-01",
        "endsOn": "2027-11-30",
        "value": "100",
    }
    assert await not_found_argument(admin, "createContract", input, CONTRACT) == (
        "input.customerId"
    )
    version = data(
        await admin.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": customer})
    )
    archived = await mutate(
        admin,
        "archiveCustomer",
        {"id": customer, "version": version["customer"]["version"]},
        "customer { id }",
    )
    assert archived["errors"] == []
    assert await refused_create(admin, customer) == [("customerId", "CONFLICT")]
    # Nothing was written, and no number was taken by a refused one.
    other = await create_customer(admin, "Globex")
    assert (await create_contract(admin, other))["number"] == "CT000001"


# ------------------------------------------------------------------------------ its life


async def test_update_changes_a_draft_and_only_some_fields_of_an_active_one(
    admin: Api,
) -> None:
    customer = await create_customer(admin, "Acme")
    contract = await create_contract(admin, customer)
    contract = await step(
        admin,
        "updateContract",
        contract,
        title="Support 2027 (gold)",
        startsOn="2027-01-01",
        endsOn="2027-12-31",
        value="15000.5",
        currency="USD",
        noticeDays=10,
    )
    assert contract["title"] == "Support 2027 (gold)"
    assert (contract["startsOn"], contract["endsOn"]) == ("2027-01-01", "2027-12-31")
    assert contract["value"] == {"amount": "15000.50", "currency": "USD"}
    assert (contract["noticeDays"], contract["version"]) == (10, 2)
    # A stale version is refused, with the contract as it is now.
    stale = await mutate(
        admin, "updateContract", {"id": contract["id"], "version": 1, "title": "x"}, CONTRACT
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["contract"]["version"] == 2
    assert await refused(admin, "updateContract", contract, endsOn="2026-12-31") == [
        ("endsOn", "OUT_OF_RANGE", "must not be before startsOn")
    ]
    assert [f for f, *_ in await refused(admin, "updateContract", contract, title=None)] == [
        "title"
    ]
    assert await refused(admin, "updateContract", contract, noticeDays=None) == [
        ("noticeDays", "REQUIRED", "cannot be null")
    ]
    assert [c for _, c, _ in await refused(admin, "updateContract", contract, value="0.001")] == [
        "INVALID"
    ]
    contract = await step(admin, "activateContract", contract)
    for field, value in (
        ("startsOn", "2027-01-02"),
        ("endsOn", "2028-01-01"),
        ("value", "1"),
        ("currency", "CNY"),
    ):
        assert [
            (f, c) for f, c, _ in await refused(admin, "updateContract", contract, **{field: value})
        ] == [(field, "BUSINESS_RULE")]
    contract = await step(admin, "updateContract", contract, title="Gold", autoRenew=True)
    assert (contract["title"], contract["autoRenew"], contract["status"]) == (
        "Gold",
        True,
        "ACTIVE",
    )
    contract = await step(admin, "terminateContract", contract)
    assert await refused(admin, "updateContract", contract, title="Again") == [
        ("id", "INVALID_TRANSITION", "a TERMINATED contract cannot be changed")
    ]


async def test_activate_terminate_and_renew_follow_the_status_rules(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    contract = await create_contract(admin, customer)
    assert await refused(admin, "terminateContract", contract) == [
        (
            "id",
            "INVALID_TRANSITION",
            "contract CT000001 is DRAFT; this needs it ACTIVE",
        )
    ]
    assert [
        c for _, c, _ in await refused(admin, "renewContract", contract, endsOn="2028-11-30")
    ] == ["INVALID_TRANSITION"]
    contract = await step(admin, "activateContract", contract)
    assert contract["status"] == "ACTIVE"
    assert [c for _, c, _ in await refused(admin, "activateContract", contract)] == [
        "INVALID_TRANSITION"
    ]
    assert await refused(admin, "renewContract", contract, endsOn="2027-11-30") == [
        ("endsOn", "OUT_OF_RANGE", "must be after the current end, 2027-11-30")
    ]
    contract = await step(admin, "renewContract", contract, endsOn="2028-11-30")
    assert (contract["status"], contract["endsOn"]) == ("ACTIVE", "2028-11-30")
    clock.advance(hours=2)
    contract = await step(admin, "terminateContract", contract)
    assert contract["status"] == "TERMINATED"
    assert contract["terminatedAt"] == "2026-11-23T11:00:00+00:00"
    for name in ("activateContract", "terminateContract"):
        assert [c for _, c, _ in await refused(admin, name, contract)] == ["INVALID_TRANSITION"]
    assert [
        c for _, c, _ in await refused(admin, "renewContract", contract, endsOn="2029-01-01")
    ] == ["INVALID_TRANSITION"]
    # A draft whose term has already ended cannot be put in force.
    ended = await create_contract(admin, customer, startsOn="2025-01-01", endsOn="2026-11-22")
    assert await refused(admin, "activateContract", ended) == [
        ("endsOn", "BUSINESS_RULE", "the contract ended on 2026-11-22; change its dates first")
    ]
    today = await create_contract(admin, customer, startsOn="2025-01-01", endsOn="2026-11-23")
    assert (await step(admin, "activateContract", today))["status"] == "ACTIVE"
    # Unknown ids are NOT_FOUND, naming the input's id.
    assert (
        await not_found_argument(
            admin, "activateContract", {"id": gid("Contract", 999), "version": 1}, CONTRACT
        )
        == "input.id"
    )


async def test_an_expired_contract_is_renewed_to_a_future_end(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin, "Acme")
    contract = await create_contract(admin, customer, startsOn="2025-11-24", endsOn="2026-11-24")
    contract = await step(admin, "activateContract", contract)
    clock.advance(days=3)
    await admin.run_due_jobs()
    contract = data(
        await admin.gql(
            f"query($id: ID!) {{ contract(id: $id) {{ {FIELDS} }} }}", {"id": contract["id"]}
        )
    )["contract"]
    assert contract["status"] == "EXPIRED"
    assert await refused(admin, "renewContract", contract, endsOn="2026-11-25") == [
        ("endsOn", "OUT_OF_RANGE", "must not be in the past")
    ]
    contract = await step(admin, "renewContract", contract, endsOn="2027-11-24")
    assert (contract["status"], contract["endsOn"]) == ("ACTIVE", "2027-11-24")


# -------------------------------------------------------------------------------- lists


async def test_lists_filter_order_and_find_by_number(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    acme = await create_customer(admin, "Acme")
    globex = await create_customer(admin, "Globex")
    await create_contract(admin, acme, startsOn="2026-01-01", endsOn="2026-12-31")
    second = await create_contract(admin, acme, startsOn="2026-06-01", endsOn="2027-05-31")
    await step(admin, "activateContract", second)
    await create_contract(
        admin, globex, startsOn="2026-03-01", endsOn="2027-02-28", ownerId=gid("User", rep.user_id)
    )
    assert await numbers(admin) == ["CT000002", "CT000003", "CT000001"]  # latest start first
    assert await numbers(admin, variables={"filter": {"customerId": acme}}) == [
        "CT000002",
        "CT000001",
    ]
    assert await numbers(admin, variables={"filter": {"status": ["ACTIVE"]}}) == ["CT000002"]
    assert await numbers(admin, variables={"filter": {"ownerId": gid("User", rep.user_id)}}) == [
        "CT000003"
    ]
    span = {"from": "2027-01-01", "to": "2027-02-28"}
    assert await numbers(admin, variables={"filter": {"endsBetween": span}}) == ["CT000003"]
    assert await numbers(admin, variables={"filter": {"endsBetween": {"from": "2027-03-01"}}}) == [
        "CT000002"
    ]
    by_end = {"orderBy": [{"field": "ENDS_ON", "direction": "ASC"}]}
    assert await numbers(admin, variables=by_end) == ["CT000001", "CT000003", "CT000002"]
    by_number = {"orderBy": [{"field": "NUMBER", "direction": "DESC"}]}
    assert await numbers(admin, variables=by_number) == ["CT000003", "CT000002", "CT000001"]
    backwards = await admin.gql(
        'query { contracts(filter: {endsBetween: {from: "2027-01-01", to: "2026-01-01"}}) '
        "{ edges { node { id } } } }"
    )
    assert error_code(backwards) == "BAD_USER_INPUT"
    found = data(await admin.gql('query { contract(number: "ct000002") { id number } }'))
    assert found["contract"] == {"id": second["id"], "number": "CT000002"}
    by_id = data(
        await admin.gql("query($id: ID!) { contract(id: $id) { number } }", {"id": second["id"]})
    )
    assert by_id["contract"] == {"number": "CT000002"}
    assert error_code(await admin.gql("query { contract { id } }")) == "BAD_USER_INPUT"
    nested = data(
        await admin.gql(
            "query { customers(first: 10) { edges { node { name "
            "contracts(first: 1) { totalCount edges { node { number } } } } } } }"
        )
    )
    shown = {
        e["node"]["name"]: (
            e["node"]["contracts"]["totalCount"],
            [c["node"]["number"] for c in e["node"]["contracts"]["edges"]],
        )
        for e in nested["customers"]["edges"]
    }
    assert shown == {"Acme": (2, ["CT000002"]), "Globex": (1, ["CT000003"])}


# ------------------------------------------------------------------------------ scoping


async def test_who_sees_and_changes_which_contracts(admin: Api) -> None:
    first = await admin.user("first@example.com", [SALES_REPRESENTATIVE], team="East", lasting=True)
    second = await admin.user(
        "second@example.com", [SALES_REPRESENTATIVE], team="East", lasting=True
    )
    outsider = await admin.user(
        "west@example.com", [SALES_REPRESENTATIVE], team="West", lasting=True
    )
    manager = await admin.user("boss@example.com", [CUSTOMER_MANAGER], team="East", lasting=True)
    finance = await admin.user("money@example.com", [FINANCE], lasting=True)
    support = await admin.user("help@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    mine = await create_customer(first, "First's customer")
    theirs = await create_customer(second, "Second's customer")
    own = await create_contract(first, mine)  # CT000001
    other = await create_contract(second, theirs)  # CT000002
    # On the first rep's customer, owned by someone else: the customer makes it theirs.
    await create_contract(admin, mine)  # CT000003
    # On another's customer, owned by the first rep: the ownership makes it theirs.
    await create_contract(admin, theirs, ownerId=gid("User", first.user_id))  # CT000004
    assert sorted(await numbers(first)) == ["CT000001", "CT000003", "CT000004"]
    assert sorted(await numbers(second)) == ["CT000002", "CT000004"]
    assert await numbers(outsider) == []
    assert sorted(await numbers(manager)) == ["CT000001", "CT000002", "CT000003", "CT000004"]
    assert sorted(await numbers(finance)) == ["CT000001", "CT000002", "CT000003", "CT000004"]
    query = "query($id: ID!) { contract(id: $id) { number } }"
    assert data(await outsider.gql(query, {"id": own["id"]}))["contract"] is None
    assert data(await finance.gql(query, {"id": own["id"]}))["contract"] == {"number": "CT000001"}
    # Support reads no contracts: the fields are refused, not empty.
    for body in (
        await support.gql("query { contracts(first: 5) { edges { node { id } } } }"),
        await support.gql(query, {"id": own["id"]}),
    ):
        assert error_code(body) == "FORBIDDEN"
    nested = await support.gql(
        "query($id: ID!) { customer(id: $id) { name contracts { totalCount } } }", {"id": mine}
    )
    assert nested["data"]["customer"] == {"name": "First's customer", "contracts": None}
    assert nested["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Writes: only within the scope of sales:write.
    version = {"id": other["id"], "version": other["version"]}
    assert await not_found_argument(first, "activateContract", version, CONTRACT) == "input.id"
    assert (
        await not_found_argument(outsider, "updateContract", version | {"title": "x"}, CONTRACT)
        == "input.id"
    )
    input = {
        "customerId": theirs,
        "title": "Sneaky",
        "startsOn": "2026-12-01",
        "endsOn": "2027-11-30",
        "value": "1",
    }
    assert await not_found_argument(first, "createContract", input, CONTRACT) == "input.customerId"
    assert (await step(manager, "activateContract", other))["status"] == "ACTIVE"
    assert (await step(first, "activateContract", own))["status"] == "ACTIVE"
    refused_body = await finance.gql(
        "mutation($input: CreateContractInput!) { "
        "createContract(input: $input) { errors { field } } }",
        {"input": input},
    )
    assert error_code(refused_body) == "FORBIDDEN"


# ------------------------------------------------------------------------- periodic jobs


async def _without_owner(api: Api, customer: str) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == db_id(customer)).values(owner_id=None)
        )


async def test_renewal_reminders_reach_the_customer_owner_once_per_end_date(
    admin: Api, clock: FakeClock, listener: Listener
) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    owned = await create_customer(admin, "Acme", owner_id=rep.user_id)
    orphan = await create_customer(admin, "Globex")
    await _without_owner(admin, orphan)
    # CT000001: ends in 31 days (the lead is 30): told tomorrow, to the customer's owner.
    soon = await create_contract(admin, owned, startsOn="2026-01-01", endsOn="2026-12-24")
    await step(admin, "activateContract", soon)
    # CT000002: ends in 45 days with a 45-day notice period: told now, to the contract's owner.
    noticed = await create_contract(
        admin, orphan, startsOn="2026-01-01", endsOn="2027-01-07", noticeDays=45
    )
    await step(admin, "activateContract", noticed)
    # CT000003: a draft ending soon, and CT000004: ending in 47 days: not told in this test.
    await create_contract(admin, owned, startsOn="2026-01-01", endsOn="2026-11-30")
    late = await create_contract(
        admin, owned, startsOn="2026-01-01", endsOn="2027-01-09", noticeDays=45
    )
    await step(admin, "activateContract", late)

    async with WebhookReceiver() as receiver:
        subscribed = await admin.gql(
            "mutation($url: String!) { createWebhookSubscription(input: {url: $url, "
            'eventTypes: ["sales.contract.renewal_due"]}) { secret errors { field } } }',
            {"url": receiver.url},
        )
        secret = data(subscribed)["createWebhookSubscription"]["secret"]
        ran = await admin.run_due_jobs()
        assert ran["sales.contract_renewals"] == {"contract renewal reminders": 1}
        told = ("sales.contract_renewal", "Contract CT000002 ends on 2027-01-07: Support 2027")
        assert [(k, t) for k, t, _ in await inbox(admin)] == [told]
        assert (await inbox(admin))[0][2] == "It ends in 45 days."
        assert await inbox(rep) == []
        clock.advance(days=1)
        await admin.run_due_jobs()
        assert await inbox(rep) == [
            (
                "sales.contract_renewal",
                "Contract CT000001 ends on 2026-12-24: Support 2027",
                "It ends in 30 days.",
            )
        ]
        for _ in range(2):  # later runs tell nobody again
            clock.advance(hours=1)
            ran = await admin.run_due_jobs()
            assert ran["sales.contract_renewals"] == {"contract renewal reminders": 0}
        assert len(await inbox(rep)) == 1
        assert len(await inbox(admin)) == 1
        await admin.deliver_outbox()
    assert [(number, days) for number, days, _ in listener.calls] == [
        ("CT000002", 45),
        ("CT000001", 30),
    ]
    assert listener.calls[1][2] == MONDAY + dt.timedelta(days=1)
    events = [r.json() for r in receiver.requests]
    assert all(signature_valid(secret, r) for r in receiver.requests)
    assert [e["type"] for e in events] == ["sales.contract.renewal_due"] * 2
    event = next(e["data"] for e in events if e["data"]["contract"]["number"] == "CT000001")
    assert event["daysLeft"] == 30
    assert event["contract"]["customerId"] == owned
    assert event["contract"]["value"] == {"amount": "12000.00", "currency": "CNY"}
    assert event["contract"]["endsOn"] == "2026-12-24"
    assert "Support" not in str(events)  # no titles


async def test_a_renewed_contract_is_told_again_for_its_new_end(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    contract = await create_contract(admin, customer, startsOn="2026-01-01", endsOn="2026-12-01")
    contract = await step(admin, "activateContract", contract)
    await admin.run_due_jobs()
    assert len(await inbox(admin)) == 1
    contract = data(
        await admin.gql(
            f"query($id: ID!) {{ contract(id: $id) {{ {FIELDS} }} }}", {"id": contract["id"]}
        )
    )["contract"]
    await step(admin, "renewContract", contract, endsOn="2026-12-10")
    clock.advance(hours=1)
    await admin.run_due_jobs()
    titles = [title for _, title, _ in await inbox(admin)]
    assert titles == [
        "Contract CT000001 ends on 2026-12-10: Support 2027",
        "Contract CT000001 ends on 2026-12-01: Support 2027",
    ]


async def test_contracts_past_their_end_expire_or_renew_for_a_term_of_the_same_length(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin, "Acme")
    plain = await create_contract(admin, customer, startsOn="2025-11-26", endsOn="2026-11-25")
    plain = await step(admin, "activateContract", plain)
    renewing = await create_contract(
        admin, customer, startsOn="2025-11-26", endsOn="2026-11-25", autoRenew=True
    )
    renewing = await step(admin, "activateContract", renewing)
    draft = await create_contract(admin, customer, startsOn="2025-11-26", endsOn="2026-11-25")
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_expiry"] == {
        "contracts renewed automatically": 0,
        "contracts expired": 0,
    }
    clock.advance(days=2)  # 25 November: the last day in force
    await admin.run_due_jobs()
    clock.advance(days=1)  # 26 November: past the end
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_expiry"] == {
        "contracts renewed automatically": 1,
        "contracts expired": 1,
    }
    clock.advance(hours=1)
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_expiry"] == {
        "contracts renewed automatically": 0,
        "contracts expired": 0,
    }
    query = f"query($id: ID!) {{ contract(id: $id) {{ {FIELDS} }} }}"
    after = {
        c["number"]: data(await admin.gql(query, {"id": c["id"]}))["contract"]
        for c in (plain, renewing, draft)
    }
    assert after["CT000001"]["status"] == "EXPIRED"
    assert (after["CT000002"]["status"], after["CT000002"]["startsOn"]) == ("ACTIVE", "2026-11-26")
    assert after["CT000002"]["endsOn"] == "2027-11-25"
    assert after["CT000003"]["status"] == "DRAFT"
    trail = """query($id: ID!) { auditEvents(first: 10, filter: {entityId: $id}) {
      edges { node { action actorLabel changes { field before after } } } } }"""
    expired = data(await admin.gql(trail, {"id": plain["id"]}))["auditEvents"]["edges"]
    assert expired[0]["node"]["action"] == "sales.contract.expired"
    assert expired[0]["node"]["changes"] == [
        {"field": "status", "before": "ACTIVE", "after": "EXPIRED"}
    ]
    renewed = data(await admin.gql(trail, {"id": renewing["id"]}))["auditEvents"]["edges"]
    assert renewed[0]["node"]["action"] == "sales.contract.auto_renewed"
    assert {c["field"] for c in renewed[0]["node"]["changes"]} == {"startsOn", "endsOn"}


async def test_the_renewal_reminder_is_e_mailed(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    with running_smtp_server() as (server, port):
        settings = make_settings(
            plugins=("fixture", "sales"),
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="CRM <crm@example.com>",
            record_url="https://crm.example.com/{type}/{id}",
        )
        clock = FakeClock(MONDAY)
        async with running_app(settings, clock=clock, extra_plugins=crm_extra_plugins) as api:
            admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
            rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
            customer = await create_customer(admin, "Acme", owner_id=rep.user_id)
            contract = await create_contract(
                admin, customer, startsOn="2026-01-01", endsOn="2026-12-03"
            )
            await step(admin, "activateContract", contract)
            await admin.run_due_jobs()
            await admin.deliver_outbox()
            await admin.run_due_jobs()
            await admin.deliver_outbox()
        mails = [m for m in server.messages() if m["To"] == rep.email]
    assert len(mails) == 1
    (mail,) = mails
    assert mail["Subject"] == "Contract CT000001 ends on 2026-12-03: Support 2027"
    text = mail.get_body(("plain",))
    assert text is not None
    assert "It ends in 10 days." in text.get_content()
    assert f"https://crm.example.com/Contract/{contract['id']}" in text.get_content()


async def test_customer_contracts_are_batched(
    admin: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    for index in range(12):
        customer = await create_customer(admin, f"Customer {index:02}")
        async with admin.db.transaction() as session:
            for term in range(2):
                session.add(
                    Contract(
                        number=f"CT9{index:02}{term}",
                        customer_id=db_id(customer),
                        owner_id=admin.user_id,
                        title="Support",
                        starts_on=dt.date(2026, 1 + term, 1),
                        ends_on=dt.date(2026, 12, 31),
                        value=decimal.Decimal("10.00"),
                        currency="CNY",
                        status="ACTIVE",
                        created_at=MONDAY,
                        updated_at=MONDAY,
                    )
                )
    query = """query($first: Int!) { customers(first: $first) { edges { node { id
      contracts(first: 3) { totalCount edges { node { number value { amount } owner { name }
      customer { id } } } } } } } }"""
    counter = count_statements(admin.db)
    counts = []
    for first in (3, 12):
        counter.reset()
        edges = data(await admin.gql(query, {"first": first}))["customers"]["edges"]
        assert len(edges) == first
        for edge in edges:
            contracts = edge["node"]["contracts"]
            assert contracts["totalCount"] == 2
            assert {c["node"]["customer"]["id"] for c in contracts["edges"]} == {edge["node"]["id"]}
        counts.append(counter.count)
    assert counts[0] == counts[1], counter.statements


async def test_the_reminder_lead_follows_the_setting(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SALES_RENEWAL_REMINDER_DAYS", "10")
    customer = await create_customer(admin, "Acme")
    short = await create_contract(admin, customer, startsOn="2026-01-01", endsOn="2026-12-04")
    assert short["renewalDueOn"] == "2026-11-04"  # the 30-day notice period is longer
    short = await step(admin, "updateContract", short, noticeDays=0)
    assert short["renewalDueOn"] == "2026-11-24"  # 10 days before the end
    await step(admin, "activateContract", short)
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_renewals"] == {"contract renewal reminders": 0}  # 11 days left
    clock.advance(days=1)
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_renewals"] == {"contract renewal reminders": 1}  # 10 days left


async def test_every_change_is_audited(admin: Api) -> None:
    customer = await create_customer(admin, "Acme")
    contract = await create_contract(admin, customer)
    contract = await step(admin, "updateContract", contract, title="Gold")
    assert await refused(admin, "updateContract", contract, ownerId=None) == [
        ("ownerId", "REQUIRED", "cannot be null")
    ]
    assert [f for f, *_ in await refused(admin, "updateContract", contract, ownerId=customer)] == [
        "ownerId"
    ]
    unchanged = await step(admin, "updateContract", contract, title="Gold")
    assert unchanged["version"] == contract["version"]  # nothing changed, nothing written
    contract = await step(admin, "activateContract", contract)
    contract = await step(admin, "renewContract", contract, endsOn="2028-11-30")
    await step(admin, "terminateContract", contract)
    trail = """query($id: ID!) { auditEvents(first: 10, filter: {entityId: $id}) {
      edges { node { action changes { field before after } } } } }"""
    events = data(await admin.gql(trail, {"id": contract["id"]}))["auditEvents"]["edges"]
    assert [e["node"]["action"] for e in events] == [
        "sales.contract.terminated",
        "sales.contract.renewed",
        "sales.contract.activated",
        "sales.contract.updated",
        "sales.contract.created",
    ]
    renewed = events[1]["node"]["changes"]
    assert renewed == [{"field": "endsOn", "before": "2027-11-30", "after": "2028-11-30"}]
    assert events[3]["node"]["changes"] == [
        {"field": "title", "before": "Support 2027", "after": "Gold"}
    ]


async def test_the_contract_owner_is_reminded_when_the_customer_owner_left(
    admin: Api,
) -> None:
    gone = await admin.user("gone@example.com", [SALES_REPRESENTATIVE], lasting=True)
    keeper = await admin.user("keeper@example.com", [SALES_REPRESENTATIVE], lasting=True)
    customer = await create_customer(admin, "Acme", owner_id=gone.user_id)
    contract = await create_contract(
        admin,
        customer,
        startsOn="2026-01-01",
        endsOn="2026-12-01",
        ownerId=gid("User", keeper.user_id),
    )
    await step(admin, "activateContract", contract)
    async with admin.db.transaction() as session:
        await session.execute(update(User).where(User.id == gone.user_id).values(is_active=False))
    await admin.run_due_jobs()
    assert [title for _, title, _ in await inbox(keeper)] == [
        "Contract CT000001 ends on 2026-12-01: Support 2027"
    ]


async def test_contract_days_are_the_deployment_s_not_the_caller_s(admin: Api) -> None:
    """At 09:00 UTC on 23 November it is still the 22nd in Pago Pago (UTC-11): a caller
    there does not move "today" back for contracts; the jobs count the deployment's day."""
    changed = await admin.gql(
        'mutation { updateMyPreferences(input: {timeZone: "Pacific/Pago_Pago"}) '
        "{ user { timeZone } errors { field } } }"
    )
    assert data(changed)["updateMyPreferences"]["user"]["timeZone"] == "Pacific/Pago_Pago"
    customer = await create_customer(admin, "Acme")
    ended = await create_contract(admin, customer, startsOn="2026-01-01", endsOn="2026-11-22")
    assert await refused(admin, "activateContract", ended) == [
        (
            "endsOn",
            "BUSINESS_RULE",
            "the contract ended on 2026-11-22; change its dates first",
        )
    ]
    active = await step(
        admin,
        "activateContract",
        await create_contract(admin, customer, startsOn="2026-01-01", endsOn="2026-11-30"),
    )
    async with admin.db.transaction() as session:  # as if the expiry job had not run yet
        await session.execute(
            update(Contract)
            .where(Contract.id == db_id(active["id"]))
            .values(ends_on=dt.date(2026, 11, 21))
        )
    assert await refused(admin, "renewContract", active, endsOn="2026-11-22") == [
        ("endsOn", "OUT_OF_RANGE", "must not be in the past")
    ]
    renewed = await step(admin, "renewContract", active, endsOn="2026-11-23")
    assert renewed["endsOn"] == "2026-11-23"


async def test_a_batch_partly_told_by_another_worker_does_not_stop_the_run(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract_jobs, "BATCH", 3)
    customer = await create_customer(admin, "Acme")
    for _n in range(5):
        contract = await create_contract(
            admin, customer, startsOn="2026-01-01", endsOn="2026-12-01"
        )
        await step(admin, "activateContract", contract)
    raced: list[int] = []

    def another_worker(state: ORMExecuteState) -> None:
        """Between the first round's look-up and its marking, CT000001 is marked told, as
        another worker running the job at once would."""
        if raced or not state.is_update or "sales_contracts" not in str(state.statement):
            return
        raced.append(1)
        state.session.execute(
            update(Contract)
            .where(Contract.number == "CT000001")
            .values(renewal_told_for=Contract.ends_on)
            .execution_options(synchronize_session=False)
        )

    event.listen(Session, "do_orm_execute", another_worker)
    try:
        ran = await admin.run_due_jobs()
    finally:
        event.remove(Session, "do_orm_execute", another_worker)
    assert raced
    # The first round found 3 and told 2: the other two are told in the same run.
    assert ran["sales.contract_renewals"] == {"contract renewal reminders": 4}
    titles = sorted(title for _, title, _ in await inbox(admin))
    assert [t.split()[1] for t in titles] == ["CT000002", "CT000003", "CT000004", "CT000005"]


async def test_a_reminder_nobody_owns_goes_to_the_sales_managers(admin: Api) -> None:
    gone = await admin.user("gone@example.com", [SALES_REPRESENTATIVE], team="East", lasting=True)
    east = await admin.user("east@example.com", [CUSTOMER_MANAGER], team="East", lasting=True)
    west = await admin.user("west@example.com", [CUSTOMER_MANAGER], team="West", lasting=True)
    customer = await create_customer(admin, "Acme")
    await _without_owner(admin, customer)
    contract = await create_contract(
        admin,
        customer,
        startsOn="2026-01-01",
        endsOn="2026-12-01",
        ownerId=gid("User", gone.user_id),
    )
    await step(admin, "activateContract", contract)
    async with admin.db.transaction() as session:
        await session.execute(update(User).where(User.id == gone.user_id).values(is_active=False))
    ran = await admin.run_due_jobs()
    assert ran["sales.contract_renewals"] == {"contract renewal reminders": 1}
    told = [("sales.contract_renewal", "Contract CT000001 ends on 2026-12-01: Support 2027")]
    for manager in (admin, east):  # ALL scope, and TEAM scope in the owner's team
        assert [(kind, title) for kind, title, _ in await inbox(manager)] == told, manager.user_id
    assert await inbox(west) == []


async def test_a_representative_gives_contracts_only_within_their_write_scope(
    admin: Api,
) -> None:
    rep = await admin.user("east@example.com", [SALES_REPRESENTATIVE], team="East", lasting=True)
    west = await admin.user("west@example.com", [SALES_REPRESENTATIVE], team="West", lasting=True)
    customer = await create_customer(rep, "Rep's customer")
    colleague = gid("User", west.user_id)
    assert await refused_create(rep, customer, ownerId=colleague) == [("ownerId", "INVALID")]
    contract = await create_contract(rep, customer, ownerId=gid("User", rep.user_id))
    assert contract["owner"]["id"] == gid("User", rep.user_id)
    errors = await refused(rep, "updateContract", contract, ownerId=colleague)
    assert [(field, code) for field, code, _ in errors] == [("ownerId", "INVALID")]
    # A sales manager at ALL scope (the administrator) may give it to anyone active.
    moved = await step(admin, "updateContract", contract, ownerId=colleague)
    assert moved["owner"]["id"] == colleague
