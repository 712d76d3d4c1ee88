"""A working day over HTTP, one scenario per role, counting the requests each one needs.

Every GraphQL request and every download a scenario sends goes through :class:`Counted`;
each scenario asserts the exact number, so a change that adds a dead end (a request more
for the same day's work) fails here. The data the day starts from (users, customers,
tickets, tasks, a routing rule and a grade SLA policy) is set up beforehand through the
test kit and the API, and is not counted. The app runs with the tickets and surveys plugins,
on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL; ``pytest -s`` prints the
counts.

The "before" counts are reasoned over the API as it was before the support desk and
sales follow-up work (the printed schema of then): where a step had a way round, its
requests are counted; a dead end is a step no request could do for that user.

Support representative: 10 requests (before: 11, and four dead ends).
  1 the queue (unassigned tickets);
  2 takes a ticket (assigns it to itself) -- before: a dead end, tickets:assign at TEAM
    scope did not reach the unassigned queue; someone else had to assign it;
  3 finds it by the customer's name, with the SLA policy it follows (the GOLD customer's)
    -- before: the search matched the ticket's number and subject only, so the customer
    was looked up first (customers(search), +1); and which policy applied was a dead end:
    the ticket showed due times only, and policies could not be read back;
  4-6 acknowledges, starts and resolves it;
  7 picks a colleague from ticketAssignees -- before: a dead end, no list of assignable
    users, and support holds no users:read to look a colleague's id up;
  8 transfers another ticket to them;
  9 its assignedTickets(filter) without the CLOSED ones -- before: no filter, the closed
    ones came along and the client dropped them (one request, more rows);
  10 who works the complaint the routing rule handed on, by name -- before: a dead end, the
    assignee was an id whose user (node(id), +1 per assignee) is null outside users:read.

Sales representative: 10 requests (before: 13, and two dead ends).
  1 its open tasks, the re-engage task of a DORMANT customer among them;
  2 the customer form's required fields -- before: a dead end, not readable; the client
    learned them from a refused createCustomer;
  3-4 createCustomer refused with the likely duplicate, then again with allowDuplicates --
    before: nothing detected; checking took customers(search) by name and by email domain
    before the one createCustomer (3 requests);
  5 logs an interaction with the DORMANT customer, which comes back ACTIVE with its
    re-engage task DONE, read in the same payload -- before: logInteraction, then
    updateCustomer(stage: ACTIVE) and completeTask of the re-engage task (3 requests);
  6 the customer's timeline, emails only -- before: no TimelineFilter, the whole timeline
    read (page by page) and filtered by the client;
  7 reschedules a task -- before: no rescheduleTask; a new task created and the old one
    completed as if done (2 requests, and a false "done");
  8 completes a task;
  9 its overdue tasks -- before: {done: false, due: {to: now}} (the same one request);
  10 the contacts CSV -- a dead end still: a sales representative holds no
    customers:export, so the download answers 403 (before: no contacts export at all; the
    contacts list read through the API instead, 1 request and more pages).

Sales manager: 9 requests (before: 10, and three dead ends).
  1 its own user (the team's id);
  2 the team's recent interactions(filter: {teamId}) -- before: no top-level interactions
    list; customers with their timelines nested, merged and sorted by the client (one
    request per page of customers);
  3 ticketStats(groupBy: [ASSIGNEE]) with the assignees' names -- before: a dead end, the
    groups were keyed by a user's global id, and node(id) per assignee (+2 here) answers
    null for the support desk's users outside the manager's users:read;
  4 a representative's open tasks;
  5-6 hands a customer and its task to another representative: updateCustomer(ownerId),
    then reassignTask -- reassignTask alone is refused (BUSINESS_RULE on assigneeId) since
    a task goes only to someone who may see its customer, and a representative sees only
    their own; before: no reassignTask, a new task for the other representative and a
    false completion of the old one (3 requests);
  7 hands the representative's task without a customer to another one (reassignTask) --
    before: a dead end, such a task was its assignee's alone, unseen by the manager;
  8 the routing rules, SLA policies and business hours -- before: a dead end, none could be
    read back;
  9 a customer's profile as a PDF -- before: no PDF; one nested query for the customer,
    its contacts, interactions, tasks and tickets, printed by the client.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.plugin_api import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    CRMPluginManager,
    Settings,
    Team,
)
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_graphql import data, gid, mutate_ok

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning; the day itself is 31 days later."""

