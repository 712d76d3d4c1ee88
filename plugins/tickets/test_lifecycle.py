"""Tickets over HTTP: the life of a ticket, its timeline, every refused step, assignment,
routing, who may do what, lookups, filters and figures.

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL, with a :class:`FakeClock` the app reads its time from. The helpers at the top
are shared by the other test modules of the plugin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from strawberry import relay

from core.plugin_api import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
    CRMPluginManager,
    Settings,
)
from plugins.tickets import models
from plugins.tickets.domain import TRANSITIONS
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_tools import make_user

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning."""

TICKET_FIELDS = """
fragment TicketFields on Ticket {
  id number type subject description priority status expectedResolutionAt resolution
  reopenCount createdAt updatedAt resolvedAt closedAt version
  customer { id name } contact { id name } assignee { id user { email } }
  sla { firstResponseDueAt resolutionDueAt firstRespondedAt state }
}
"""
ERRORS = "errors { field message code }"
EVENTS = """
query($id: ID!, $internal: Boolean! = true) {
  ticket(id: $id) {
    events(includeInternal: $internal) {
      kind fromStatus toStatus note internal createdAt actor { user { email } }
    }
  }
}"""
GET = (
    TICKET_FIELDS
    + """
query($id: ID, $number: String) { ticket(id: $id, number: $number) { ...TicketFields } }"""
)

# Each step mutation and the status it moves a ticket to.
STEPS = {
    "acknowledgeTicket": "ACKNOWLEDGED",
    "startTicketWork": "IN_PROGRESS",
    "waitOnCustomer": "WAITING",
    "resolveTicket": "RESOLVED",
    "reopenTicket": "IN_PROGRESS",
    "closeTicket": "CLOSED",
}


# --- helpers shared by the plugin's test modules ---------------------------------------------


def gid(type_name: str, value: int | None) -> str:
    assert value is not None
    return relay.to_base64(type_name, value)


def db_id(global_id: str) -> int:
    return int(relay.from_base64(global_id)[1])


def when(value: str | None) -> dt.datetime | None:
    """A DateTime of the API as an aware datetime (``None`` stays ``None``)."""
    return dt.datetime.fromisoformat(value) if value is not None else None


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def error_code(body: dict[str, Any]) -> str:
    """The ``extensions.code`` of a request that failed as a whole."""
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def mutation(name: str) -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return (
        TICKET_FIELDS
        + f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ ticket {{ ...TicketFields }} {ERRORS} }}
}}"""
    )


async def call(api: Api, name: str, input: dict[str, Any]) -> dict[str, Any]:
    """A ticket mutation's payload (``ticket`` and ``errors``)."""
    payload: dict[str, Any] = data(await api.gql(mutation(name), {"input": input}))[name]
    return payload


async def ok(api: Api, name: str, input: dict[str, Any]) -> dict[str, Any]:
    """The ticket a mutation returns; it must succeed."""
    payload = await call(api, name, input)
    assert payload["errors"] == [], payload
    ticket: dict[str, Any] = payload["ticket"]
    return ticket


