"""The support desk over HTTP: who may take, work and hand on which ticket, the assignable
users by name, the assignee a reader may not see as a user, ticket search by customer, and
the filter of ``User.assignedTickets``.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
)
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.test_lifecycle import (
    GET,
    create_customer,
    data,
    error_code,
    gid,
    move_to,
    not_found,
    ok,
    open_ticket,
    step,
)
from schema.testkit import Api
from schema.testkit_tools import make_user

# The lifecycle tests' fixtures: the app on a clock set to a Monday, an admin.
settings, clock, api, admin = lifecycle.settings, lifecycle.clock, lifecycle.api, lifecycle.admin

ASSIGNEES = """
query($search: String, $first: Int) { ticketAssignees(search: $search, first: $first) {
  id name active user { email }
} }"""

ASSIGNED = """
query($id: ID!, $filter: AssignedTicketFilter) {
  node(id: $id) { ... on User { assignedTickets(filter: $filter) {
    totalCount edges { node { subject status priority } }
  } } }
}"""

SEARCH = """
query($search: String!) { tickets(filter: {search: $search}, orderBy: [{field: NUMBER}]) {
  edges { node { subject } }
} }"""


def assign_input(ticket: dict[str, Any], user_id: int | None) -> dict[str, Any]:
    return {
        "id": ticket["id"],
        "version": ticket["version"],
        "assigneeId": gid("User", user_id) if user_id is not None else None,
    }


async def assignees(api: Api, search: str | None = None) -> list[str]:
    body = await api.gql(ASSIGNEES, {"search": search})
    return [user["name"] for user in data(body)["ticketAssignees"]]


async def test_support_opens_takes_works_and_hands_on_tickets(admin: Api) -> None:
    desk = await admin.user("desk@example.com", [SUPPORT_REPRESENTATIVE], team="Support")
    mate = await make_user(
        admin.db, admin.settings, "mate@example.com", [SUPPORT_REPRESENTATIVE], team="Support"
    )
    far = await make_user(
        admin.db, admin.settings, "far@example.com", [SUPPORT_REPRESENTATIVE], team="Field"
    )
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="North")
    other = await make_user(
        admin.db, admin.settings, "other@example.com", [SALES_REPRESENTATIVE], team="South"
    )
    manager = await admin.user("boss@example.com", [CUSTOMER_MANAGER], team="North")
    assert desk.user_id is not None
    assert rep.user_id is not None
    acme = await create_customer(admin, "Acme Ltd", rep.user_id)
    theirs = await create_customer(admin, "Their Co", other)

    # Support opens a ticket and works it at once: it opened it, so it is its own.
    own = await open_ticket(desk, theirs, "Opened at the desk")
    assert own["assignee"] is None
    own = await step(desk, "acknowledgeTicket", own)
    assert own["status"] == "ACKNOWLEDGED"
    own = await ok(desk, "assignTicket", assign_input(own, desk.user_id))
    assert own["assignee"]["user"]["email"] == "desk@example.com"

    # It takes an unassigned ticket from the queue, then hands it to a teammate.
    queued = await open_ticket(admin, theirs, "In the queue")
    assert (
        await not_found(desk, "acknowledgeTicket", {"id": queued["id"], "version": 1}) == "input.id"
    )
    taken = await ok(desk, "assignTicket", assign_input(queued, desk.user_id))
    assert taken["assignee"]["user"]["email"] == "desk@example.com"
    taken = await step(desk, "acknowledgeTicket", taken)
    handed = await ok(
        desk,
        "transferTicket",
        assign_input(taken, mate) | {"reason": "Mate knows this printer"},
    )
    assert handed["assignee"]["user"]["email"] == "mate@example.com"
    # Still the team's ticket: it may go on to the support desk of another team.
    onward = await ok(
        desk, "transferTicket", assign_input(handed, far) | {"reason": "Field visit needed"}
    )
    assert onward["assignee"] == {"id": gid("User", far), "user": None}  # not its users:read

    # What support may not do: hand a ticket to someone off the desk outside its team, take
    # a ticket someone else works, or work a ticket that is neither its own nor its team's.
    mine = await open_ticket(admin, acme, "Worked by the rep")
    mine = await ok(admin, "assignTicket", assign_input(mine, rep.user_id))
    assert (
        await not_found(desk, "assignTicket", assign_input(own, rep.user_id)) == "input.assigneeId"
    )
    assert await not_found(desk, "assignTicket", assign_input(mine, desk.user_id)) == "input.id"
    assert (
        await not_found(
            desk, "transferTicket", assign_input(onward, desk.user_id) | {"reason": "Mine now"}
        )
        == "input.id"
    )
    at = {"id": mine["id"], "version": mine["version"]}
    for name, extra in (
        ("acknowledgeTicket", {}),
        ("escalateTicket", {"priority": "HIGH", "reason": "Late"}),
    ):
        assert await not_found(desk, name, at | extra) == "input.id", name
    assert (
        await not_found(desk, "addTicketNote", {"id": mine["id"], "note": "Called"}) == "input.id"
    )
    closed = await move_to(admin, await open_ticket(admin, theirs, "Done with"), "CLOSED")
    errors = data(
        await desk.gql(
            "mutation($input: AssignTicketInput!) { assignTicket(input: $input) "
            "{ errors { field code } } }",
            {"input": assign_input(closed, desk.user_id)},
        )
    )["assignTicket"]["errors"]
    assert errors == [{"field": "id", "code": "BUSINESS_RULE"}]

    # The users support may assign to, by name: its team and the support desk.
    assert await assignees(desk) == ["Admin", "Desk", "Far", "Mate"]
    assert await assignees(desk, "A") == ["Admin", "Far", "Mate"]
    listed = data(await desk.gql(ASSIGNEES, {"search": "far", "first": 1}))["ticketAssignees"]
    assert listed == [{"id": gid("User", far), "name": "Far", "active": True, "user": None}]

    # The manager assigns a ticket support opened on a team customer to the support desk,
    # but not to a sales representative of another team.
    raised = await open_ticket(desk, acme, "Raised by support")
    assert await assignees(manager) == ["Admin", "Boss", "Desk", "Far", "Mate", "Rep"]
    assert (
        await not_found(manager, "assignTicket", assign_input(raised, other)) == "input.assigneeId"
    )
    routed = await ok(manager, "assignTicket", assign_input(raised, mate))
    assert routed["assignee"]["user"] is None  # outside the manager's users:read
    assert routed["assignee"]["id"] == gid("User", mate)
    # The sales representative assigns nothing.
    assert error_code(await rep.gql(ASSIGNEES)) == "FORBIDDEN"
    for arguments, argument in (({"first": 0}, "first"), ({"search": "x" * 201}, "search")):
        body = await desk.gql(ASSIGNEES, arguments)
        assert error_code(body) == "BAD_USER_INPUT", body
        assert body["errors"][0]["extensions"]["argument"] == argument


async def test_the_assignee_is_named_to_whoever_reads_the_ticket(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="North")
    agent = await make_user(
        admin.db,
        admin.settings,
        "agent@example.com",
        [SUPPORT_REPRESENTATIVE],
        team="Support",
        name="Ada Agent",
    )
    assert rep.user_id is not None
    acme = await create_customer(admin, "Acme Ltd", rep.user_id)
    ticket = await ok(admin, "assignTicket", assign_input(await open_ticket(admin, acme), agent))
    query = GET.replace("assignee { id user { email } }", "assignee { id name active user { id } }")
    seen = data(await rep.gql(query, {"id": ticket["id"]}))["ticket"]
    # The rep may not read the agent as a user, but sees who works the ticket.
    assert seen["assignee"] == {
        "id": gid("User", agent),
        "name": "Ada Agent",
        "active": True,
        "user": None,
    }
    body = await rep.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("User", agent)})
    assert data(body)["node"] is None


async def test_search_matches_the_customer_name_and_number(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="North")
    other = await make_user(
        admin.db, admin.settings, "other@example.com", [SALES_REPRESENTATIVE], team="South"
    )
    assert rep.user_id is not None
    lake = await create_customer(admin, "Lakebrook GmbH", rep.user_id)
    street = await create_customer(admin, "Großstraße Handel", rep.user_id)
    beijing = await create_customer(admin, "北京星河科技", rep.user_id)
    hidden = await create_customer(admin, "Hidden Harbour", other)
    numbers = {
        name: data(
            await admin.gql("query($id: ID!) { customer(id: $id) { number } }", {"id": cid})
        )["customer"]["number"]
        for name, cid in (("lake", lake), ("hidden", hidden))
    }
    assert numbers == {"lake": "C000001", "hidden": "C000004"}
    await open_ticket(admin, lake, "Pump leaks")
    await open_ticket(admin, street, "Invoice wrong")
    await open_ticket(admin, beijing, "Screen flickers")
    # A ticket the rep works on a customer it may not read.
    far = await open_ticket(admin, hidden, "Harbour crane")
    await ok(admin, "assignTicket", assign_input(far, rep.user_id))

    async def found(api: Api, text: str) -> list[str]:
        body = data(await api.gql(SEARCH, {"search": text}))
        return [edge["node"]["subject"] for edge in body["tickets"]["edges"]]

    assert await found(admin, "LAKEBROOK") == ["Pump leaks"]
    assert await found(admin, "c000001") == ["Pump leaks"]
    assert await found(admin, "GROSSSTRASSE") == ["Invoice wrong"]  # folded, not lower()
    assert await found(admin, "\uff2c\uff21\uff2b\uff25") == ["Pump leaks"]  # full-width letters
    assert await found(admin, "星河") == ["Screen flickers"]
    assert await found(admin, "beijing") == ["Screen flickers"]  # pinyin
    assert await found(admin, "flicker") == ["Screen flickers"]  # the subject still matches
    assert await found(admin, "T000002") == ["Invoice wrong"]  # and the number
    assert await found(admin, "harbour") == ["Harbour crane"]
    # The rep reads the crane ticket (assigned to it), not its customer: the customer's
    # name does not find it, its subject does.
    assert await found(rep, "hidden") == []
    assert await found(rep, "C000004") == []
    assert await found(rep, "crane") == ["Harbour crane"]
    assert await found(rep, "lakebrook") == ["Pump leaks"]


async def test_assigned_tickets_leave_out_closed_ones_unless_asked(admin: Api) -> None:
    agent = await make_user(
        admin.db, admin.settings, "agent@example.com", [SUPPORT_REPRESENTATIVE], team="Support"
    )
    customer = await create_customer(admin, "Acme Ltd")
    made = {}
    for subject, priority, status in (
        ("New low", "LOW", "NEW"),
        ("Working high", "HIGH", "IN_PROGRESS"),
        ("Closed high", "HIGH", "CLOSED"),
        ("Resolved medium", "MEDIUM", "RESOLVED"),
    ):
        ticket = await open_ticket(admin, customer, subject, priority=priority)
        ticket = await ok(admin, "assignTicket", assign_input(ticket, agent))
        made[subject] = await move_to(admin, ticket, status)

    async def listed(filter: dict[str, Any] | None) -> tuple[int, list[str]]:
        body = data(await admin.gql(ASSIGNED, {"id": gid("User", agent), "filter": filter}))
        page = body["node"]["assignedTickets"]
        return page["totalCount"], [edge["node"]["subject"] for edge in page["edges"]]

    everything = ["Resolved medium", "Closed high", "Working high", "New low"]
    assert await listed(None) == (3, ["Resolved medium", "Working high", "New low"])
    assert await listed({}) == (3, ["Resolved medium", "Working high", "New low"])
    assert await listed({"status": ["CLOSED"]}) == (1, ["Closed high"])
    every_status = ["NEW", "ACKNOWLEDGED", "IN_PROGRESS", "WAITING", "RESOLVED", "CLOSED"]
    assert await listed({"status": every_status}) == (4, everything)
    assert await listed({"priority": ["HIGH"]}) == (1, ["Working high"])
    assert await listed({"priority": ["HIGH", "LOW"], "status": ["NEW", "CLOSED"]}) == (
        2,
        ["Closed high", "New low"],
    )
    assert await listed({"status": ["WAITING"]}) == (0, [])
