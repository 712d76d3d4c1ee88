"""Partial results: a refused field is null with one error at its path and the rest of the
response survives; a ticket names its assignee to whoever sees the ticket, and says when its
customer is hidden instead of answering a bare null."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.plugin_api import (
    ADMINISTRATOR,
    FINANCE,
    SUPPORT_REPRESENTATIVE,
    CRMPluginManager,
    Settings,
)
from plugins.tickets.test_lifecycle import (
    MONDAY,
    create_customer,
    data,
    db_id,
    ok,
    open_ticket,
)
from schema.testkit import Api, FakeClock, running_app

DASHBOARD = """{
  viewer { email }
  customers(first: 5) { totalCount }
  tickets(first: 5) { totalCount }
  auditEvents(first: 5) { totalCount }
}"""
CUSTOMERS_WITH_TICKETS = """{
  customers(first: 5) {
    edges { node { name openTicketCount tickets(first: 5) { totalCount } } }
  }
}"""
TICKET = """query($id: ID!) {
  ticket(id: $id) {
    number customerHidden customer { name }
    assignee { id name active user { email } }
    events { kind actor { name } }
  }
}"""
CREATE_ROLE = """mutation($input: CreateRoleInput!) {
  createRole(input: $input) { role { key } errors { field message code } }
}"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("tickets",))


@pytest.fixture
async def api(settings: Settings, plugin_manager: CRMPluginManager) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=FakeClock(MONDAY)) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)


@pytest.fixture
async def customer(admin: Api) -> str:
    return await create_customer(admin, "Acme Ltd")


def refusals(body: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(error["path"], error["extensions"]["code"]) for error in body.get("errors", [])]


async def test_a_refused_root_field_is_null_and_the_rest_of_the_page_survives(
    admin: Api, customer: str
) -> None:
    await open_ticket(admin, customer)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)  # no audit:read

    body = await support.gql(DASHBOARD)

    assert body["data"] == {
        "viewer": {"email": support.email},
        "customers": {"totalCount": 1},
        "tickets": {"totalCount": 1},
        "auditEvents": None,
    }
    assert refusals(body) == [(["auditEvents"], "FORBIDDEN")]
    assert "audit:read" in body["errors"][0]["message"]


async def test_an_anonymous_caller_gets_one_error_per_root_field(api: Api) -> None:
    body = await api.gql("{ viewer { email } system { version } }")

    assert body["data"]["viewer"] is None
    assert body["data"]["system"]["version"]
    assert refusals(body) == [(["viewer"], "UNAUTHENTICATED")]


async def test_a_refused_nested_field_is_null_with_its_path(admin: Api, customer: str) -> None:
    await open_ticket(admin, customer)
    finance = await admin.as_role(FINANCE)  # customers:read, no tickets:read

    body = await finance.gql(CUSTOMERS_WITH_TICKETS)

    assert body["data"]["customers"]["edges"] == [
        {"node": {"name": "Acme Ltd", "openTicketCount": None, "tickets": None}}
    ]
    assert sorted(refusals(body)) == [
        (["customers", "edges", 0, "node", "openTicketCount"], "FORBIDDEN"),
        (["customers", "edges", 0, "node", "tickets"], "FORBIDDEN"),
    ]
    # With tickets:read, the same fields answer (an empty list means no tickets).
    assert data(await admin.gql(CUSTOMERS_WITH_TICKETS))["customers"]["edges"] == [
        {"node": {"name": "Acme Ltd", "openTicketCount": 1, "tickets": {"totalCount": 1}}}
    ]


async def test_a_ticket_names_its_assignee_and_says_when_its_customer_is_hidden(
    admin: Api, customer: str
) -> None:
    created = await create_customer(admin, "Quiet Co")
    ticket = await open_ticket(admin, created)
    admin_id = (await admin.gql("{ viewer { id } }"))["data"]["viewer"]["id"]
    ticket = await ok(
        admin,
        "assignTicket",
        {"id": ticket["id"], "version": ticket["version"], "assigneeId": admin_id},
    )
    role = await admin.gql(
        CREATE_ROLE,
        {
            "input": {
                "name": "Ticket desk",
                "grants": [{"permission": "tickets:read", "scope": "ALL"}],
            }
        },
    )
    assert data(role)["createRole"]["errors"] == []
    desk = await admin.user("desk@example.com", ["TICKET_DESK"])  # no customers:read

    seen = data(await desk.gql(TICKET, {"id": ticket["id"]}))["ticket"]
    assert seen["customerHidden"] is True
    assert seen["customer"] is None
    # The assignee's name shows; the full user stays outside the desk's users:read scope.
    assert seen["assignee"] == {"id": admin_id, "name": "Admin", "active": True, "user": None}
    assert {event["actor"]["name"] for event in seen["events"]} == {"Admin"}

    full = data(await admin.gql(TICKET, {"id": ticket["id"]}))["ticket"]
    assert full["customerHidden"] is False
    assert full["customer"] == {"name": "Quiet Co"}
    assert full["assignee"]["user"] == {"email": "admin@example.com"}
    assert db_id(full["assignee"]["id"]) == db_id(admin_id)

    unassigned = await open_ticket(admin, created, "Another")
    assert data(await desk.gql(TICKET, {"id": unassigned["id"]}))["ticket"]["assignee"] is None