ERRORS = "errors { field message code }"
TICKET = "id number subject status priority version customer { name } assignee { name }"


class Counted:
    """A signed-in user whose every GraphQL request and download is counted."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.calls = 0

    @property
    def user_id(self) -> int | None:
        return self.api.user_id

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls += 1
        return data(await self.api.gql(query, variables))

    async def get(self, path: str) -> httpx.Response:
        self.calls += 1
        return await self.api.client.get(path, headers=self.api.headers)

    async def ok(self, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
        """The payload of mutation ``name``, which must succeed."""
        payload = await self.mutate(name, input, selection)
        assert payload["errors"] == [], payload
        return payload

    async def mutate(self, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
        input_type = name[0].upper() + name[1:] + "Input"
        query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"
        payload: dict[str, Any] = (await self.gql(query, {"input": input}))[name]
        return payload


def report(role: str, user: Counted, expected: int) -> None:
    print(f"\n{role}: {user.calls} requests (expected {expected})")
    assert user.calls == expected


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# --- the day's starting point --------------------------------------------------------------


@dataclass
class Day:
    clock: FakeClock
    admin: Api
    desk: Api
    mate: Api
    rep: Api
    rep2: Api
    manager: Api
    customers: dict[str, str]
    tickets: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("tickets", "surveys"), dormant_days=30)


async def customer(admin: Api, name: str, owner: Api, **values: Any) -> str:
    payload = await mutate_ok(
        admin,
        "createCustomer",
        {"name": name, "ownerId": gid("User", owner.user_id), "allowDuplicates": True, **values},
        "customer { id }",
    )
    found: str = payload["customer"]["id"]
    return found


async def log(api: Api, customer_id: str, channel: str, summary: str) -> None:
    await mutate_ok(
        api,
        "logInteraction",
        {"customerId": customer_id, "channel": channel, "summary": summary},
        "interaction { id }",
    )


async def open_ticket(
    admin: Api, customer_id: str, subject: str, type: str, priority: str
) -> dict[str, Any]:
    input = {"customerId": customer_id, "subject": subject, "type": type, "priority": priority}
    ticket: dict[str, Any] = (
        await mutate_ok(admin, "openTicket", input, f"ticket {{ {TICKET} }}")
    )["ticket"]
    return ticket


async def task(
    api: Api, clock: FakeClock, customer_id: str | None, title: str, type: str, hours: float
) -> dict[str, Any]:
    input: dict[str, Any] = {
        "customerId": customer_id,
        "title": title,
        "type": type,
        "dueAt": iso(clock() + dt.timedelta(hours=hours)),
    }
    made: dict[str, Any] = (
        await mutate_ok(api, "createTask", input, "task { id version title dueAt }")
    )["task"]
    return made


@pytest.fixture
async def day(settings: Settings, plugin_manager: CRMPluginManager) -> AsyncIterator[Day]:
    clock = FakeClock(MONDAY)
    async with running_app(settings, pm=plugin_manager, clock=clock) as api:
        # Lasting API tokens: the clock moves a month on before the day starts.
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        desk = await api.user(
            "dana.desk@example.com", [SUPPORT_REPRESENTATIVE], team="Support", lasting=True
        )
        mate = await api.user(
            "max.mate@example.com", [SUPPORT_REPRESENTATIVE], team="Support", lasting=True
        )
        rep = await api.user(
            "rita.rep@example.com", [SALES_REPRESENTATIVE], team="North", lasting=True
        )
        rep2 = await api.user(
            "sam.sales@example.com", [SALES_REPRESENTATIVE], team="North", lasting=True
        )
        manager = await api.user(
            "mona.manager@example.com", [CUSTOMER_MANAGER], team="North", lasting=True
        )

        # A customer of the representative goes quiet for a month: DORMANT, with a task.
        quiet = await customer(admin, "Quiet Harbour Co", rep, stage="ACTIVE")
        await log(rep, quiet, "PHONE", "Called about the pumps")
        clock.advance(days=31)
        await admin.run_due_jobs()

        # The desk: a grade policy for GOLD customers, complaints routed to Max.
        await mutate_ok(
            admin,
            "setSlaPolicy",
            {
                "priority": "HIGH",
                "grade": "GOLD",
                "firstResponseMinutes": 30,
                "resolutionMinutes": 480,
            },
            "policy { grade }",
        )
        await mutate_ok(
            admin,
            "setRoutingRule",
            {"type": "COMPLAINT", "strategy": "LEAST_OPEN", "userIds": [gid("User", mate.user_id)]},
            "rule { type }",
        )

        customers = {
            "quiet": quiet,
            "lake": await customer(
                admin,
                "Lakebrook GmbH",
                rep,
                stage="ACTIVE",
                grade="GOLD",
                email="info@lakebrook.de",
            ),
            "harbour": await customer(admin, "Harbour Ltd", rep, stage="ACTIVE"),
            "north": await customer(admin, "Northwind Traders", rep2, stage="ACTIVE"),
        }
        for key, name in (("lake", "Lena Lake"), ("harbour", "Hal Harbour")):
            await mutate_ok(
                admin,
                "createContact",
                {"customerId": customers[key], "name": name},
                "contact { id }",
            )
        await log(rep, customers["lake"], "EMAIL", "Sent Lakebrook the quote")
        clock.advance(hours=1)
        await log(rep2, customers["north"], "VISIT", "Visited Northwind")

        tickets = {
            "pump": await open_ticket(admin, customers["lake"], "Pump leaks", "FAULT", "HIGH"),
            "invoice": await open_ticket(
                admin, customers["harbour"], "Invoice wrong", "FAULT", "MEDIUM"
            ),
            "fan": await open_ticket(
                admin, customers["harbour"], "Fan too loud", "COMPLAINT", "LOW"
            ),
            "printer": await open_ticket(
                admin, customers["harbour"], "Old printer", "FAULT", "MEDIUM"
            ),
        }
        for key in ("invoice", "printer"):
            tickets[key] = (
                await mutate_ok(
                    admin,
                    "assignTicket",
                    {
                        "id": tickets[key]["id"],
                        "version": tickets[key]["version"],
                        "assigneeId": gid("User", desk.user_id),
                    },
                    f"ticket {{ {TICKET} }}",
                )
            )["ticket"]
        printer = tickets["printer"]
        for name in ("acknowledgeTicket", "startTicketWork", "resolveTicket", "closeTicket"):
            extra = {"resolution": "Replaced"} if name == "resolveTicket" else {}
            printer = (
                await mutate_ok(
                    admin,
                    name,
                    {"id": printer["id"], "version": printer["version"], **extra},
                    f"ticket {{ {TICKET} }}",
                )
            )["ticket"]
        assert printer["status"] == "CLOSED"

        tasks = {
            "quote": await task(rep, clock, customers["lake"], "Send the quote", "PROPOSAL", 1),
            "call": await task(rep, clock, customers["harbour"], "Call Hal back", "CALL", 2),
            "renew": await task(rep, clock, customers["harbour"], "Renew contract", "OTHER", 3),
            "fair": await task(rep, clock, None, "Book the trade fair stand", "OTHER", 24 * 5),
        }
        clock.advance(hours=4)  # the three first tasks are overdue now
        yield Day(clock, admin, desk, mate, rep, rep2, manager, customers, tickets, tasks)


# --- the support representative ------------------------------------------------------------


async def test_a_support_representatives_day(day: Day) -> None:
    desk = Counted(day.desk)

    # The queue: what nobody works yet.
    queue = await desk.gql(
        f"{{ tickets(filter: {{unassigned: true}}) {{ edges {{ node {{ {TICKET} }} }} }} }}"
    )
    queued = [edge["node"] for edge in queue["tickets"]["edges"]]
    assert [(t["subject"], t["customer"]["name"]) for t in queued] == [
        ("Pump leaks", "Lakebrook GmbH")
    ]

    # Takes it.
    [pump] = queued
    taken = await desk.ok(
        "assignTicket",
        {"id": pump["id"], "version": pump["version"], "assigneeId": gid("User", desk.user_id)},
        f"ticket {{ {TICKET} }} {ERRORS}",
    )
    assert taken["ticket"]["assignee"] == {"name": "Dana Desk"}

    # Lakebrook calls: the ticket found by the customer's name, with the GOLD policy it follows.
    found = await desk.gql(
        """query($search: String!) { tickets(filter: {search: $search}) { edges { node {
          id version subject status
          sla {
            firstResponseDueAt
            policy { priority grade firstResponseMinutes resolutionMinutes }
          }
        } } } }""",
        {"search": "lakebrook"},
    )
    [ticket] = [edge["node"] for edge in found["tickets"]["edges"]]
    assert ticket["subject"] == "Pump leaks"
    assert ticket["sla"]["policy"] == {
        "priority": "HIGH",
        "grade": "GOLD",
        "firstResponseMinutes": 30,
        "resolutionMinutes": 480,
    }
    opened = MONDAY + dt.timedelta(days=31, hours=1)
    assert dt.datetime.fromisoformat(ticket["sla"]["firstResponseDueAt"]) == opened + dt.timedelta(
        minutes=30
    )

    # Works it through.
    for name, status in (
        ("acknowledgeTicket", "ACKNOWLEDGED"),
        ("startTicketWork", "IN_PROGRESS"),
        ("resolveTicket", "RESOLVED"),
    ):
        extra = {"resolution": "New seal fitted"} if name == "resolveTicket" else {}
        payload = await desk.ok(
            name,
            {"id": ticket["id"], "version": ticket["version"], **extra},
            f"ticket {{ {TICKET} }} {ERRORS}",
        )
        ticket = payload["ticket"]
        assert ticket["status"] == status

    # Hands the invoice on to a colleague found by name.
    colleagues = await desk.gql('{ ticketAssignees(search: "max") { id name active } }')
    [max_mate] = colleagues["ticketAssignees"]
    assert (max_mate["name"], max_mate["active"]) == ("Max Mate", True)
    invoice = day.tickets["invoice"]
    handed = await desk.ok(
        "transferTicket",
        {
            "id": invoice["id"],
            "version": invoice["version"],
            "assigneeId": max_mate["id"],
            "reason": "Max does the billing questions",
        },
        f"ticket {{ {TICKET} }} {ERRORS}",
    )
    assert handed["ticket"]["assignee"] == {"name": "Max Mate"}

    # Its own list, closed tickets left out.
    own = await desk.gql(
        """{ viewer { assignedTickets(filter: {priority: [HIGH, MEDIUM]}) {
          totalCount edges { node { subject status } }
        } } }"""
    )
    assigned = own["viewer"]["assignedTickets"]
    assert assigned["totalCount"] == 1
    assert [edge["node"] for edge in assigned["edges"]] == [
        {"subject": "Pump leaks", "status": "RESOLVED"}
    ]

    # A complaint the routing rule gave to Max: who works it, by name.
    complaints = await desk.gql(
        f"{{ tickets(filter: {{type: [COMPLAINT]}}) {{ edges {{ node {{ {TICKET} }} }} }} }}"
    )
    [fan] = [edge["node"] for edge in complaints["tickets"]["edges"]]
    assert (fan["subject"], fan["assignee"]) == ("Fan too loud", {"name": "Max Mate"})

    report("support representative", desk, 10)


# --- the sales representative --------------------------------------------------------------


async def test_a_sales_representatives_day(day: Day) -> None:
    rep = Counted(day.rep)
    now = day.clock()

    # The morning's open tasks: the re-engage task of the customer gone quiet among them.
    open_tasks = await rep.gql(
        """{ tasks(filter: {status: [OPEN]}) { edges { node {
          id version title type dueAt customer { id name stage }
        } } } }"""
    )
    listed = [edge["node"] for edge in open_tasks["tasks"]["edges"]]
    reengage = next(t for t in listed if t["title"].startswith("Re-engage Quiet Harbour Co"))
    assert reengage["customer"]["stage"] == "DORMANT"
    assert sorted(t["title"] for t in listed if t is not reengage) == [
        "Book the trade fair stand",
        "Call Hal back",
        "Renew contract",
        "Send the quote",
    ]

    # A new customer: the form's required fields, then a likely duplicate, then created.
    form = await rep.gql("{ customerFormSettings { requiredFields } }")
    assert form["customerFormSettings"]["requiredFields"] == []
    new = {"name": "Lakebrook", "email": "orders@lakebrook.de", "stage": "NEW"}
    selection = (
        f"customer {{ id name stage }} duplicates {{ reasons customer {{ name }} }} {ERRORS}"
    )
    refused = await rep.mutate("createCustomer", new, selection)
    assert refused["customer"] is None
    assert sorted((e["field"], e["code"]) for e in refused["errors"]) == [
        ("email", "DUPLICATE"),
        ("name", "DUPLICATE"),
    ]
    [duplicate] = refused["duplicates"]
    assert duplicate["customer"] == {"name": "Lakebrook GmbH"}
    assert sorted(duplicate["reasons"]) == ["SAME_EMAIL_DOMAIN", "SIMILAR_NAME"]
    created = await rep.ok("createCustomer", new | {"allowDuplicates": True}, selection)
    assert created["customer"]["name"] == "Lakebrook"

    # A call with the quiet customer: ACTIVE again, its re-engage task done.
    quiet = reengage["customer"]["id"]
    logged = await rep.ok(
        "logInteraction",
        {"customerId": quiet, "channel": "EMAIL", "summary": "They want a new offer"},
        f"interaction {{ customer {{ stage tasks {{ edges {{ node {{ title status }} }} }} }} }}"
        f" {ERRORS}",
    )
    revived = logged["interaction"]["customer"]
    assert revived["stage"] == "ACTIVE"
    assert [edge["node"]["status"] for edge in revived["tasks"]["edges"]] == ["DONE"]

    # Its timeline, emails only.
    timeline = await rep.gql(
        """query($id: ID!) { customer(id: $id) {
          interactions(filter: {channel: [EMAIL]}) { totalCount edges { node { summary } } }
        } }""",
        {"id": quiet},
    )
    emails = timeline["customer"]["interactions"]
    assert [edge["node"]["summary"] for edge in emails["edges"]] == ["They want a new offer"]

    # Moves the quote to tomorrow and calls Hal back.
    tomorrow = now + dt.timedelta(days=1)
    by_title = {t["title"]: t for t in listed}
    quote = by_title["Send the quote"]
    moved = await rep.ok(
        "rescheduleTask",
        {"id": quote["id"], "version": quote["version"], "dueAt": iso(tomorrow)},
        f"task {{ dueAt status }} {ERRORS}",
    )
    assert dt.datetime.fromisoformat(moved["task"]["dueAt"]) == tomorrow
    call = by_title["Call Hal back"]
    done = await rep.ok(
        "completeTask",
        {"id": call["id"], "version": call["version"]},
        f"task {{ status done }} {ERRORS}",
    )
    assert done["task"] == {"status": "DONE", "done": True}

    # What is still overdue.
    overdue = await rep.gql("{ tasks(filter: {overdue: true}) { edges { node { title } } } }")
    assert [edge["node"]["title"] for edge in overdue["tasks"]["edges"]] == ["Renew contract"]

    # The contacts as a spreadsheet: a sales representative holds no customers:export.
    response = await rep.get("/export/contacts.csv")
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["extensions"]["permission"] == "customers:export"

    report("sales representative", rep, 10)


# --- the sales manager ---------------------------------------------------------------------


async def test_a_sales_managers_day(day: Day) -> None:
    manager = Counted(day.manager)

    me = await manager.gql("{ viewer { name team { id name } } }")
    team = me["viewer"]["team"]
    assert team["name"] == "North"

    # What the team did lately.
    recent = await manager.gql(
        """query($team: ID!) { interactions(filter: {teamId: $team}, first: 10) {
          edges { node { summary channel author { name } customer { name } } }
        } }""",
        {"team": team["id"]},
    )
    assert [
        (edge["node"]["summary"], edge["node"]["author"]["name"])
        for edge in recent["interactions"]["edges"]
    ] == [
        ("Visited Northwind", "Sam Sales"),
        ("Sent Lakebrook the quote", "Rita Rep"),
        ("Called about the pumps", "Rita Rep"),
    ]

    # The team's customers' tickets by who works them, by name.
    stats = await manager.gql(
        """{ ticketStats(groupBy: [ASSIGNEE]) {
          assignee { name } total satisfaction { responses }
        } }"""
    )
    groups = {
        (group["assignee"] or {}).get("name"): group["total"] for group in stats["ticketStats"]
    }
    assert groups == {"Dana Desk": 2, "Max Mate": 1, None: 1}
    # The surveys plugin answers: no survey sent yet.
    assert [group["satisfaction"] for group in stats["ticketStats"]] == [{"responses": 0}] * 3

    # Rita is swamped: Harbour Ltd and its contract renewal go to Sam. A task goes only to
    # someone who may see its customer, and a representative sees their own customers: Sam
    # must own Harbour first (reassignTask alone is refused on assigneeId, BUSINESS_RULE).
    async with day.admin.db.read() as session:
        north = await session.scalar(select(Team.id).where(Team.name == "North"))
    assert team["id"] == gid("Team", north)
    ritas = await manager.gql(
        """query($rep: ID!) { tasks(filter: {assigneeId: $rep, status: [OPEN]}) {
          edges { node { id version title customer { id version name } } }
        } }""",
        {"rep": gid("User", day.rep.user_id)},
    )
    by_title = {edge["node"]["title"]: edge["node"] for edge in ritas["tasks"]["edges"]}
    # Rita's task without a customer is in the manager's reach (the team) too: handed on.
    fair = by_title["Book the trade fair stand"]
    assert fair["customer"] is None
    fair_handed = await manager.ok(
        "reassignTask",
        {"id": fair["id"], "version": fair["version"], "assigneeId": gid("User", day.rep2.user_id)},
        f"task {{ title assignee {{ name }} }} {ERRORS}",
    )
    assert fair_handed["task"] == {
        "title": "Book the trade fair stand",
        "assignee": {"name": "Sam Sales"},
    }
    renew = by_title["Renew contract"]
    sam = gid("User", day.rep2.user_id)
    moved = await manager.ok(
        "updateCustomer",
        {"id": renew["customer"]["id"], "version": renew["customer"]["version"], "ownerId": sam},
        f"customer {{ name owner {{ name }} }} {ERRORS}",
    )
    assert moved["customer"] == {"name": "Harbour Ltd", "owner": {"name": "Sam Sales"}}
    handed = await manager.ok(
        "reassignTask",
        {"id": renew["id"], "version": renew["version"], "assigneeId": sam},
        f"task {{ title assignee {{ name }} }} {ERRORS}",
    )
    assert handed["task"] == {"title": "Renew contract", "assignee": {"name": "Sam Sales"}}

    # How the desk works: routing rules and SLA policies.
    desk = await manager.gql(
        """{ ticketRoutingRules { type strategy users { name } }
             ticketSlaPolicies { priority grade firstResponseMinutes }
             ticketBusinessHours { timeZone } }"""
    )
    assert desk["ticketRoutingRules"] == [
        {"type": "COMPLAINT", "strategy": "LEAST_OPEN", "users": [{"name": "Max Mate"}]}
    ]
    assert desk["ticketBusinessHours"] is None  # no calendar: every hour counts
    assert {"priority": "HIGH", "grade": "GOLD", "firstResponseMinutes": 30} in desk[
        "ticketSlaPolicies"
    ]

    # Lakebrook's profile for the meeting.
    response = await manager.get(f"/export/customers/{day.customers['lake']}.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("Lakebrook GmbH", "Lena Lake", "Sent Lakebrook the quote", "Pump leaks"):
        assert expected in text, expected

    report("sales manager", manager, 9)