async def refused(api: Api, name: str, input: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of a mutation that must be refused: no ticket returned, except after a
    stale version's CONFLICT, which returns the ticket as it now is."""
    payload = await call(api, name, input)
    assert payload["errors"], payload
    stale = any(e["code"] == "CONFLICT" and e["field"] == "version" for e in payload["errors"])
    assert (payload["ticket"] is not None) is stale, payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


async def not_found(api: Api, name: str, input: dict[str, Any]) -> str:
    """The ``extensions.argument`` of a mutation refused at the top level with NOT_FOUND (a
    record that does not exist or is out of the caller's reach)."""
    body = await api.gql(mutation(name), {"input": input})
    assert body["data"] == {name: None}, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND", body
    argument: str = error["extensions"]["argument"]
    assert error["message"].startswith(f"{argument}: "), body
    return argument


async def step(api: Api, name: str, ticket: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Run a step mutation on ``ticket`` at its current version."""
    body: dict[str, Any] = {"id": ticket["id"], "version": ticket["version"], **extra}
    if name == "resolveTicket":
        body.setdefault("resolution", "Fixed it")
    return await ok(api, name, body)


async def create_customer(api: Api, name: str, owner_id: int | None = None) -> str:
    """A customer's global id (created through the API, owned by ``owner_id`` if given)."""
    input: dict[str, Any] = {"name": name}
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    body = await api.gql(
        f"""mutation($input: CreateCustomerInput!) {{
          createCustomer(input: $input) {{ customer {{ id }} {ERRORS} }}
        }}""",
        {"input": input},
    )
    payload = data(body)["createCustomer"]
    assert payload["errors"] == [], payload
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def open_ticket(
    api: Api,
    customer_id: str,
    subject: str = "Printer is on fire",
    *,
    type: str = "FAULT",
    priority: str = "MEDIUM",
    **extra: Any,
) -> dict[str, Any]:
    return await ok(
        api,
        "openTicket",
        {"customerId": customer_id, "type": type, "subject": subject, "priority": priority} | extra,
    )


async def get_ticket(api: Api, ticket_id: str) -> dict[str, Any]:
    ticket: dict[str, Any] = data(await api.gql(GET, {"id": ticket_id}))["ticket"]
    return ticket


async def events(api: Api, ticket_id: str, *, internal: bool = True) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data(
        await api.gql(EVENTS, {"id": ticket_id, "internal": internal})
    )["ticket"]["events"]
    return found


async def move_to(api: Api, ticket: dict[str, Any], status: str) -> dict[str, Any]:
    """Walk a NEW ticket along the happy path until it reaches ``status``."""
    path = {
        "NEW": [],
        "ACKNOWLEDGED": ["acknowledgeTicket"],
        "IN_PROGRESS": ["acknowledgeTicket", "startTicketWork"],
        "WAITING": ["acknowledgeTicket", "startTicketWork", "waitOnCustomer"],
        "RESOLVED": ["acknowledgeTicket", "startTicketWork", "resolveTicket"],
        "CLOSED": ["acknowledgeTicket", "startTicketWork", "resolveTicket", "closeTicket"],
    }[status]
    for name in path:
        ticket = await step(api, name, ticket)
    assert ticket["status"] == status
    return ticket


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
async def api(
    settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=clock) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)


@pytest.fixture
async def customer(admin: Api) -> str:
    return await create_customer(admin, "Acme Ltd")


# --- the life of a ticket --------------------------------------------------------------------


async def test_open_ticket_returns_a_new_numbered_ticket(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    contact = data(
        await admin.gql(
            f"""mutation($c: ID!) {{
              createContact(input: {{customerId: $c, name: "Dana Reyes"}}) {{
                contact {{ id }} {ERRORS}
              }}
            }}""",
            {"c": customer},
        )
    )["createContact"]["contact"]["id"]
    expected = MONDAY + dt.timedelta(days=2)

    ticket = await open_ticket(
        admin,
        customer,
        "  Printer is on fire  ",
        type="COMPLAINT",
        priority="HIGH",
        description="Smoke everywhere",
        contactId=contact,
        expectedResolutionAt=expected.isoformat(),
    )
    second = await open_ticket(admin, customer, "Another one")

    assert ticket["number"] == "T000001"
    assert second["number"] == "T000002"
    assert ticket["subject"] == "Printer is on fire"
    assert (ticket["type"], ticket["priority"], ticket["status"]) == ("COMPLAINT", "HIGH", "NEW")
    assert ticket["description"] == "Smoke everywhere"
    assert ticket["customer"] == {"id": customer, "name": "Acme Ltd"}
    assert ticket["contact"] == {"id": contact, "name": "Dana Reyes"}
    assert ticket["assignee"] is None
    assert when(ticket["expectedResolutionAt"]) == expected
    assert when(ticket["createdAt"]) == MONDAY
    assert ticket["reopenCount"] == 0
    assert ticket["resolution"] is None
    assert ticket["version"] == 1
    assert ticket["sla"]["state"] == "ON_TRACK"
    assert ticket["sla"]["firstRespondedAt"] is None
    assert await events(admin, ticket["id"]) == [
        {
            "kind": "OPENED",
            "fromStatus": None,
            "toStatus": "NEW",
            "note": None,
            "internal": True,
            "createdAt": ticket["createdAt"],
            "actor": {"user": {"email": "admin@example.com"}},
        }
    ]


async def test_whole_life_open_to_closed_with_timeline(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    agent = await admin.user(
        "agent@example.com", [SUPPORT_REPRESENTATIVE], team="Support", lasting=True
    )
    ticket = await open_ticket(admin, customer)
    ticket = await ok(
        admin,
        "assignTicket",
        {
            "id": ticket["id"],
            "version": ticket["version"],
            "assigneeId": gid("User", agent.user_id),
        },
    )
    assert ticket["assignee"]["user"]["email"] == "agent@example.com"

    clock.advance(minutes=10)
    ticket = await step(agent, "acknowledgeTicket", ticket, note="On it")
    assert ticket["status"] == "ACKNOWLEDGED"
    assert when(ticket["sla"]["firstRespondedAt"]) == MONDAY + dt.timedelta(minutes=10)

    clock.advance(minutes=10)
    ticket = await step(agent, "startTicketWork", ticket)
    clock.advance(minutes=10)
    ticket = await step(agent, "waitOnCustomer", ticket, note="Which model is it?", internal=False)
    assert ticket["status"] == "WAITING"
    clock.advance(hours=1)
    await ok(agent, "addTicketNote", {"id": ticket["id"], "note": "Customer called back"})
    ticket = await ok(
        agent,
        "addTicketNote",
        {"id": ticket["id"], "note": "Thanks, we have what we need", "internal": False},
    )
    ticket = await step(agent, "startTicketWork", ticket)
    assert ticket["status"] == "IN_PROGRESS"

    clock.advance(hours=2)
    ticket = await step(agent, "resolveTicket", ticket, resolution="  Replaced the fuser  ")
    assert ticket["status"] == "RESOLVED"
    assert ticket["resolution"] == "Replaced the fuser"
    resolved_at = MONDAY + dt.timedelta(hours=3, minutes=30)
    assert when(ticket["resolvedAt"]) == resolved_at
    assert ticket["closedAt"] is None

    clock.advance(hours=1)
    ticket = await ok(
        agent,
        "confirmTicketResolution",
        {"id": ticket["id"], "satisfied": True, "comment": "Works again, thanks"},
    )
    closed_at = MONDAY + dt.timedelta(hours=4, minutes=30)
    assert ticket["status"] == "CLOSED"
    assert when(ticket["closedAt"]) == closed_at
    assert when(ticket["resolvedAt"]) == resolved_at
    assert ticket["reopenCount"] == 0
    assert ticket["sla"]["state"] == "MET"

    def at(minutes: int) -> str:
        return (MONDAY + dt.timedelta(minutes=minutes)).isoformat()

    admin_email = {"user": {"email": "admin@example.com"}}
    agent_email = {"user": {"email": "agent@example.com"}}
    timeline = await events(admin, ticket["id"])
    for event in timeline:
        event["createdAt"] = when(event["createdAt"]).isoformat()  # type: ignore[union-attr]
    assert [
        (e["kind"], e["fromStatus"], e["toStatus"], e["note"], e["internal"], e["actor"])
        for e in timeline
    ] == [
        ("OPENED", None, "NEW", None, True, admin_email),
        ("ASSIGNED", None, None, None, True, admin_email),
        ("STATUS", "NEW", "ACKNOWLEDGED", "On it", True, agent_email),
        ("STATUS", "ACKNOWLEDGED", "IN_PROGRESS", None, True, agent_email),
        ("STATUS", "IN_PROGRESS", "WAITING", "Which model is it?", False, agent_email),
        ("NOTE", None, None, "Customer called back", True, agent_email),
        ("NOTE", None, None, "Thanks, we have what we need", False, agent_email),
        ("STATUS", "WAITING", "IN_PROGRESS", None, True, agent_email),
        ("STATUS", "IN_PROGRESS", "RESOLVED", None, True, agent_email),
        ("CONFIRMATION", None, None, "Works again, thanks", False, agent_email),
        ("STATUS", "RESOLVED", "CLOSED", "Works again, thanks", False, agent_email),
    ]
    assert [e["createdAt"] for e in timeline] == [
        at(0),
        at(0),
        at(10),
        at(20),
        at(30),
        at(90),
        at(90),
        at(90),
        at(210),
        at(270),
        at(270),
    ]

    # What the customer may see: only the events marked not internal.
    public = await events(admin, ticket["id"], internal=False)
    assert [(e["kind"], e["note"]) for e in public] == [
        ("STATUS", "Which model is it?"),
        ("NOTE", "Thanks, we have what we need"),
        ("CONFIRMATION", "Works again, thanks"),
        ("STATUS", "Works again, thanks"),
    ]
    assert all(e["internal"] is False for e in public)


async def test_not_satisfied_reopens_then_reopen_and_close(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    ticket = await move_to(admin, await open_ticket(admin, customer), "RESOLVED")

    clock.advance(hours=1)
    ticket = await ok(
        admin,
        "confirmTicketResolution",
        {"id": ticket["id"], "satisfied": False, "comment": "Still broken"},
    )
    assert ticket["status"] == "IN_PROGRESS"
    assert ticket["reopenCount"] == 1
    assert ticket["resolvedAt"] is None
    assert ticket["closedAt"] is None
    timeline = await events(admin, ticket["id"], internal=False)
    assert [(e["kind"], e["fromStatus"], e["toStatus"], e["note"]) for e in timeline] == [
        ("CONFIRMATION", None, None, "Still broken"),
        ("STATUS", "RESOLVED", "IN_PROGRESS", "Still broken"),
    ]

    ticket = await step(admin, "resolveTicket", ticket, resolution="Really fixed")
    assert ticket["resolution"] == "Really fixed"
    ticket = await step(admin, "reopenTicket", ticket, note="Broke again overnight")
    assert (ticket["status"], ticket["reopenCount"]) == ("IN_PROGRESS", 2)

    clock.advance(hours=1)
    ticket = await step(admin, "resolveTicket", ticket)
    ticket = await step(admin, "closeTicket", ticket, note="No answer; closing")
    assert ticket["status"] == "CLOSED"
    assert when(ticket["closedAt"]) == MONDAY + dt.timedelta(hours=2)
    assert ticket["reopenCount"] == 2
    last = (await events(admin, ticket["id"]))[-1]
    assert (last["kind"], last["fromStatus"], last["toStatus"], last["note"]) == (
        "STATUS",
        "RESOLVED",
        "CLOSED",
        "No answer; closing",
    )


async def test_customer_and_user_fields_list_tickets(admin: Api, customer: str) -> None:
    agent = await admin.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    first = await open_ticket(admin, customer, "First")
    second = await open_ticket(admin, customer, "Second")
    third = await move_to(admin, await open_ticket(admin, customer, "Third"), "CLOSED")
    for ticket in (first, second):
        await ok(
            admin,
            "assignTicket",
            {
                "id": ticket["id"],
                "version": ticket["version"],
                "assigneeId": gid("User", agent.user_id),
            },
        )

    body = data(
        await admin.gql(
            """query($c: ID!, $u: ID!) {
              customer(id: $c) {
                openTicketCount
                tickets(first: 2) {
                  totalCount edges { node { number } } pageInfo { hasNextPage endCursor }
                }
              }
              node(id: $u) {
                ... on User { assignedTickets(first: 1) { totalCount edges { node { subject } } } }
              }
            }""",
            {"c": customer, "u": gid("User", agent.user_id)},
        )
    )
    assert body["customer"]["openTicketCount"] == 2
    tickets = body["customer"]["tickets"]
    assert tickets["totalCount"] == 3
    # Newest first; all were opened at the same moment, so the later id comes first.
    assert [e["node"]["number"] for e in tickets["edges"]] == [third["number"], second["number"]]
    assert tickets["pageInfo"]["hasNextPage"] is True
    assert body["node"]["assignedTickets"] == {
        "totalCount": 2,  # of all pages, not of this page
        "edges": [{"node": {"subject": "Second"}}],
    }
    rest = data(
        await admin.gql(
            """query($c: ID!, $after: String) {
              customer(id: $c) { tickets(first: 2, after: $after) { edges { node { number } } } }
            }""",
            {"c": customer, "after": tickets["pageInfo"]["endCursor"]},
        )
    )["customer"]["tickets"]["edges"]
    assert rest == [{"node": {"number": first["number"]}}]


# --- refusals ----------------------------------------------------------------------------------


async def snapshot(api: Api, ticket_id: str) -> dict[str, Any]:
    """Everything a refused change must leave as it was: the ticket and its timeline."""
    return {
        "ticket": await get_ticket(api, ticket_id),
        "events": await events(api, ticket_id),
    }


CANONICAL = {
    "ACKNOWLEDGED": "acknowledgeTicket",
    "IN_PROGRESS": "startTicketWork",
    "WAITING": "waitOnCustomer",
    "RESOLVED": "resolveTicket",
    "CLOSED": "closeTicket",
}


async def test_every_refused_transition_changes_nothing(admin: Api, customer: str) -> None:
    tickets = {
        status: await move_to(admin, await open_ticket(admin, customer, status), status)
        for status in TRANSITIONS
    }
    checked = 0
    for current, ticket in tickets.items():
        before = await snapshot(admin, ticket["id"])
        for target, name in CANONICAL.items():
            if target in TRANSITIONS[current]:
                continue
            errors = await refused(
                admin,
                name,
                {
                    "id": ticket["id"],
                    "version": ticket["version"],
                    "note": "should not stick",
                    **({"resolution": "nope"} if name == "resolveTicket" else {}),
                },
            )
            assert len(errors) == 1, errors
            error = errors[0]
            assert error["code"] == "INVALID_TRANSITION", (current, target, error)
            assert error["field"] == "id"
            assert current in error["message"], error
            assert target in error["message"], error
            assert error["message"] == f"a ticket cannot go from {current} to {target}"
            checked += 1
        if current != "RESOLVED":
            errors = await refused(
                admin, "confirmTicketResolution", {"id": ticket["id"], "satisfied": True}
            )
            assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID_TRANSITION")]
            assert "RESOLVED" in errors[0]["message"]
            assert current in errors[0]["message"]
            checked += 1
        assert await snapshot(admin, ticket["id"]) == before, current
    # 6 statuses x 5 targets, less the 8 allowed moves; plus 5 refused confirmations.
    assert checked == 6 * 5 - 8 + 5


@pytest.mark.parametrize("status", ["NEW", "ACKNOWLEDGED", "WAITING", "CLOSED"])
async def test_reopen_is_refused_unless_resolved(admin: Api, customer: str, status: str) -> None:
    ticket = await move_to(admin, await open_ticket(admin, customer), status)
    before = await snapshot(admin, ticket["id"])

    errors = await refused(
        admin, "reopenTicket", {"id": ticket["id"], "version": ticket["version"]}
    )

    assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID_TRANSITION")]
    assert status in errors[0]["message"]
    assert await snapshot(admin, ticket["id"]) == before


async def test_stale_version_is_a_conflict(admin: Api, customer: str) -> None:
    agent = await admin.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    ticket = await open_ticket(admin, customer)
    current = await step(admin, "acknowledgeTicket", ticket)
    assert current["version"] == ticket["version"] + 1
    before = await snapshot(admin, ticket["id"])

    stale = {"id": ticket["id"], "version": ticket["version"]}
    for name, extra in [
        ("startTicketWork", {}),
        ("resolveTicket", {"resolution": "x"}),
        ("assignTicket", {"assigneeId": gid("User", agent.user_id)}),
        ("transferTicket", {"assigneeId": gid("User", agent.user_id), "reason": "Holiday"}),
        ("escalateTicket", {"priority": "URGENT", "reason": "Angry"}),
    ]:
        payload = await call(admin, name, stale | extra)
        errors = payload["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("version", "CONFLICT")], name
        assert f"now at version {current['version']}" in errors[0]["message"]
        # The payload holds the ticket as it now is: the client merges and retries from it.
        assert payload["ticket"] == current, name
    assert await snapshot(admin, ticket["id"]) == before
    retried = await ok(
        admin, "startTicketWork", {"id": ticket["id"], "version": current["version"]}
    )
    assert retried["status"] == "IN_PROGRESS"


async def test_validation_errors_name_their_fields(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    other = await create_customer(admin, "Other Co")
    contact = data(
        await admin.gql(
            f"""mutation($c: ID!) {{
              createContact(input: {{customerId: $c, name: "Not Theirs"}}) {{
                contact {{ id }} {ERRORS}
              }}
            }}""",
            {"c": other},
        )
    )["createContact"]["contact"]["id"]

    errors = await refused(
        admin,
        "openTicket",
        {
            "customerId": customer,
            "contactId": contact,
            "type": "FAULT",
            "subject": "x" * 201,
            "description": "y" * 20_001,
            "expectedResolutionAt": MONDAY.isoformat(),
        },
    )
    assert {(e["field"], e["code"]) for e in errors} == {
        ("contactId", "INVALID"),
        ("subject", "TOO_LONG"),
        ("description", "TOO_LONG"),
        ("expectedResolutionAt", "OUT_OF_RANGE"),
    }
    for input, expected in [
        ({"customerId": customer, "subject": "   "}, [("subject", "REQUIRED")]),
        ({"customerId": gid("User", admin.user_id), "subject": "x"}, [("customerId", "INVALID")]),
    ]:
        errors = await refused(admin, "openTicket", {"type": "FAULT"} | input)
        assert [(e["field"], e["code"]) for e in errors] == expected, input
    nowhere = {"type": "FAULT", "customerId": gid("Customer", 9999), "subject": "x"}
    assert await not_found(admin, "openTicket", nowhere) == "input.customerId"

    ticket = await move_to(admin, await open_ticket(admin, customer), "IN_PROGRESS")
    steps: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
        ("resolveTicket", {"resolution": "  "}, ("resolution", "REQUIRED")),
        ("resolveTicket", {"resolution": "ok", "note": "n" * 20_001}, ("note", "TOO_LONG")),
        ("escalateTicket", {"priority": "HIGH", "reason": ""}, ("reason", "REQUIRED")),
        ("escalateTicket", {"priority": "LOW", "reason": "because"}, ("priority", "INVALID")),
        ("assignTicket", {"assigneeId": gid("Ticket", 1)}, ("assigneeId", "INVALID")),
    ]
    for name, step_input, field_code in steps:
        errors = await refused(
            admin, name, {"id": ticket["id"], "version": ticket["version"]} | step_input
        )
        assert [(e["field"], e["code"]) for e in errors] == [field_code], (name, errors)
    transfer = {"assigneeId": gid("User", 9999), "reason": "r"}
    transfer |= {"id": ticket["id"], "version": ticket["version"]}
    assert await not_found(admin, "transferTicket", transfer) == "input.assigneeId"
    errors = await refused(admin, "addTicketNote", {"id": ticket["id"], "note": " "})
    assert [(e["field"], e["code"]) for e in errors] == [("note", "REQUIRED")]
    missing = {"id": gid("Ticket", 9999), "version": 1}
    assert await not_found(admin, "acknowledgeTicket", missing) == "input.id"
    errors = await refused(admin, "acknowledgeTicket", {"id": customer, "version": 1})
    assert [(e["field"], e["code"]) for e in errors] == [("id", "INVALID")]
    assert await get_ticket(admin, ticket["id"]) == ticket


async def test_a_time_without_offset_is_refused_as_input(admin: Api, customer: str) -> None:
    naive = (MONDAY + dt.timedelta(days=1)).replace(tzinfo=None).isoformat()

    body = await admin.gql(
        mutation("openTicket"),
        {
            "input": {
                "customerId": customer,
                "type": "FAULT",
                "subject": "x",
                "expectedResolutionAt": naive,
            }
        },
    )
    listed = await admin.gql(LIST, {"filter": {"opened": {"from": naive}}})

    for response in (body, listed):
        codes = [e.get("extensions", {}).get("code") for e in response.get("errors", [])]
        assert "INTERNAL_SERVER_ERROR" not in codes, response
    # Refused while reading the variables, before any resolver runs, naming the field.
    for response in (body, listed):
        assert "data" not in response or response["data"] is None, response
        assert "no UTC offset" in response["errors"][0]["message"], response
    assert "expectedResolutionAt" in body["errors"][0]["message"]
    assert "from" in listed["errors"][0]["message"]


async def test_archived_customer_takes_no_new_tickets(admin: Api) -> None:
    customer = await create_customer(admin, "Gone Inc")
    body = await admin.gql(
        f"""mutation($id: ID!) {{
          archiveCustomer(input: {{id: $id, version: 1}}) {{ customer {{ archivedAt }} {ERRORS} }}
        }}""",
        {"id": customer},
    )
    assert data(body)["archiveCustomer"]["errors"] == []

    assert (
        await not_found(
            admin, "openTicket", {"customerId": customer, "type": "FAULT", "subject": "Hello?"}
        )
        == "input.customerId"
    )


# --- transfer, escalation, assignment ----------------------------------------------------------


async def test_transfer_needs_a_reason_and_shows_on_the_timeline(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    first = await admin.user("first@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    second = await admin.user("second@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    ticket = await open_ticket(admin, customer)
    ticket = await ok(
        admin,
        "assignTicket",
        {
            "id": ticket["id"],
            "version": ticket["version"],
            "assigneeId": gid("User", first.user_id),
        },
    )
    base = {"id": ticket["id"], "version": ticket["version"]}

    for input, expected in [
        ({"assigneeId": gid("User", second.user_id), "reason": "  "}, [("reason", "REQUIRED")]),
        (
            {"assigneeId": gid("User", first.user_id), "reason": "Same person"},
            [("assigneeId", "INVALID")],
        ),
    ]:
        errors = await refused(admin, "transferTicket", base | input)
        assert [(e["field"], e["code"]) for e in errors] == expected

    clock.advance(minutes=5)
    moved = await ok(
        admin,
        "transferTicket",
        base | {"assigneeId": gid("User", second.user_id), "reason": "First is on holiday"},
    )

    assert moved["assignee"]["user"]["email"] == "second@example.com"
    assert moved["version"] == ticket["version"] + 1
    last = (await events(admin, ticket["id"]))[-1]
    assert last == {
        "kind": "TRANSFERRED",
        "fromStatus": None,
        "toStatus": None,
        "note": "First is on holiday",
        "internal": True,
        "createdAt": last["createdAt"],
        "actor": {"user": {"email": "admin@example.com"}},
    }
    assert when(last["createdAt"]) == MONDAY + dt.timedelta(minutes=5)

    closed = await move_to(admin, moved, "CLOSED")
    errors = await refused(
        admin,
        "transferTicket",
        {
            "id": closed["id"],
            "version": closed["version"],
            "assigneeId": gid("User", first.user_id),
            "reason": "r",
        },
    )
    assert [(e["field"], e["code"]) for e in errors] == [("id", "BUSINESS_RULE")]
    errors = await refused(
        admin,
        "assignTicket",
        {"id": closed["id"], "version": closed["version"], "assigneeId": None},
    )
    assert [(e["field"], e["code"]) for e in errors] == [("id", "BUSINESS_RULE")]


async def test_escalation_raises_priority_and_the_sla_follows(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    ticket = await open_ticket(admin, customer, priority="MEDIUM")
    assert when(ticket["sla"]["firstResponseDueAt"]) == MONDAY + dt.timedelta(hours=2)
    assert when(ticket["sla"]["resolutionDueAt"]) == MONDAY + dt.timedelta(hours=72)
    base = {"id": ticket["id"], "version": ticket["version"], "reason": "VIP"}

    for priority in ("LOW", "MEDIUM"):
        errors = await refused(admin, "escalateTicket", base | {"priority": priority})
        assert errors == [
            {"field": "priority", "message": "must be higher than MEDIUM", "code": "INVALID"}
        ]

    clock.advance(minutes=25)
    ticket = await ok(admin, "escalateTicket", base | {"priority": "URGENT"})

    assert ticket["priority"] == "URGENT"
    # The targets are the new priority's, counted from when the ticket was opened.
    assert when(ticket["sla"]["firstResponseDueAt"]) == MONDAY + dt.timedelta(minutes=30)
    assert when(ticket["sla"]["resolutionDueAt"]) == MONDAY + dt.timedelta(hours=4)
    assert ticket["sla"]["state"] == "AT_RISK"  # 5 of 30 minutes left
    last = (await events(admin, ticket["id"]))[-1]
    assert (last["kind"], last["note"]) == ("ESCALATED", "VIP")
    errors = await refused(
        admin,
        "escalateTicket",
        {"id": ticket["id"], "version": ticket["version"], "priority": "URGENT", "reason": "More"},
    )
    assert [(e["field"], e["code"]) for e in errors] == [("priority", "INVALID")]
    closed = await move_to(admin, await open_ticket(admin, customer, priority="LOW"), "CLOSED")
    errors = await refused(
        admin,
        "escalateTicket",
        {"id": closed["id"], "version": closed["version"], "priority": "HIGH", "reason": "Late"},
    )
    assert [(e["field"], e["code"]) for e in errors] == [("id", "BUSINESS_RULE")]


async def test_assign_scope_team_reaches_only_the_team(admin: Api, customer: str) -> None:
    lead = await admin.user(
        "lead@example.com", [SUPPORT_REPRESENTATIVE], team="Support", lasting=True
    )
    mate = await make_user(
        admin.db, admin.settings, "mate@example.com", [SUPPORT_REPRESENTATIVE], team="Support"
    )
    # Off the support desk (no tickets:handle) and outside the team.
    stranger = await make_user(
        admin.db, admin.settings, "stranger@example.com", [SALES_REPRESENTATIVE], team="Field"
    )
    ticket = await open_ticket(admin, customer)
    ticket = await ok(
        admin,
        "assignTicket",
        {"id": ticket["id"], "version": ticket["version"], "assigneeId": gid("User", lead.user_id)},
    )
    unassigned = await open_ticket(admin, customer, "Nobody's")
    elsewhere = await ok(
        admin,
        "assignTicket",
        {"id": unassigned["id"], "version": 1, "assigneeId": gid("User", stranger)},
    )

    assert (
        await not_found(
            lead,
            "assignTicket",
            {"id": ticket["id"], "version": ticket["version"], "assigneeId": gid("User", stranger)},
        )
        == "input.assigneeId"
    )

    handed = await ok(
        lead,
        "assignTicket",
        {"id": ticket["id"], "version": ticket["version"], "assigneeId": gid("User", mate)},
    )
    assert handed["assignee"]["user"]["email"] == "mate@example.com"
    # Still the team's ticket (a teammate has it): the lead may take it back or unassign it.
    back = await ok(
        lead, "assignTicket", {"id": ticket["id"], "version": handed["version"], "assigneeId": None}
    )
    assert back["assignee"] is None
    # A ticket outside the team's reach (someone else works it, on a customer owned by
    # someone else; an unassigned one would be in the queue, see test_support_desk).
    assert (
        await not_found(
            lead,
            "assignTicket",
            {
                "id": elsewhere["id"],
                "version": elsewhere["version"],
                "assigneeId": gid("User", lead.user_id),
            },
        )
        == "input.id"
    )
    # Admin (ALL) assigned it to someone outside every team and off the desk.
    assert elsewhere["assignee"]["user"]["email"] == "stranger@example.com"


# --- routing -------------------------------------------------------------------------------------


SET_RULE = f"""
mutation($input: SetRoutingRuleInput!) {{
  setRoutingRule(input: $input) {{ rule {{ type strategy }} {ERRORS} }}
}}"""


async def set_rule(api: Api, input: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = data(await api.gql(SET_RULE, {"input": input}))["setRoutingRule"]
    return payload


async def assignees(api: Api, customer: str, type: str, count: int) -> list[str | None]:
    """Open ``count`` tickets of ``type``; the emails routing assigned them to."""
    found = []
    for n in range(count):
        ticket = await open_ticket(api, customer, f"{type} {n}", type=type)
        found.append(ticket["assignee"]["user"]["email"] if ticket["assignee"] else None)
    return found


async def test_round_robin_cycles_through_the_users(admin: Api, customer: str) -> None:
    ids = [
        await make_user(admin.db, admin.settings, f"{name}@example.com", [SUPPORT_REPRESENTATIVE])
        for name in ("ann", "bob", "cid")
    ]
    payload = await set_rule(
        admin,
        {"type": "FAULT", "strategy": "ROUND_ROBIN", "userIds": [gid("User", i) for i in ids]},
    )
    assert payload == {"rule": {"type": "FAULT", "strategy": "ROUND_ROBIN"}, "errors": []}

    assert await assignees(admin, customer, "FAULT", 5) == [
        "ann@example.com",
        "bob@example.com",
        "cid@example.com",
        "ann@example.com",
        "bob@example.com",
    ]
    # Other types have no rule: their tickets stay unassigned.
    assert await assignees(admin, customer, "CONSULTATION", 1) == [None]
    # Routing is recorded on the timeline's OPENED event.
    async with admin.db.read() as session:
        opened = (
            await session.scalars(
                select(models.TicketEvent)
                .where(models.TicketEvent.kind == "OPENED")
                .order_by(models.TicketEvent.id)
            )
        ).all()
    assert opened[0].data == {"assigneeId": gid("User", ids[0])}
    assert opened[-1].data == {}

    # Removing the rule stops routing.
    assert await set_rule(admin, {"type": "FAULT", "strategy": None}) == {
        "rule": None,
        "errors": [],
    }
    assert await assignees(admin, customer, "FAULT", 1) == [None]


async def test_least_open_picks_whoever_has_fewest_open_tickets(admin: Api, customer: str) -> None:
    ids = [
        await make_user(admin.db, admin.settings, f"{name}@example.com", [SUPPORT_REPRESENTATIVE])
        for name in ("ann", "bob", "cid")
    ]
    users = [gid("User", i) for i in ids]

    async def give(user: str, count: int, status: str = "NEW") -> list[dict[str, Any]]:
        given = []
        for _ in range(count):
            ticket = await open_ticket(admin, customer, "Manual", type="OTHER")
            ticket = await ok(
                admin,
                "assignTicket",
                {"id": ticket["id"], "version": ticket["version"], "assigneeId": user},
            )
            given.append(await move_to(admin, ticket, status))
        return given

    ann_open = await give(users[0], 2)
    await give(users[1], 1)
    await give(users[2], 3, "CLOSED")  # closed tickets do not count
    await give(users[2], 1, "RESOLVED")  # neither do resolved ones
    await give(users[1], 1, "WAITING")  # waiting ones do: bob has 2 open
    payload = await set_rule(
        admin, {"type": "COMPLAINT", "strategy": "LEAST_OPEN", "userIds": users}
    )
    assert payload["errors"] == []

    # ann 2, bob 2, cid 0 -> cid, cid; then all have 2 -> the lowest id, ann.
    assert await assignees(admin, customer, "COMPLAINT", 3) == [
        "cid@example.com",
        "cid@example.com",
        "ann@example.com",
    ]
    # ann resolves both of her first tickets: she has 1 open, fewest again.
    for ticket in ann_open:
        await move_to(admin, ticket, "RESOLVED")
    assert await assignees(admin, customer, "COMPLAINT", 1) == ["ann@example.com"]


async def test_team_pool_routes_to_active_members_only(admin: Api, customer: str) -> None:
    for name, active in (("dee", True), ("eve", False), ("fay", True)):
        await make_user(
            admin.db,
            admin.settings,
            f"{name}@example.com",
            [SUPPORT_REPRESENTATIVE],
            team="Desk",
            active=active,
        )
    await make_user(admin.db, admin.settings, "out@example.com", [SUPPORT_REPRESENTATIVE])
    teams = data(await admin.gql("{ teams { edges { node { id name } } } }"))["teams"]["edges"]
    desk = next(edge["node"]["id"] for edge in teams if edge["node"]["name"] == "Desk")

    payload = await set_rule(
        admin, {"type": "SUGGESTION", "strategy": "ROUND_ROBIN", "teamId": desk}
    )
    assert payload["errors"] == []

    assert await assignees(admin, customer, "SUGGESTION", 3) == [
        "dee@example.com",
        "fay@example.com",
        "dee@example.com",
    ]
    payload = await set_rule(
        admin, {"type": "SUGGESTION", "strategy": "LEAST_OPEN", "teamId": desk}
    )
    assert await assignees(admin, customer, "SUGGESTION", 1) == ["fay@example.com"]


async def test_routing_rule_refusals(admin: Api) -> None:
    support = await admin.user(
        "support@example.com", [SUPPORT_REPRESENTATIVE], team="Desk", lasting=True
    )
    user = gid("User", support.user_id)
    teams = data(await admin.gql("{ teams { edges { node { id } } } }"))["teams"]["edges"]
    team = teams[0]["node"]["id"]

    for input, expected in [
        ({}, [("teamId", "INVALID")]),
        ({"teamId": team, "userIds": [user]}, [("teamId", "INVALID")]),
        ({"userIds": [gid("Team", 1)]}, [("userIds.0", "INVALID")]),
    ]:
        payload = await set_rule(admin, {"type": "FAULT", "strategy": "ROUND_ROBIN"} | input)
        assert payload["rule"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, input
    unknown: list[tuple[dict[str, Any], str]] = [
        ({"userIds": [user, gid("User", 9999)]}, "input.userIds.1"),
        ({"teamId": gid("Team", 9999)}, "input.teamId"),
    ]
    for given, argument in unknown:
        rule = {"type": "FAULT", "strategy": "ROUND_ROBIN"} | given
        missing = await admin.gql(SET_RULE, {"input": rule})
        assert missing["data"] == {"setRoutingRule": None}, missing
        assert missing["errors"][0]["extensions"] == {"code": "NOT_FOUND", "argument": argument}
    body = await support.gql(
        SET_RULE, {"input": {"type": "FAULT", "strategy": "ROUND_ROBIN", "userIds": [user]}}
    )
    assert error_code(body) == "FORBIDDEN"
    async with admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.RoutingRule)) == 0


# --- who may do what ---------------------------------------------------------------------------


async def test_permissions_of_the_built_in_roles(admin: Api) -> None:
    support = await admin.user(
        "support@example.com", [SUPPORT_REPRESENTATIVE], team="Support", lasting=True
    )
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="North", lasting=True)
    other_rep = await make_user(
        admin.db, admin.settings, "other@example.com", [SALES_REPRESENTATIVE], team="South"
    )
    manager = await admin.user(
        "manager@example.com", [CUSTOMER_MANAGER], team="North", lasting=True
    )
    finance = await admin.user("finance@example.com", [FINANCE], lasting=True)
    sysadmin = await admin.user("sys@example.com", [SYSTEM_ADMINISTRATOR], lasting=True)
    mine = await create_customer(admin, "Rep's Customer", rep.user_id)
    theirs = await create_customer(admin, "Other's Customer", other_rep)

    on_mine = await open_ticket(admin, mine, "On mine")
    assigned = await open_ticket(admin, theirs, "Assigned to support")
    assigned = await ok(
        admin,
        "assignTicket",
        {"id": assigned["id"], "version": 1, "assigneeId": gid("User", support.user_id)},
    )
    elsewhere = await open_ticket(admin, theirs, "Elsewhere")
    everything = {"On mine", "Assigned to support", "Elsewhere"}

    async def visible(api: Api) -> set[str]:
        body = data(await api.gql("{ tickets { edges { node { subject } } } }"))
        return {edge["node"]["subject"] for edge in body["tickets"]["edges"]}

    # Support reads everything, works the tickets assigned to them, opens tickets for anyone.
    assert await visible(support) == everything
    worked = await step(support, "acknowledgeTicket", assigned)
    assert worked["status"] == "ACKNOWLEDGED"
    for ticket in (on_mine, elsewhere):
        assert (
            await not_found(support, "acknowledgeTicket", {"id": ticket["id"], "version": 1})
            == "input.id"
        )
        assert (
            await not_found(support, "addTicketNote", {"id": ticket["id"], "note": "hi"})
            == "input.id"
        )
    own_new = await open_ticket(support, theirs, "Opened by support")
    assert own_new["number"] == "T000004"

    # A sales representative sees and works the tickets of the customers they own only.
    assert await visible(rep) == {"On mine"}
    assert data(await rep.gql(GET, {"number": assigned["number"]}))["ticket"] is None
    assert data(await rep.gql(GET, {"id": elsewhere["id"]}))["ticket"] is None
    note = await ok(rep, "addTicketNote", {"id": on_mine["id"], "note": "Called them"})
    assert note["id"] == on_mine["id"]
    assert (
        await not_found(rep, "addTicketNote", {"id": elsewhere["id"], "note": "hi"}) == "input.id"
    )
    body = await rep.gql(
        mutation("assignTicket"),
        {"input": {"id": on_mine["id"], "version": 1, "assigneeId": None}},
    )
    assert error_code(body) == "FORBIDDEN"
    assert (
        await not_found(
            rep, "openTicket", {"customerId": theirs, "type": "FAULT", "subject": "Not mine"}
        )
        == "input.customerId"
    )

    # A customer manager: the tickets of the team's customers.
    assert await visible(manager) == {"On mine"}

    # Finance has no ticket permission at all.
    for query in (
        "{ tickets { edges { node { id } } } }",
        '{ ticket(number: "T000001") { id } }',
        "{ ticketStats { total } }",
    ):
        assert error_code(await finance.gql(query)) == "FORBIDDEN", query
    body = await finance.gql(
        mutation("openTicket"),
        {"input": {"customerId": mine, "type": "FAULT", "subject": "x"}},
    )
    assert error_code(body) == "FORBIDDEN"
    # The ticket fields on a customer finance sees are refused, not empty; the customer stays.
    nested = await finance.gql(
        "query($c: ID!) { customer(id: $c) { name openTicketCount tickets { totalCount } } }",
        {"c": mine},
    )
    assert nested["data"]["customer"] == {
        "name": "Rep's Customer",
        "openTicketCount": None,
        "tickets": None,
    }
    assert sorted((e["path"], e["extensions"]["code"]) for e in nested["errors"]) == [
        (["customer", "openTicketCount"], "FORBIDDEN"),
        (["customer", "tickets"], "FORBIDDEN"),
    ]

    # The system administrator reads all and manages settings, but does not work tickets.
    assert await visible(sysadmin) == everything | {"Opened by support"}
    body = await sysadmin.gql(
        mutation("openTicket"),
        {"input": {"customerId": mine, "type": "FAULT", "subject": "x"}},
    )
    assert error_code(body) == "FORBIDDEN"

    # Nobody signed in.
    anonymous = admin.with_token(None)
    assert error_code(await anonymous.gql("{ tickets { totalCount } }")) == "UNAUTHENTICATED"

    # Each built-in role's ticket grants, as the API reports them.
    roles = data(await admin.gql("{ roles { key grants { permission scope } } }"))["roles"]
    ticket_grants = {
        role["key"]: {
            g["permission"]: g["scope"]
            for g in role["grants"]
            if g["permission"].startswith("tickets:")
        }
        for role in roles
    }
    assert ticket_grants == {
        ADMINISTRATOR: {
            "tickets:read": "ALL",
            "tickets:write": "ALL",
            "tickets:assign": "ALL",
            "tickets:manage": "ALL",
            "tickets:handle": "ALL",
        },
        SALES_REPRESENTATIVE: {"tickets:read": "OWN", "tickets:write": "OWN"},
        CUSTOMER_MANAGER: {
            "tickets:read": "TEAM",
            "tickets:write": "TEAM",
            "tickets:assign": "TEAM",
        },
        SUPPORT_REPRESENTATIVE: {
            "tickets:read": "ALL",
            "tickets:write": "OWN",
            "tickets:assign": "TEAM",
            "tickets:handle": "ALL",
        },
        FINANCE: {},
        SYSTEM_ADMINISTRATOR: {"tickets:read": "ALL", "tickets:manage": "ALL"},
    }


# --- lookups, filters and figures --------------------------------------------------------------


async def test_ticket_by_id_or_number(admin: Api, customer: str) -> None:
    ticket = await open_ticket(admin, customer)

    assert data(await admin.gql(GET, {"number": " t000001 "}))["ticket"] == ticket
    assert data(await admin.gql(GET, {"id": ticket["id"]}))["ticket"] == ticket
    assert data(await admin.gql(GET, {"number": "T000002"}))["ticket"] is None
    assert data(await admin.gql(GET, {"id": gid("Ticket", 999)}))["ticket"] is None
    for variables in ({}, {"id": ticket["id"], "number": "T000001"}):
        assert error_code(await admin.gql(GET, variables)) == "BAD_USER_INPUT"
    assert error_code(await admin.gql(GET, {"id": customer})) == "BAD_USER_INPUT"
    node = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on Ticket { number } } }", {"id": ticket["id"]}
        )
    )
    assert node == {"node": {"number": "T000001"}}


LIST = """
query($filter: TicketFilter, $orderBy: [TicketOrder!], $first: Int, $after: String) {
  tickets(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { node { number subject } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def numbers(api: Api, filter: dict[str, Any] | None = None, **args: Any) -> list[str]:
    body = data(await api.gql(LIST, {"filter": filter, "orderBy": {"field": "NUMBER"}, **args}))
    connection = body["tickets"]
    found = [edge["node"]["number"] for edge in connection["edges"]]
    if "first" not in args:
        assert connection["totalCount"] == len(found)
    return sorted(found)


async def test_ticket_filters(admin: Api, customer: str, clock: FakeClock) -> None:
    agent = await admin.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    other = await create_customer(admin, "Other Co")

    await open_ticket(admin, customer, "Printer jam", type="FAULT", priority="URGENT")
    clock.advance(hours=1)
    t2 = await open_ticket(admin, customer, "How to export 100% of data?", type="CONSULTATION")
    await move_to(admin, t2, "WAITING")
    clock.advance(hours=1)
    t3 = await open_ticket(admin, other, "Late delivery", type="COMPLAINT", priority="LOW")
    clock.advance(hours=1)
    t4 = await open_ticket(admin, other, "Printer_driver missing", type="FAULT", priority="HIGH")
    await ok(
        admin,
        "assignTicket",
        {"id": t3["id"], "version": 1, "assigneeId": gid("User", agent.user_id)},
    )
    await move_to(admin, t4, "CLOSED")
    # Now (MONDAY + 3h): t1 is URGENT and unanswered, 3 hours after opening: BREACHED.

    assert await numbers(admin) == ["T000001", "T000002", "T000003", "T000004"]
    assert await numbers(admin, {"status": ["NEW"]}) == ["T000001", "T000003"]
    assert await numbers(admin, {"status": ["WAITING", "CLOSED"]}) == ["T000002", "T000004"]
    assert await numbers(admin, {"priority": ["URGENT", "LOW"]}) == ["T000001", "T000003"]
    assert await numbers(admin, {"type": ["FAULT"]}) == ["T000001", "T000004"]
    assert await numbers(admin, {"assigneeId": gid("User", agent.user_id)}) == ["T000003"]
    assert await numbers(admin, {"unassigned": True}) == ["T000001", "T000002", "T000004"]
    assert await numbers(admin, {"unassigned": False}) == ["T000003"]
    assert await numbers(admin, {"customerId": other}) == ["T000003", "T000004"]
    opened = {"from": (MONDAY + dt.timedelta(hours=1)).isoformat()}
    assert await numbers(admin, {"opened": opened}) == ["T000002", "T000003", "T000004"]
    opened["to"] = (MONDAY + dt.timedelta(hours=3)).isoformat()  # exclusive
    assert await numbers(admin, {"opened": opened}) == ["T000002", "T000003"]
    assert await numbers(admin, {"search": "printer"}) == ["T000001", "T000004"]
    assert await numbers(admin, {"search": "t000003"}) == ["T000003"]
    assert await numbers(admin, {"search": "100%"}) == ["T000002"]
    assert await numbers(admin, {"search": "r_d"}) == ["T000004"]
    assert await numbers(admin, {"search": "r_j"}) == []  # _ is not a wildcard
    assert await numbers(admin, {"search": "t%d"}) == []  # nor is %
    assert await numbers(admin, {"search": "   "}) == await numbers(admin)
    assert await numbers(admin, {"slaState": ["BREACHED"]}) == ["T000001"]
    # t2 WAITING after a timely answer, t3 NEW (LOW: 2 h to answer, 2 h left): on track.
    assert await numbers(admin, {"slaState": ["ON_TRACK"]}) == ["T000002", "T000003"]
    assert await numbers(admin, {"slaState": ["MET"]}) == ["T000004"]
    assert await numbers(admin, {"slaState": ["AT_RISK"]}) == []
    assert await numbers(admin, {"type": ["FAULT"], "slaState": ["BREACHED", "MET"]}) == [
        "T000001",
        "T000004",
    ]
    assert await numbers(admin, {"type": ["FAULT"], "customerId": other}) == ["T000004"]
    # An SLA-state filter pages forward only: paging backward is refused, naming the argument.
    backward = """
    query($filter: TicketFilter, $last: Int, $before: String) {
      tickets(filter: $filter, last: $last, before: $before) { totalCount }
    }"""
    for args, argument in (({"last": 2}, "last"), ({"before": "WzFd"}, "before")):
        body = await admin.gql(backward, {"filter": {"slaState": ["MET"]}, **args})
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}, body
    for filter in ({"assigneeId": customer}, {"customerId": gid("User", 1)}):
        body = await admin.gql(LIST, {"filter": filter})
        assert error_code(body) == "BAD_USER_INPUT"


async def test_ticket_ordering_and_pages(admin: Api, customer: str, clock: FakeClock) -> None:
    for n in range(5):
        await open_ticket(admin, customer, f"Ticket {n}")
        clock.advance(minutes=1)

    seen: list[str] = []
    after = None
    while True:
        body = data(
            await admin.gql(LIST, {"orderBy": {"field": "NUMBER"}, "first": 2, "after": after})
        )
        seen += [edge["node"]["number"] for edge in body["tickets"]["edges"]]
        assert body["tickets"]["totalCount"] == 5
        if not body["tickets"]["pageInfo"]["hasNextPage"]:
            break
        after = body["tickets"]["pageInfo"]["endCursor"]
    assert seen == [f"T00000{n}" for n in range(1, 6)]
    newest = data(await admin.gql(LIST, {"first": 2}))["tickets"]["edges"]
    assert [edge["node"]["number"] for edge in newest] == ["T000005", "T000004"]

    # The SLA-state filter pages the same way (all five are on track).
    seen = []
    after = None
    while True:
        body = data(
            await admin.gql(
                LIST,
                {
                    "filter": {"slaState": ["ON_TRACK"]},
                    "orderBy": {"field": "NUMBER"},
                    "first": 2,
                    "after": after,
                },
            )
        )
        seen += [edge["node"]["number"] for edge in body["tickets"]["edges"]]
        assert body["tickets"]["totalCount"] == 5  # of all pages, not of this page
        if not body["tickets"]["pageInfo"]["hasNextPage"]:
            break
        after = body["tickets"]["pageInfo"]["endCursor"]
    assert seen == [f"T00000{n}" for n in range(1, 6)]


async def test_page_size_limit_holds_with_an_sla_filter(admin: Api, customer: str) -> None:
    await open_ticket(admin, customer)
    for filter in (None, {"slaState": ["ON_TRACK"]}):
        for first in (101, -1):
            body = await admin.gql(LIST, {"filter": filter, "first": first})
            assert error_code(body) == "BAD_USER_INPUT", (filter, first)


STATS = """
query($groupBy: [TicketGroupBy!], $filter: TicketFilter) {
  ticketStats(groupBy: $groupBy, filter: $filter) {
    key total byStatus { status count }
    meanFirstResponseMinutes medianFirstResponseMinutes
    meanResolutionMinutes medianResolutionMinutes
    firstResponseSlaCompliance resolutionSlaCompliance reopenRate backlogAgeHours
  }
}"""


def figures(
    total: int,
    by_status: dict[str, int],
    first: tuple[float, float] | None,
    resolution: tuple[float, float] | None,
    compliance: tuple[float | None, float | None],
    reopen_rate: float,
    backlog: float | None,
) -> dict[str, Any]:
    return {
        "total": total,
        "byStatus": [{"status": s, "count": c} for s, c in sorted(by_status.items())],
        "meanFirstResponseMinutes": first[0] if first else None,
        "medianFirstResponseMinutes": first[1] if first else None,
        "meanResolutionMinutes": resolution[0] if resolution else None,
        "medianResolutionMinutes": resolution[1] if resolution else None,
        "firstResponseSlaCompliance": compliance[0],
        "resolutionSlaCompliance": compliance[1],
        "reopenRate": reopen_rate,
        "backlogAgeHours": backlog,
    }


async def test_ticket_stats_on_a_hand_made_set(admin: Api, customer: str, clock: FakeClock) -> None:
    ann = await admin.user("ann@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    bob = await make_user(admin.db, admin.settings, "bob@example.com", [SUPPORT_REPRESENTATIVE])
    ann_id, bob_id = gid("User", ann.user_id), gid("User", bob)

    async def at(moment: dt.datetime, name: str, ticket: dict[str, Any], **extra: Any) -> Any:
        clock.set(moment)
        return await step(admin, name, ticket, **extra)

    async def assigned(moment: dt.datetime, user: str, **kwargs: Any) -> dict[str, Any]:
        clock.set(moment)
        ticket = await open_ticket(admin, customer, **kwargs)
        return await ok(
            admin, "assignTicket", {"id": ticket["id"], "version": 1, "assigneeId": user}
        )

    # t5: October; OTHER, MEDIUM, bob. Answered in 90 min, resolved after 48 h, closed.
    october = MONDAY - dt.timedelta(days=30)
    t5 = await assigned(october, bob_id, type="OTHER", priority="MEDIUM")
    t5 = await at(october + dt.timedelta(minutes=90), "acknowledgeTicket", t5)
    t5 = await at(october + dt.timedelta(hours=2), "startTicketWork", t5)
    t5 = await at(october + dt.timedelta(hours=48), "resolveTicket", t5)
    t5 = await at(october + dt.timedelta(hours=49), "closeTicket", t5)
    # t1: FAULT, HIGH, ann. Answered in 30 min, resolved after 5 h, confirmed.
    t1 = await assigned(MONDAY, ann_id, type="FAULT", priority="HIGH")
    t1 = await at(MONDAY + dt.timedelta(minutes=30), "acknowledgeTicket", t1)
    t1 = await at(MONDAY + dt.timedelta(hours=1), "startTicketWork", t1)
    t1 = await at(MONDAY + dt.timedelta(hours=5), "resolveTicket", t1)
    clock.set(MONDAY + dt.timedelta(hours=6))
    await ok(admin, "confirmTicketResolution", {"id": t1["id"], "satisfied": True})
    # t2: FAULT, MEDIUM, ann, opened at +1h. Answered after 180 min (late: 120 allowed),
    # resolved, reopened (not satisfied), resolved again 660 min after opening.
    t2 = await assigned(MONDAY + dt.timedelta(hours=1), ann_id, type="FAULT", priority="MEDIUM")
    t2 = await at(MONDAY + dt.timedelta(hours=4), "acknowledgeTicket", t2)
    t2 = await at(MONDAY + dt.timedelta(hours=4), "startTicketWork", t2)
    t2 = await at(MONDAY + dt.timedelta(hours=11), "resolveTicket", t2)
    clock.set(MONDAY + dt.timedelta(hours=11, minutes=30))
    t2 = await ok(admin, "confirmTicketResolution", {"id": t2["id"], "satisfied": False})
    t2 = await at(MONDAY + dt.timedelta(hours=12), "resolveTicket", t2)
    # t3: CONSULTATION, LOW, bob, opened at +2h, answered after 60 min, still ACKNOWLEDGED.
    t3 = await assigned(MONDAY + dt.timedelta(hours=2), bob_id, type="CONSULTATION", priority="LOW")
    t3 = await at(MONDAY + dt.timedelta(hours=3), "acknowledgeTicket", t3)
    # t4: COMPLAINT, URGENT, nobody, opened at +3h, untouched.
    clock.set(MONDAY + dt.timedelta(hours=3))
    await open_ticket(admin, customer, type="COMPLAINT", priority="URGENT")
    clock.set(MONDAY + dt.timedelta(hours=13))

    async def stats(group_by: list[str] | None, filter: Any = None) -> dict[tuple[str, ...], Any]:
        body = data(await admin.gql(STATS, {"groupBy": group_by, "filter": filter}))
        return {tuple(group.pop("key")): group for group in body["ticketStats"]}

    # Open backlog: t3 (11 h old) and t4 (10 h old).
    assert await stats(None) == {
        (): figures(
            5,
            {"CLOSED": 2, "RESOLVED": 1, "ACKNOWLEDGED": 1, "NEW": 1},
            (90.0, 75.0),  # 90, 30, 180, 60
            (1280.0, 660.0),  # 2880, 300, 660
            (0.75, 1.0),
            0.2,
            10.5,
        )
    }
    assert await stats(["ASSIGNEE"]) == {
        (ann_id,): figures(
            2, {"CLOSED": 1, "RESOLVED": 1}, (105.0, 105.0), (480.0, 480.0), (0.5, 1.0), 0.5, None
        ),
        (bob_id,): figures(
            2,
            {"CLOSED": 1, "ACKNOWLEDGED": 1},
            (75.0, 75.0),
            (2880.0, 2880.0),
            (1.0, 1.0),
            0.0,
            11.0,
        ),
        ("unassigned",): figures(1, {"NEW": 1}, None, None, (None, None), 0.0, 10.0),
    }
    by_type = await stats(["TYPE"])
    assert sorted(by_type) == [("COMPLAINT",), ("CONSULTATION",), ("FAULT",), ("OTHER",)]
    assert by_type[("FAULT",)] == figures(
        2, {"CLOSED": 1, "RESOLVED": 1}, (105.0, 105.0), (480.0, 480.0), (0.5, 1.0), 0.5, None
    )
    assert by_type[("CONSULTATION",)] == figures(
        1, {"ACKNOWLEDGED": 1}, (60.0, 60.0), None, (1.0, None), 0.0, 11.0
    )
    by_priority = await stats(["PRIORITY"])
    assert sorted(by_priority) == [("HIGH",), ("LOW",), ("MEDIUM",), ("URGENT",)]
    assert by_priority[("MEDIUM",)] == figures(
        2, {"CLOSED": 1, "RESOLVED": 1}, (135.0, 135.0), (1770.0, 1770.0), (0.5, 1.0), 0.5, None
    )
    assert by_priority[("HIGH",)] == figures(
        1, {"CLOSED": 1}, (30.0, 30.0), (300.0, 300.0), (1.0, 1.0), 0.0, None
    )
    assert await stats(["MONTH"]) == {
        ("2026-10",): figures(
            1, {"CLOSED": 1}, (90.0, 90.0), (2880.0, 2880.0), (1.0, 1.0), 0.0, None
        ),
        ("2026-11",): figures(
            4,
            {"CLOSED": 1, "RESOLVED": 1, "ACKNOWLEDGED": 1, "NEW": 1},
            (90.0, 60.0),  # 30, 180, 60
            (480.0, 480.0),
            (0.6667, 1.0),
            0.25,
            10.5,
        ),
    }
    both = await stats(["ASSIGNEE", "TYPE"])
    assert sorted((k, v["total"]) for k, v in both.items()) == sorted(
        [
            ((ann_id, "FAULT"), 2),
            ((bob_id, "CONSULTATION"), 1),
            ((bob_id, "OTHER"), 1),
            (("unassigned", "COMPLAINT"), 1),
        ]
    )
    filtered = await stats(None, {"type": ["FAULT"], "status": ["RESOLVED"]})
    assert filtered[()]["total"] == 1
    assert filtered[()]["reopenRate"] == 1.0

    # Figures follow the caller's reach: ann's sales colleague sees none of these tickets.
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    assert sum(group["total"] for group in data(await rep.gql(STATS))["ticketStats"]) == 0
